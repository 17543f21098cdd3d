"""Scenarios: the validated parameter sets of the model, shipped presets and overrides."""

from boneflare.simulator.scenarios.loader import (
    dumps_toml,
    load_scenario,
    parse_override,
    preset_names,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
)
from boneflare.simulator.scenarios.schema import ARMS, Scenario

__all__ = [
    "ARMS",
    "Scenario",
    "dumps_toml",
    "load_scenario",
    "parse_override",
    "preset_names",
    "scenario_from_dict",
    "scenario_hash",
    "scenario_to_dict",
]
