"""Whole trajectories as features: ALP on a day grid, soft tissue and bone per scan.

:func:`extract_features` summarises a history in a few numbers; a flexible model can use
the whole path instead (the Bayes oracle does). :func:`trajectory_features` gives, per
episode, the ALP as % of baseline carried forward to every point of a 21-day grid, and
the soft-tissue % change and bone reading at every scan index, NaN where the history has
not reached that point yet (or has no value there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from boneflare.classifiers._series import EpisodeSeries
from boneflare.classifiers.features import _is
from boneflare.simulator.observed import ObservedBatch

LAB_GRID_DAYS = 21
"""Spacing of the ALP grid: one 21-day treatment cycle (Shi 2021, 1.2)."""

BONE_CODES = {"better": -1.0, "stable": 0.0, "worse": 1.0}
"""Numeric code of a follow-up bone reading (baseline and 'none' are NaN)."""


def _codes(column: pd.Series, codes: dict[str, float]) -> np.ndarray:
    """The code of each entry of a categorical or string column (NaN where it has none)."""
    out = np.full(len(column), np.nan)
    for value, code in codes.items():
        out[_is(column, value)] = code
    return out


def trajectory_columns(n_lab_points: int, n_scans: int) -> list[str]:
    """Return the column names of :func:`trajectory_features` for these sizes."""
    alp = [f"alp_pct_day_{LAB_GRID_DAYS * (i + 1)}" for i in range(n_lab_points)]
    sld = [f"sld_pct_scan_{k}" for k in range(1, n_scans + 1)]
    bone = [f"bone_scan_{k}" for k in range(1, n_scans + 1)]
    return alp + sld + bone


def trajectory_features(batch: ObservedBatch, n_lab_points: int, n_scans: int) -> pd.DataFrame:
    """Return the trajectories of every episode, one row per episode in batch order.

    Parameters
    ----------
    batch : ObservedBatch
        Observed histories (episode ids must be unique).
    n_lab_points : int
        ALP grid points: days 21, 42, ..., ``21 * n_lab_points``.
    n_scans : int
        Follow-up scans 1 .. ``n_scans``.

    Returns
    -------
    DataFrame
        Columns :func:`trajectory_columns`: ``alp_pct_day_<d>`` (latest ALP on or before
        day ``d`` as % of the first, NaN after the decision day), ``sld_pct_scan_<k>``
        (soft-tissue % change from baseline at scan ``k``) and ``bone_scan_<k>``
        (:data:`BONE_CODES`).

    """
    index = pd.Index(batch.episodes["episode_id"].to_numpy())
    n = len(index)
    decision = batch.episodes["day"].to_numpy(dtype=float)
    labs = batch.labs[_is(batch.labs["analyte"], "alp")]
    alp = EpisodeSeries.build(index, labs)
    value = alp.values(labs["value"])
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * value / alp.per_row(alp.first(value))
    grid = LAB_GRID_DAYS * np.arange(1.0, n_lab_points + 1.0)
    at = np.where(decision[:, None] >= grid, grid, np.nan)
    alp_grid = alp.locf(pct, at)

    scans = batch.scans
    s = EpisodeSeries.build(index, scans, tiebreak="scan_index")
    k = s.values(scans["scan_index"]).astype(np.int64)
    sld = s.values(scans["sld_mm"])
    with np.errstate(divide="ignore", invalid="ignore"):
        sld_pct = 100.0 * (sld - s.per_row(s.first(sld))) / s.per_row(s.first(sld))
    reading = _codes(scans["bone_reading"], BONE_CODES)
    bone = s.values(reading)
    keep = (k >= 1) & (k <= n_scans)
    sld_grid = np.full((n, n_scans), np.nan)
    bone_grid = np.full((n, n_scans), np.nan)
    sld_grid[s.pos[keep], k[keep] - 1] = sld_pct[keep]
    bone_grid[s.pos[keep], k[keep] - 1] = bone[keep]
    return pd.DataFrame(
        np.hstack([alp_grid, sld_grid, bone_grid]),
        columns=trajectory_columns(n_lab_points, n_scans),
    )
