"""Every hypothesis strategy of the test suite, in one place."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from simulator.scenarios.params import spec_of
from simulator.scenarios.schema import ARMS, Scenario

seeds = st.integers(min_value=0, max_value=2**32 - 1)
"""Any valid seed."""

# Parameters varied in simulation properties, with ranges that keep runs small and fast.
_SIMULATION_KNOBS = {
    "horizon_days": st.integers(30, 400),
    "ct.interval_days": st.integers(21, 100),
    "labs.interval_days": st.integers(7, 42),
    "labs.missed_fraction": st.floats(0.0, 0.6),
    "labs.noise": st.floats(0.0, 5.0),
    "labs.delay_fraction": st.floats(0.0, 1.0),
    "cohort.design": st.sampled_from(["population", "paper57"]),
    "cohort.arm_assignment": st.sampled_from(["by_egfr", *ARMS]),
    "cohort.stage_iv_fraction": st.floats(0.0, 1.0),
    "cohort.bone_mets_given_stage_iv": st.floats(0.0, 1.0),
    "flare.enabled": st.booleans(),
    "flare.propensity": st.floats(0.0, 1.0),
    "flare.ct_sensitivity": st.floats(0.0, 1.0),
    "bone.ct_sensitivity_progression": st.floats(0.0, 1.0),
    "dropout.hazard_per_day": st.floats(0.0, 0.02),
    "dropout.hazard_after_progression_per_day": st.floats(0.0, 0.05),
    "arms.bev_tc.decay_median_per_day": st.floats(0.0, 0.05),
    "arms.egfr_tki.growth_median_per_day": st.floats(1e-4, 0.02),
    "alp.healing_surge_ratio": st.floats(0.0, 3.0),
    "calcium.bone_coef_mmol_per_l": st.floats(-0.2, 0.2),
}


@st.composite
def simulation_overrides(draw) -> dict:
    """A few valid overrides of the paper scenario, as a dotted-name mapping."""
    names = draw(st.lists(st.sampled_from(sorted(_SIMULATION_KNOBS)), max_size=6, unique=True))
    return {name: draw(_SIMULATION_KNOBS[name]) for name in names}


def _leaves(cls: type, prefix: str = ""):
    for f in dataclasses.fields(cls):
        spec = spec_of(f)
        if spec is not None:
            yield prefix + f.name, spec
        elif dataclasses.is_dataclass(f.default_factory):
            yield from _leaves(f.default_factory, prefix + f.name + ".")


SCENARIO_PARAMETERS = dict(_leaves(Scenario))
"""Every scenario parameter by dotted name, with its spec."""

_any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


@st.composite
def raw_scenarios(draw) -> dict:
    """Nested mappings of the shape of a scenario file: valid names, any values, typos."""
    raw: dict = {}
    names = draw(st.lists(st.sampled_from(sorted(SCENARIO_PARAMETERS)), max_size=5, unique=True))
    for name in names:
        *path, leaf = name.split(".")
        node = raw
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = draw(_any_value)
    if draw(st.booleans()):
        raw[draw(st.text(min_size=1, max_size=6))] = draw(_any_value)
    if draw(st.booleans()):
        section = draw(st.sampled_from(["cohort", "ct", "labs", "flare", "arms"]))
        raw[section] = draw(
            st.one_of(_any_value, st.dictionaries(st.text(max_size=6), _any_value, max_size=3))
        )
    return raw


@st.composite
def valid_parameter_values(draw) -> tuple[str, object]:
    """One parameter and a value inside its declared range."""
    name = draw(st.sampled_from(sorted(SCENARIO_PARAMETERS)))
    spec = SCENARIO_PARAMETERS[name]
    if spec.kind == "bool":
        return name, draw(st.booleans())
    if spec.kind == "choice":
        return name, draw(st.sampled_from(spec.choices))
    if spec.kind == "int":
        return name, draw(st.integers(int(spec.low), int(spec.high)))
    return name, draw(st.floats(spec.low, spec.high))
