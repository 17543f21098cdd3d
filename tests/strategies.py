"""Every hypothesis strategy of the test suite, in one place."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from boneflare.simulator.scenarios.params import spec_of
from boneflare.simulator.scenarios.schema import ARMS, Scenario

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
    "bone.progression_reaction": st.floats(0.0, 1.0),
    "bone.progression_keeps_character": st.floats(0.0, 1.0),
    "flare.controlled_min_days": st.floats(0.0, 200.0),
    "flare.onset_median_days": st.floats(1.0, 300.0),
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


# ---------------------------------------------------------------- observed histories
# Hand-made observed histories for classifier tests: one patient per history, cut at
# its decision day by the real boneflare.simulator.observed.build_batch.

PATIENT_DEFAULTS = {
    "sex": "F",
    "age": 62,
    "stage": "IV",
    "egfr_positive": False,
    "arm": "bev_tc",
    "bone_mets": True,
    "bone_lesion_character": "lytic",
}
"""Baseline facts of a hand-made history unless it says otherwise."""


def scan(day, sld_mm, recist="SD", bone="stable", look="lytic", new_lesion=False) -> dict:
    """One CT reading of a hand-made history."""
    return {
        "day": day,
        "sld_mm": float(sld_mm),
        "recist_response": recist,
        "bone_reading": bone,
        "lesion_look": look,
        "new_lesion": bool(new_lesion),
    }


def history_batch(histories, decision_scans=None):
    """An ObservedBatch of hand-made histories (mappings), one patient each.

    A history has ``scans`` (list of :func:`scan`, the first at baseline), optional
    ``alp`` and ``calcium`` lists of ``(day, value)`` and optional ``patient`` facts.
    The episode is at the last scan, or at ``decision_scans[i]`` when given; anything
    dated later is in the tables but cut by ``build_batch``.
    """
    import pandas as pd

    from boneflare.simulator.observed import SCAN_COLUMNS, build_batch

    patients, labs, scans, episodes = [], [], [], []
    for pid, h in enumerate(histories):
        patients.append({"patient_id": pid, **PATIENT_DEFAULTS, **h.get("patient", {})})
        for analyte in ("alp", "calcium"):
            for day, value in h.get(analyte, ()):
                labs.append({"patient_id": pid, "day": day, "analyte": analyte, "value": value})
        for k, reading in enumerate(h["scans"]):
            scans.append({"patient_id": pid, "scan_index": k, **reading})
        k = len(h["scans"]) - 1 if decision_scans is None else decision_scans[pid]
        day = h["scans"][k]["day"]
        episodes.append(
            {"episode_id": pid * 1024 + k, "patient_id": pid, "day": day, "scan_index": k}
        )
    lab_columns = ["patient_id", "day", "analyte", "value"]
    scan_columns = ["patient_id", *SCAN_COLUMNS[1:]]
    return build_batch(
        pd.DataFrame(episodes, columns=["episode_id", "patient_id", "day", "scan_index"]),
        pd.DataFrame(patients, columns=["patient_id", *PATIENT_DEFAULTS]),
        pd.DataFrame(labs, columns=lab_columns).astype({"day": "int64", "value": "float64"}),
        pd.DataFrame(scans, columns=scan_columns),
    )


@st.composite
def observed_histories(draw, max_episodes: int = 5):
    """Hand-made histories with irregular visits, missed labs and any readings."""
    histories = []
    for _ in range(draw(st.integers(0, max_episodes))):
        gaps = draw(st.lists(st.integers(1, 80), min_size=1, max_size=7))
        days = [0]
        for gap in gaps:
            days.append(days[-1] + gap)
        scans = [
            scan(
                day,
                draw(st.integers(0, 200)),  # measured sums are whole mm
                recist="baseline" if k == 0 else draw(st.sampled_from(["CR", "PR", "SD", "PD"])),
                bone="baseline" if k == 0 else draw(st.sampled_from(["stable", "better", "worse"])),
                look=draw(st.sampled_from(["none", "lytic", "sclerotic", "mixed"])),
                new_lesion=draw(st.booleans()),
            )
            for k, day in enumerate(days)
        ]
        horizon = days[-1] + 60
        alp = draw(
            st.lists(
                st.tuples(st.integers(0, horizon), st.floats(20.0, 800.0)),
                max_size=8,
                unique_by=lambda t: t[0],
            )
        )
        calcium = [(day, draw(st.floats(1.5, 3.0))) for day, _ in alp]
        patient = {"bone_mets": draw(st.booleans()), "arm": draw(st.sampled_from(ARMS))}
        histories.append({"scans": scans, "alp": alp, "calcium": calcium, "patient": patient})
    return histories


# Benchmark harness: coordinates of derived seeds.
seed_purposes = st.sampled_from(["test", "train", "fit"])
"""Purpose tags of :func:`boneflare.benchmarks.harness.seeds.derive_seed`."""

seed_coordinates = st.text(max_size=8)
"""A scenario hash or classifier name (any short text)."""

replicate_numbers = st.integers(min_value=0, max_value=999)
"""A replicate number."""
