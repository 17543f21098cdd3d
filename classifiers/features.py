"""Engineered features of an episode's observed history, one row per episode.

:func:`extract_features` turns an :class:`~boneflare.simulator.observed.ObservedBatch` into a
numeric table (one row per episode, in batch order; columns :data:`FEATURES`) that
rules and learned classifiers share. Everything is computed from the batch alone, so
from data dated on or before each decision day (the batch refuses anything later);
baseline-relative features use the first value in the history (day 0 in simulated
cohorts). Missing information (no labs, a single ALP value, no earlier scan) gives NaN,
never a guess: learned classifiers impute or handle NaN themselves.

The work is vectorised over the long lab and scan tables (numpy ``bincount`` and
``reduceat`` over rows sorted by episode), so 10,000 episodes take a fraction of a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from boneflare.classifiers._series import EpisodeSeries
from boneflare.simulator.observed import (
    ARMS,
    CHARACTER_NAMES,
    LOOK_NAMES,
    RECIST_RESPONSES,
    ObservedBatch,
)

SLOPE_UNIT_DAYS = 30.0
"""Slopes are per 30 days (about a month), the unit of the paper's Figure 1 axis."""

RECENT_WINDOW_DAYS = 63
"""'Recent' ALP slope: the last three 21-day treatment cycles (labs before each cycle,
Shi 2021, 1.2; docs/model.md, section Visits and missing data)."""

CHARACTERS = CHARACTER_NAMES[1:]
"""Baseline bone-lesion characters (``patients.bone_lesion_character``; 'none' is all 0)."""

RESPONSES = RECIST_RESPONSES
"""RECIST 1.1 visit responses (``scans.recist_response``)."""

LOOKS = LOOK_NAMES[1:]
"""Lesion looks on a CT (``scans.lesion_look``; 'none' is all 0)."""

FEATURES: dict[str, str] = {
    "age": "age at the first dose (years)",
    "female": "1 for a woman",
    "stage_iv": "1 for stage IV (0: IIIB)",
    "egfr_positive": "1 with an EGFR-sensitising mutation",
    "bone_mets": "1 with bone metastases known at baseline",
    **{f"arm_{a}": f"1 on arm {a}" for a in ARMS},
    **{f"character_{c}": f"1 when the baseline bone lesions look {c}" for c in CHARACTERS},
    "days_on_treatment": "decision day: days since the first dose",
    "scan_index": "index of the decision CT (1: first follow-up scan)",
    "alp_baseline": "first ALP value (U/L); reference range 45-125",
    "alp_pct_baseline": "latest ALP as % of the first (100: unchanged; Figure 1's axis)",
    "alp_peak_pct": "highest ALP so far, % of the first (a transient surge: Figure 7)",
    "alp_nadir_pct": "lowest ALP so far, % of the first",
    "alp_slope": "least-squares slope of ALP % of baseline, per 30 days, all values",
    "alp_recent_slope": "the same slope over the last 63 days (three cycles) only",
    "alp_count": "number of ALP values so far",
    "alp_days_since_last": "days from the latest ALP draw to the decision day",
    "calcium_change": "latest minus first calcium (mmol/L)",
    "calcium_pct_baseline": "latest calcium as % of the first",
    "sld_pct_baseline": "soft-tissue sum of diameters at the decision CT, % change from "
    "baseline (RECIST PR at <= -30)",
    "sld_pct_nadir": "% change of the sum over the smallest earlier sum (RECIST PD at >= 20 "
    "and >= 5 mm; NaN when the nadir is 0)",
    "sld_mm_nadir": "change of the sum over the smallest earlier sum (mm)",
    **{
        f"recist_{r.lower()}": f"1 when the decision CT's RECIST visit response is {r}"
        for r in RESPONSES
    },
    "new_lesion": "1 with an unequivocal new soft-tissue lesion on the decision CT",
    "ever_responded": "1 when any CT so far (decision CT included) read PR or CR",
    **{f"look_{k}": f"1 when the decision CT shows {k} bone lesions" for k in LOOKS},
    "look_changed": "1 when the lesion look differs from the baseline CT's",
    "prior_worse": "number of earlier 'worse' bone readings",
    "prior_better": "number of earlier 'better' bone readings",
    "days_since_first_worse": "days since the first 'worse' bone reading (0: this is it)",
}
"""Every feature, by column name, with its meaning and unit."""


def _is(column: pd.Series, value: str) -> np.ndarray:
    """Whether each entry of a categorical or string column equals ``value``.

    A categorical column is compared on its integer codes (the observed tables'
    categories), which is many times faster than comparing strings.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        categorical = column.array
        categories = categorical.categories.tolist()
        if value not in categories:
            return np.zeros(len(column), dtype=bool)
        return categorical.codes == categories.index(value)
    return np.asarray(column.to_numpy(dtype=object) == value, dtype=bool)


def _baseline_features(batch: ObservedBatch) -> dict[str, np.ndarray]:
    p = batch.patients
    out = {
        "age": p["age"].to_numpy(dtype=float),
        "female": _is(p["sex"], "F").astype(float),
        "stage_iv": _is(p["stage"], "IV").astype(float),
        "egfr_positive": p["egfr_positive"].to_numpy(dtype=float),
        "bone_mets": p["bone_mets"].to_numpy(dtype=float),
    }
    out.update({f"arm_{a}": _is(p["arm"], a).astype(float) for a in ARMS})
    character = p["bone_lesion_character"]
    out.update({f"character_{c}": _is(character, c).astype(float) for c in CHARACTERS})
    out["days_on_treatment"] = batch.episodes["day"].to_numpy(dtype=float)
    out["scan_index"] = batch.episodes["scan_index"].to_numpy(dtype=float)
    return out


def _lab_features(batch: ObservedBatch, index: pd.Index) -> dict[str, np.ndarray]:
    labs = batch.labs
    decision = batch.episodes["day"].to_numpy(dtype=float)
    alp_rows = labs[_is(labs["analyte"], "alp")]
    alp = EpisodeSeries.build(index, alp_rows)
    value = alp.values(alp_rows["value"])
    base = alp.first(value)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * value / alp.per_row(base)
    x = alp.day / SLOPE_UNIT_DAYS
    recent = alp.day >= alp.per_row(decision) - RECENT_WINDOW_DAYS
    ca_rows = labs[_is(labs["analyte"], "calcium")]
    ca = EpisodeSeries.build(index, ca_rows)
    ca_value = ca.values(ca_rows["value"])
    ca_first, ca_last = ca.first(ca_value), ca.last(ca_value)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "alp_baseline": base,
            "alp_pct_baseline": alp.last(pct),
            "alp_peak_pct": alp.reduce(np.fmax, pct),
            "alp_nadir_pct": alp.reduce(np.fmin, pct),
            "alp_slope": alp.slope(x, pct),
            "alp_recent_slope": alp.slope(x, pct, recent),
            "alp_count": alp.count.astype(float),
            "alp_days_since_last": decision - alp.last(alp.day),
            "calcium_change": ca_last - ca_first,
            "calcium_pct_baseline": 100.0 * ca_last / ca_first,
        }


def _scan_features(batch: ObservedBatch, index: pd.Index) -> dict[str, np.ndarray]:
    scans = batch.scans
    s = EpisodeSeries.build(index, scans, tiebreak="scan_index")
    sld = s.values(scans["sld_mm"])
    current = s.last(sld)
    baseline = s.first(sld)
    is_last = np.zeros(s.pos.shape, dtype=bool)
    has = s.count > 0
    is_last[s.stop[has] - 1] = True
    nadir = s.reduce(np.fmin, sld, ~is_last)
    reading = scans["bone_reading"]
    worse = s.values(_is(reading, "worse"))
    better = s.values(_is(reading, "better"))
    response = scans["recist_response"]
    responded = s.values(_is(response, "PR") | _is(response, "CR"))
    look = scans["lesion_look"]
    look_code = s.values(np.select([_is(look, k) for k in LOOKS], [1, 2, 3], 0))
    first_worse_day = s.reduce(np.fmin, s.day, worse > 0)
    decision = batch.episodes["day"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "sld_pct_baseline": np.where(
                baseline > 0, 100.0 * (current - baseline) / baseline, np.nan
            ),
            "sld_pct_nadir": np.where(nadir > 0, 100.0 * (current - nadir) / nadir, np.nan),
            "sld_mm_nadir": current - nadir,
        }
    for r in RESPONSES:
        out[f"recist_{r.lower()}"] = np.nan_to_num(s.last(s.values(_is(response, r))))
    out["new_lesion"] = np.nan_to_num(s.last(s.values(scans["new_lesion"].to_numpy(dtype=float))))
    out["ever_responded"] = np.nan_to_num(s.reduce(np.fmax, responded))
    current_look = s.last(look_code)
    for code, k in enumerate(LOOKS, start=1):
        out[f"look_{k}"] = (current_look == code).astype(float)
    out["look_changed"] = np.where(has, (current_look != s.first(look_code)).astype(float), np.nan)
    out["prior_worse"] = s.total(worse * ~is_last)
    out["prior_better"] = s.total(better * ~is_last)
    out["days_since_first_worse"] = decision - np.where(
        np.isnan(first_worse_day), decision, first_worse_day
    )
    return out


def extract_features(batch: ObservedBatch) -> pd.DataFrame:
    """Return the engineered features of every episode (see :data:`FEATURES`).

    The table is computed once per batch and kept with it (a batch's frames are
    read-only by contract): later calls return a copy of it, and so does a copy of the
    batch pickled after the first call. The benchmark computes it once per cohort,
    before the batch goes to each classifier's guarded child, so classifiers that
    share these features do not each rebuild them.

    Parameters
    ----------
    batch : ObservedBatch
        Observed histories; any order, repeated episodes allowed.

    Returns
    -------
    DataFrame
        One row per episode, in batch order (a fresh ``RangeIndex``), float columns in
        the order of :data:`FEATURES`; the caller's own copy.

    Examples
    --------
    >>> from boneflare.simulator import load_scenario, simulate
    >>> from boneflare.simulator.observed import build_batch
    >>> t = simulate(load_scenario("paper"), 200, seed=1)
    >>> batch = build_batch(t.episodes, t.patients, t.labs, t.scans)
    >>> table = extract_features(batch)
    >>> table.shape == (len(batch), len(FEATURES))
    True

    """
    return batch.remembered("features", _feature_table).copy()


def _feature_table(batch: ObservedBatch) -> pd.DataFrame:
    ids = batch.episodes["episode_id"].to_numpy()
    index = pd.Index(ids)
    if index.has_duplicates:
        first = ~index.duplicated()
        table = _feature_table(batch.take(np.flatnonzero(first)))
        return table.iloc[pd.Index(ids[first]).get_indexer(ids)].reset_index(drop=True)
    columns = _baseline_features(batch)
    columns.update(_lab_features(batch, index))
    columns.update(_scan_features(batch, index))
    return pd.DataFrame({name: np.asarray(columns[name], dtype=float) for name in FEATURES})
