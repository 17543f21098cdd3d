"""What a stop does to a patient: days of effective treatment lost, and delay.

A 'stop' ends first-line follow-up at that CT (docs/design.md, "What a stop does").
Its consequences are counted against the patient's hidden course. Both the
simulator's ``truth`` table (closed loop) and the benchmark's inferred stops (open
loop, :mod:`boneflare.benchmarks.harness.consequences`) compute them here.
"""

from __future__ import annotations

import numpy as np


def follow_up_ends(
    progression_day: np.ndarray, dropout_day: np.ndarray, horizon_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """End of follow-up, and end of effective treatment, per patient.

    Parameters
    ----------
    progression_day : ndarray of float
        True progression on continued treatment (inf: none).
    dropout_day : ndarray of float
        Day the patient leaves follow-up (inf: never within reach).
    horizon_days : float
        The scenario's follow-up horizon.

    Returns
    -------
    end : ndarray of float
        ``min(dropout_day, horizon_days)``.
    effective_end : ndarray of float
        ``min(progression_day, end)``: treatment is effective until then.

    """
    end = np.minimum(np.asarray(dropout_day, dtype=np.float64), float(horizon_days))
    return end, np.minimum(np.asarray(progression_day, dtype=np.float64), end)


def stop_consequences(
    stop_day: np.ndarray, end: np.ndarray, effective_end: np.ndarray, first_progression: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Days of effective treatment lost to a stop, and the delay in acting on progression.

    Parameters
    ----------
    stop_day : ndarray of float
        Day treatment was stopped (NaN: never).
    end, effective_end : ndarray of float
        As :func:`follow_up_ends` returns them.
    first_progression : ndarray of float
        Day of the first episode that is true progression (NaN: none).

    Returns
    -------
    lost : ndarray of float
        ``max(0, effective_end - stop_day)``; NaN where never stopped.
    delay : ndarray of float
        Progression is acted on at the stop, or at ``end`` without one:
        ``max(0, acted - first_progression)``; NaN without a progression episode or
        for a stop before it.

    """
    stop_day = np.asarray(stop_day, dtype=np.float64)
    stopped = np.isfinite(stop_day)
    lost = np.where(stopped, np.maximum(0.0, effective_end - stop_day), np.nan)
    acted = np.where(stopped, stop_day, end)
    with np.errstate(invalid="ignore"):
        delay = np.where(
            np.isnan(first_progression), np.nan, np.maximum(0.0, acted - first_progression)
        )
        delay = np.where(stopped & (stop_day < first_progression), np.nan, delay)
    return lost, delay
