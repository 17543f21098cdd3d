"""The simulation engines by name (:data:`ENGINES`); ``batched`` is the default."""

from boneflare.simulator.engine.batched import run_batched
from boneflare.simulator.engine.reference import run_reference

ENGINES = {"batched": run_batched, "reference": run_reference}
"""Engines by name, in the order of :data:`boneflare.simulator.choices.ENGINE_NAMES`."""
