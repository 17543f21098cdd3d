"""What a classifier's calls do to patients: stops, days of effective treatment lost, delay.

Two ways to get the consequences of one classifier on one cohort:

* **closed loop** (``--closed-loop``): the classifier runs as the decision policy inside
  the simulation; a 'stop' really ends first-line follow-up, and the simulator's
  ``truth`` table records ``stop_day``, ``effective_days_lost`` and
  ``progression_delay_days`` per patient, ``decisions`` the calls.
* **open loop** (default): the cohort is simulated once with nobody stopped, the
  classifier labels every episode, and the stop is *inferred*: a patient is stopped
  on the day of their first episode called 'stop'; episodes after it would not have
  happened and are ignored. Days lost and delay then follow the simulator's own
  definitions (:mod:`boneflare.simulator.stops`, as in the ``truth`` table):

  - end of follow-up ``end = min(dropout_day, horizon_days)``;
  - effective treatment lasts until ``min(progression_day, end)``, so a stop on day
    ``s`` loses ``max(0, min(progression_day, end) - s)`` days of it;
  - progression is acted on at the stop (or at ``end`` if never stopped), so the delay
    is ``max(0, acted - first_progression_episode_day)``, undefined for patients
    without a progression episode or stopped before their first one.

  The random draws of a patient do not depend on the calls made (see
  :mod:`boneflare.simulator.draws`), and a policy's call on an episode depends on that episode's
  history alone, so a patient's course up to the stop is the same in both modes and the
  inferred consequences equal the closed-loop ones (a test checks it).

Summary metrics per cohort (denominators come from the full, open-loop follow-up of the
same patients, so both modes divide by the same people). The ``all_episodes`` task
summarises every patient; the ``decision_point`` task the same per-patient outcomes
over the patients who have a decision point, and its deferred share over their
decision points (:func:`boneflare.simulator.observed.decision_points`):

``flare_patients_stopped_share``
    Of the patients with a flare episode, the share stopped while their treatment was
    still effective (days lost > 0). NaN without flare patients.
``effective_days_lost``
    Mean days of effective treatment lost per patient with at least one episode
    (0 for patients not stopped). NaN without episodes.
``progression_delay_days``
    Mean delay over patients for whom it is defined. NaN when nobody qualifies.
``episodes_deferred_share``
    Share of the episodes that reached a call which were deferred. NaN without calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from boneflare.simulator.observed import ACTION_DEFER, ACTION_STOP
from boneflare.simulator.stops import follow_up_ends, stop_consequences

CONSEQUENCE_METRICS: Final[tuple[str, ...]] = (
    "flare_patients_stopped_share",
    "effective_days_lost",
    "progression_delay_days",
    "episodes_deferred_share",
)
"""Names of the consequence metrics (their directions: ``metrics.METRIC_DIRECTIONS``)."""

_NAN: Final[float] = float("nan")


def _mean(values: np.ndarray) -> float:
    """Mean of the finite values, NaN when there are none."""
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else _NAN


def inferred_stops(episodes: pd.DataFrame, actions: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """Infer each patient's stop day from open-loop calls.

    Parameters
    ----------
    episodes : DataFrame
        ``patient_id`` and ``day`` of every episode (any order).
    actions : ndarray of int8
        The call per episode, aligned with ``episodes``.

    Returns
    -------
    stop_day : Series
        Day of the first 'stop' call, indexed by ``patient_id`` (patients never
        stopped are absent).
    reached : ndarray of bool
        Per episode, whether it happens on or before its patient's stop (calls after
        a stop are never made).

    """
    patients, row = np.unique(episodes["patient_id"].to_numpy(), return_inverse=True)
    first_stop, reached = _first_stops(row, episodes["day"].to_numpy(), actions, patients.size)
    stopped = np.isfinite(first_stop)
    return pd.Series(first_stop[stopped], index=patients[stopped]), reached


def _first_stops(
    row: np.ndarray, day: np.ndarray, actions: np.ndarray, n_patients: int
) -> tuple[np.ndarray, np.ndarray]:
    """First 'stop' day per patient row (inf: none) and whether each episode is reached."""
    day = np.asarray(day, dtype=np.float64)
    stop = np.asarray(actions) == ACTION_STOP
    first_stop = np.full(n_patients, np.inf)
    np.minimum.at(first_stop, row[stop], day[stop])
    return first_stop, day <= first_stop[row]


def patient_outcomes(
    stop_day: np.ndarray, truth: pd.DataFrame, horizon_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Days of effective treatment lost and delay per patient, as the simulator defines them.

    Parameters
    ----------
    stop_day : ndarray of float
        Stop day per row of ``truth`` (NaN: never stopped).
    truth : DataFrame
        The ``truth`` table of the open-loop cohort (``progression_day``,
        ``dropout_day``, ``first_progression_episode_day``).
    horizon_days : float
        The scenario's follow-up horizon.

    Returns
    -------
    lost : ndarray of float
        Days lost (NaN where never stopped).
    delay : ndarray of float
        Delay before progression is acted on (NaN where undefined).

    """
    end, effective_end = follow_up_ends(
        truth["progression_day"].to_numpy(), truth["dropout_day"].to_numpy(), horizon_days
    )
    first = truth["first_progression_episode_day"].to_numpy(dtype=np.float64)
    return stop_consequences(stop_day, end, effective_end, first)


class CohortOutcomes:
    """What every classifier's consequences on one open-loop cohort need, computed once.

    Parameters
    ----------
    episodes : DataFrame
        The cohort's ``episodes`` (``patient_id``, ``day``).
    truth : DataFrame
        The cohort's ``truth`` (one row per patient).
    horizon_days : float
        The scenario's follow-up horizon.

    """

    def __init__(self, episodes: pd.DataFrame, truth: pd.DataFrame, horizon_days: float) -> None:
        pid = truth["patient_id"].to_numpy()
        self.episode_row = pd.Index(pid).get_indexer(episodes["patient_id"].to_numpy())
        if (self.episode_row < 0).any():
            raise ValueError("an episode's patient is missing from the truth table")
        self.episode_day = episodes["day"].to_numpy().astype(np.float64)
        self.end, self.effective_end = follow_up_ends(
            truth["progression_day"].to_numpy(), truth["dropout_day"].to_numpy(), horizon_days
        )
        self.first_progression = truth["first_progression_episode_day"].to_numpy(np.float64)
        self.with_episode = np.zeros(pid.size, dtype=bool)
        self.with_episode[self.episode_row] = True
        self.flare_patient = np.isfinite(truth["flare_observed_day"].to_numpy(np.float64))

    def outcomes(self, stop_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Days lost and delay per patient for these stop days (see :func:`patient_outcomes`)."""
        return stop_consequences(stop_day, self.end, self.effective_end, self.first_progression)

    def patients_of(self, episodes: np.ndarray) -> np.ndarray:
        """Bool per patient (row of ``truth``): whether one of these episodes is theirs.

        Parameters
        ----------
        episodes : ndarray of bool
            A selection of episodes, aligned with ``episodes`` (e.g. the decision points).

        """
        chosen = np.zeros(self.end.size, dtype=bool)
        chosen[self.episode_row[np.asarray(episodes, dtype=bool)]] = True
        return chosen

    def summarise(
        self,
        lost: np.ndarray,
        delay: np.ndarray,
        n_called: int,
        n_deferred: int,
        patients: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Reduce per-patient outcomes to the four consequence metrics (module docstring).

        ``patients`` (bool per patient, default all) restricts every per-patient mean.
        """
        lost_or_zero = np.where(np.isnan(lost), 0.0, lost)  # lost is finite where a number
        stopped_effective = lost_or_zero > 0
        flare, with_episode = self.flare_patient, self.with_episode
        if patients is not None:
            flare, with_episode, delay = flare & patients, with_episode & patients, delay[patients]
        return {
            "flare_patients_stopped_share": (
                float(stopped_effective[flare].mean()) if flare.any() else _NAN
            ),
            "effective_days_lost": (
                float(lost_or_zero[with_episode].mean()) if with_episode.any() else _NAN
            ),
            "progression_delay_days": _mean(delay),
            "episodes_deferred_share": n_deferred / n_called if n_called else _NAN,
        }

    def open_loop_tasks(
        self, actions: np.ndarray, tasks: Mapping[str, np.ndarray | None]
    ) -> dict[str, dict[str, float]]:
        """:meth:`open_loop` of the same calls for each task's episodes, by task.

        The stops depend on the calls only, so they are inferred once for every task.
        """
        actions = np.asarray(actions)
        stops = self._stops(actions)
        return {task: self._summarise_calls(actions, stops, calls) for task, calls in tasks.items()}

    def _stops(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Whether each episode is reached, and days lost and delay per patient."""
        first_stop, reached = _first_stops(
            self.episode_row, self.episode_day, actions, self.end.size
        )
        stop_day = np.where(np.isfinite(first_stop), first_stop, np.nan)
        lost, delay = self.outcomes(stop_day)
        return reached, lost, delay

    def _summarise_calls(
        self,
        actions: np.ndarray,
        stops: tuple[np.ndarray, np.ndarray, np.ndarray],
        calls: np.ndarray | None,
    ) -> dict[str, float]:
        reached, lost, delay = stops
        patients = None
        if calls is not None:
            reached = reached & np.asarray(calls, dtype=bool)
            patients = self.patients_of(calls)
        deferred = int((reached & (actions == ACTION_DEFER)).sum())
        return self.summarise(lost, delay, int(reached.sum()), deferred, patients)

    def open_loop(self, actions: np.ndarray, calls: np.ndarray | None = None) -> dict[str, float]:
        """Consequences inferred from the calls on every episode (aligned with ``episodes``).

        Parameters
        ----------
        actions : ndarray of int8
            The call per episode.
        calls : ndarray of bool, optional
            Score only these episodes' patients, and the deferred share of these calls
            (the decision points); default every episode.

        """
        actions = np.asarray(actions)
        return self._summarise_calls(actions, self._stops(actions), calls)

    def closed_loop(
        self,
        closed_truth: pd.DataFrame,
        decisions: pd.DataFrame,
        calls: np.ndarray | None = None,
        episode_ids: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Consequences a closed-loop run of the same patients recorded.

        Parameters
        ----------
        closed_truth : DataFrame
            ``truth`` of the closed-loop run (``effective_days_lost``,
            ``progression_delay_days``), same patients and order as the open-loop one.
        decisions : DataFrame
            ``decisions`` of the closed-loop run (``episode_id``, ``action`` as names).
        calls : ndarray of bool, optional
            As for :meth:`open_loop` (aligned with the open-loop ``episodes``).
        episode_ids : ndarray, optional
            ``episode_id`` of the open-loop episodes; needed with ``calls``.

        """
        lost = closed_truth["effective_days_lost"].to_numpy(dtype=np.float64)
        delay = closed_truth["progression_delay_days"].to_numpy(dtype=np.float64)
        patients = None
        if calls is not None:
            calls = np.asarray(calls, dtype=bool)
            chosen = np.asarray(episode_ids)[calls]
            decisions = decisions[decisions["episode_id"].isin(chosen)]
            patients = self.patients_of(calls)
        deferred = int((decisions["action"].astype(str).to_numpy() == "defer").sum())
        return self.summarise(lost, delay, len(decisions), deferred, patients)


def open_loop_consequences(
    episodes: pd.DataFrame, actions: np.ndarray, truth: pd.DataFrame, horizon_days: float
) -> dict[str, float]:
    """Consequences inferred from open-loop calls (see the module docstring).

    Parameters
    ----------
    episodes : DataFrame
        The open-loop ``episodes`` table.
    actions : ndarray of int8
        The classifier's call per episode, aligned with ``episodes``.
    truth : DataFrame
        The open-loop ``truth`` table.
    horizon_days : float
        The scenario's follow-up horizon.

    """
    return CohortOutcomes(episodes, truth, horizon_days).open_loop(actions)


def closed_loop_consequences(
    closed_truth: pd.DataFrame,
    decisions: pd.DataFrame,
    truth: pd.DataFrame,
    episodes: pd.DataFrame,
    horizon_days: float,
) -> dict[str, float]:
    """Consequences recorded by a closed-loop simulation of the same patients.

    Parameters
    ----------
    closed_truth, decisions : DataFrame
        ``truth`` and ``decisions`` of the closed-loop run.
    truth, episodes : DataFrame
        ``truth`` and ``episodes`` of the open-loop run of the same seed (denominators).
    horizon_days : float
        The scenario's follow-up horizon.

    """
    outcomes = CohortOutcomes(episodes, truth, horizon_days)
    return outcomes.closed_loop(closed_truth, decisions)
