"""Deferral at the decision point: wait for the next CT instead of calling on one scan.

PCWG3 asks for a confirmation scan because flare and progression cannot be told apart
on one scan (Scher 2016). The benchmark scores that choice as what it is, a trade-off:
deferring spares flare patients a wrong stop, and delays the stop of a true
progression by one CT interval. For every classifier, each deferral policy of
:data:`boneflare.benchmarks.metrics.DEFERRAL_POLICIES` rewrites the classifier's calls
(:func:`deferred_actions`) and the consequences follow as for any open-loop calls
(:mod:`boneflare.benchmarks.harness.consequences`):

* at a deferred decision point the call is 'defer' (treatment goes on);
* at the patient's next CT done, a 'worse' bone reading again (an episode at that scan)
  confirms progression: 'stop';
* otherwise nothing is confirmed and treatment goes on; later episodes get the
  classifier's own calls.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from boneflare.simulator.observed import ACTION_DEFER, ACTION_STOP

DEFER_BAND: Final[float] = 0.25
"""design: ``defer_uncertain`` defers when P(flare) is within 0.25 of the classifier's
threshold, i.e. (at the usual 0.5) when the odds of flare lie between 1:3 and 3:1 and
one scan does not settle the question either way."""


_SCANS_PER_PATIENT: Final[int] = 1 << 16
"""Bound on a patient's scan index, to pack (patient, scan) into one integer."""


def policy_defers(policy: str, p_flare: np.ndarray, threshold: float) -> np.ndarray:
    """Which episodes a deferral policy sends to the next CT (bool per episode).

    Parameters
    ----------
    policy : str
        ``"defer_uncertain"`` or ``"defer_all"``.
    p_flare : ndarray of float
        The classifier's P(flare) per episode.
    threshold : float
        The classifier's threshold.

    Raises
    ------
    ValueError
        For any other policy (``"call"`` keeps the classifier's own calls).

    """
    p = np.asarray(p_flare, dtype=np.float64)
    if policy == "defer_all":
        return np.ones(p.shape, dtype=bool)
    if policy == "defer_uncertain":
        return np.abs(p - float(threshold)) < DEFER_BAND
    raise ValueError(f"unknown deferral policy {policy!r}")


def _keys(table: pd.DataFrame) -> np.ndarray:
    """One integer per (patient, scan index), increasing with both."""
    patient = table["patient_id"].to_numpy(np.int64)
    return patient * _SCANS_PER_PATIENT + table["scan_index"].to_numpy(np.int64)


def next_ct_episodes(episodes: pd.DataFrame, scans: pd.DataFrame) -> np.ndarray:
    """For each episode, the position of the episode at its patient's next CT done.

    Parameters
    ----------
    episodes : DataFrame
        ``patient_id`` and ``scan_index`` of every episode.
    scans : DataFrame
        ``patient_id`` and ``scan_index`` of every CT done (a missed CT is not the next).

    Returns
    -------
    ndarray of int64
        Row of ``episodes`` at the same patient's next CT done, -1 where that CT does
        not read worse (no episode there) or there is no later CT.

    """
    key, done = _keys(episodes), np.sort(_keys(scans))
    position = np.searchsorted(done, key, side="right")
    following = done[np.minimum(position, max(done.size - 1, 0))] if done.size else key
    same_patient = (position < done.size) & (
        following // _SCANS_PER_PATIENT == key // _SCANS_PER_PATIENT
    )
    order = np.argsort(key, kind="stable")
    at = np.searchsorted(key[order], following)
    found = same_patient & (at < key.size)
    found[found] = key[order][at[found]] == following[found]
    return np.where(found, order[np.minimum(at, key.size - 1)], -1)


def deferred_actions(
    next_ct: np.ndarray, decision: np.ndarray, defer: np.ndarray, actions: np.ndarray
) -> np.ndarray:
    """The calls when the decision points marked ``defer`` wait for the next CT.

    Parameters
    ----------
    next_ct : ndarray of int64
        :func:`next_ct_episodes` of the episodes.
    decision : ndarray of bool
        Per episode, whether it is a decision point.
    defer : ndarray of bool
        Per episode, whether the policy defers there (used at decision points only).
    actions : ndarray of int8
        The classifier's own call per episode.

    Returns
    -------
    ndarray of int8
        ``actions`` with 'defer' at the deferred decision points and 'stop' at the
        episode of the same patient's next CT, where that CT reads worse again
        (progression confirmed); every other call unchanged.

    """
    out = np.asarray(actions, dtype=np.int8).copy()
    deferred = np.asarray(decision, dtype=bool) & np.asarray(defer, dtype=bool)
    out[deferred] = ACTION_DEFER
    confirming = next_ct[deferred]
    out[confirming[confirming >= 0]] = ACTION_STOP
    return out
