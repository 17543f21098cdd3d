"""Loading scenarios: presets, TOML files, ``extends`` chains and ``--set`` overrides.

Everything a user writes is validated against the declarations in
:mod:`boneflare.simulator.scenarios.schema`; a mistake raises :class:`ScenarioError` with one line
that names the field, the bad value and what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from boneflare.simulator.errors import ScenarioError
from boneflare.simulator.scenarios.params import spec_of
from boneflare.simulator.scenarios.schema import Scenario

META_KEYS = ("name", "description", "extends")
"""Top-level keys of a scenario file that are not model parameters."""


def preset_names() -> list[str]:
    """Return the names of the presets shipped with the package, sorted."""
    folder = resources.files("boneflare.simulator.scenarios") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _preset_text(name: str) -> str:
    path = resources.files("boneflare.simulator.scenarios") / "presets" / f"{name}.toml"
    if not path.is_file():
        raise ScenarioError(
            f"unknown scenario {name!r}: known presets are {', '.join(preset_names())} "
            "(or give the path of a .toml file)"
        )
    return path.read_text(encoding="utf-8")


def _parse_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{origin} is not valid TOML: {exc}") from None


def _read_source(name_or_path: str | Path) -> tuple[dict[str, Any], str]:
    """Return the raw TOML table of a preset name or a file path, and a label for messages."""
    text_name = str(name_or_path)
    if text_name.endswith(".toml") or "/" in text_name or isinstance(name_or_path, Path):
        path = Path(name_or_path)
        if not path.is_file():
            raise ScenarioError(f"scenario file {text_name} does not exist")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"cannot read scenario file {text_name}: {exc}") from None
        return _parse_toml(text, f"scenario file {text_name}"), text_name
    return _parse_toml(_preset_text(text_name), f"preset {text_name!r}"), text_name


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``top`` into a copy of ``base`` (tables merge, values replace)."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve_raw(name_or_path: str | Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    raw, label = _read_source(name_or_path)
    if not isinstance(raw.get("extends", ""), str):
        raise ScenarioError(f"{label}: 'extends' must be the name of a preset or a file path")
    parent = raw.get("extends")
    name = raw.get("name", Path(label).stem if label.endswith(".toml") else label)
    description = raw.get("description", f"Variant of {parent}." if parent else "")
    if parent:
        if parent in seen or parent == label:
            raise ScenarioError(f"{label}: 'extends' makes a cycle through {parent!r}")
        base = _resolve_raw(parent, (*seen, label))
        base.pop("extends", None)
        raw = _merge(base, raw)
    raw["name"], raw["description"] = name, description
    return raw


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse ``"section.field=value"`` into a key path and a TOML-typed value.

    The value is read as TOML (``84``, ``0.5``, ``true``, ``"x"``); a bare word that is
    not valid TOML is taken as a string, so ``cohort.design=paper57`` works unquoted.
    """
    if "=" not in text:
        raise ScenarioError(f"override {text!r} must look like section.field=value")
    key, _, value_text = text.partition("=")
    path = [part.strip() for part in key.strip().split(".")]
    if not all(path):
        raise ScenarioError(f"override {text!r} has an empty name in {key.strip()!r}")
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    return path, value


def apply_overrides(
    raw: dict[str, Any], overrides: Iterable[str] | Mapping[str, Any]
) -> dict[str, Any]:
    """Set dotted parameters in a raw (unvalidated) scenario mapping; return it."""
    items = (
        [(k.split("."), v) for k, v in overrides.items()]
        if isinstance(overrides, Mapping)
        else [parse_override(o) for o in overrides]
    )
    for path, value in items:
        node = raw
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ScenarioError(f"override {'.'.join(path)}: {part!r} is not a section")
            node = child
        node[path[-1]] = value
    return raw


def _check_value(dotted: str, value: Any, spec) -> Any:
    shown = repr(value)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(f"{dotted} = {shown} has the wrong type: allowed is true or false")
        return value
    if spec.kind == "choice":
        if not isinstance(value, str) or value not in spec.choices:
            raise ScenarioError(f"{dotted} = {shown} is not allowed: allowed is {spec.allowed()}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{dotted} = {shown} has the wrong type: allowed is {spec.allowed()}")
    if spec.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise ScenarioError(
                    f"{dotted} = {shown} has the wrong type: allowed is {spec.allowed()}"
                )
            value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ScenarioError(f"{dotted} = {shown} is not finite: allowed is {spec.allowed()}")
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise ScenarioError(f"{dotted} = {shown} is out of range: allowed is {spec.allowed()}")
    return value


def _build(cls: type, raw: Mapping[str, Any], prefix: str) -> Any:
    if not isinstance(raw, Mapping):
        where = prefix.rstrip(".") or "scenario"
        raise ScenarioError(f"{where} must be a table of parameters, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields) - (set(META_KEYS) if not prefix else set()), key=str)
    if unknown:
        allowed = ", ".join(sorted(n for n in fields if n not in META_KEYS))
        first = unknown[0]
        name = first if isinstance(first, str) and first.isidentifier() else repr(first)
        raise ScenarioError(
            f"unknown field {prefix}{name}: allowed in {prefix.rstrip('.') or 'scenario'}"
            f" are {allowed}"
        )
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in raw:
            continue
        spec = spec_of(f)
        dotted = f"{prefix}{name}"
        if spec is not None:
            kwargs[name] = _check_value(dotted, raw[name], spec)
        elif dataclasses.is_dataclass(f.default_factory):  # a nested section
            kwargs[name] = _build(f.default_factory, raw[name], dotted + ".")
        else:  # name / description
            if not isinstance(raw[name], str):
                raise ScenarioError(f"{dotted} = {raw[name]!r} must be a string")
            kwargs[name] = raw[name]
    return cls(**kwargs)


def _check_consistency(s: Scenario) -> None:
    """Cross-field rules that a single range cannot express."""
    c = s.cohort
    if c.age_min_years >= c.age_max_years:
        raise ScenarioError(
            f"cohort.age_min_years = {c.age_min_years:g} must be below "
            f"cohort.age_max_years = {c.age_max_years:g}"
        )
    if c.lytic_fraction + c.blastic_fraction > 1.0 + 1e-12:
        raise ScenarioError(
            "cohort.lytic_fraction + cohort.blastic_fraction = "
            f"{c.lytic_fraction + c.blastic_fraction:g} must be at most 1"
        )
    if s.bone.progression_lytic + s.bone.progression_sclerotic > 1.0 + 1e-12:
        raise ScenarioError("bone.progression_lytic + bone.progression_sclerotic must be at most 1")
    mix = c.arm_mix
    if c.arm_assignment == "by_egfr" and mix.bev_tc + mix.pd1_pc + mix.pc <= 0:
        raise ScenarioError("cohort.arm_mix: at least one EGFR-negative arm needs a weight > 0")
    spread = s.ct.jitter_max_days - s.ct.jitter_min_days
    if spread >= s.ct.interval_days:
        raise ScenarioError(
            f"ct.jitter_max_days - ct.jitter_min_days = {spread} must be below "
            f"ct.interval_days = {s.ct.interval_days} so that scans stay in order"
        )


def scenario_from_dict(raw: Mapping[str, Any]) -> Scenario:
    """Validate a plain nested mapping (as read from TOML) and return a :class:`Scenario`."""
    scenario = _build(Scenario, dict(raw), "")
    _check_consistency(scenario)
    return scenario


def load_scenario(
    name_or_path: str | Path = "paper",
    overrides: Iterable[str] | Mapping[str, Any] = (),
) -> Scenario:
    """Load a preset (by name) or a TOML file, apply overrides, and validate.

    Parameters
    ----------
    name_or_path : str or Path
        A preset name (see :func:`preset_names`) or the path of a ``.toml`` file. A file
        may start from another with ``extends = "paper"``.
    overrides : iterable of str or mapping
        ``"section.field=value"`` strings (as given to ``--set``) or a mapping from dotted
        names to values.

    Raises
    ------
    ScenarioError
        On an unknown name, malformed TOML, unknown field, wrong type or value.

    """
    raw = _resolve_raw(name_or_path)
    raw.pop("extends", None)
    raw = apply_overrides(raw, overrides)
    return scenario_from_dict(raw)


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Return the scenario as a plain nested dict (the resolved form ``scenarios show`` prints)."""
    return dataclasses.asdict(scenario)


def scenario_hash(scenario: Scenario) -> str:
    """Return a short stable hash of the scenario's parameters (its name and text excluded)."""
    data = scenario_to_dict(scenario)
    data.pop("name")
    data.pop("description")
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def dumps_toml(scenario: Scenario) -> str:
    """Write a scenario as TOML text that :func:`load_scenario` reads back to the same value."""
    data = scenario_to_dict(scenario)
    lines = [
        f"name = {json.dumps(data.pop('name'))}",
        f"description = {json.dumps(data.pop('description'))}",
    ]

    def scalar(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        return repr(v)

    def emit(prefix: str, table: dict[str, Any]) -> None:
        plain = {k: v for k, v in table.items() if not isinstance(v, dict)}
        nested = {k: v for k, v in table.items() if isinstance(v, dict)}
        if prefix and plain:
            lines.append("")
            lines.append(f"[{prefix}]")
        for k, v in plain.items():
            lines.append(f"{k} = {scalar(v)}")
        for k, v in nested.items():
            emit(f"{prefix}.{k}" if prefix else k, v)

    emit("", data)
    return "\n".join(lines) + "\n"
