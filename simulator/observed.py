"""What a clinician can see at a decision: the observed history of each episode.

This module is the contract between the simulator and the classifiers. A classifier
gets an :class:`ObservedBatch`: for each episode (a 'worse' bone reading on a CT),
the patient's baseline facts and every lab value and CT reading dated on or before
the decision day, and nothing else: no truth, nothing later. :func:`build_batch`
cuts the histories out of the simulator's observed tables; :meth:`ObservedBatch.check`
refuses a batch that holds anything dated after its decision day.

All frames are columnar and keyed by ``episode_id``; ``episodes`` and ``patients``
have one row per episode, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.errors import BoneflareError

EPISODE_COLUMNS = ("episode_id", "patient_id", "day", "scan_index")
PATIENT_COLUMNS = (
    "episode_id",
    "patient_id",
    "sex",
    "age",
    "stage",
    "egfr_positive",
    "arm",
    "bone_mets",
    "bone_lesion_character",
)
LAB_COLUMNS = ("episode_id", "day", "analyte", "value")
SCAN_COLUMNS = (
    "episode_id",
    "day",
    "scan_index",
    "sld_mm",
    "recist_response",
    "bone_reading",
    "lesion_look",
    "new_lesion",
)


ACTION_CONTINUE, ACTION_STOP, ACTION_DEFER = 0, 1, 2
"""What the clinic does at an episode: continue treatment, stop it, or defer to the next CT."""
ACTION_NAMES = ("continue", "stop", "defer")


@dataclass(frozen=True)
class Decision:
    """A policy's answer for a batch of episodes, in batch order.

    Attributes
    ----------
    p_flare : ndarray of float
        Probability that the episode is a flare (NaN when the policy gives none).
    action : ndarray of int8
        ``ACTION_CONTINUE``, ``ACTION_STOP`` or ``ACTION_DEFER``.

    """

    p_flare: np.ndarray
    action: np.ndarray


class FutureDataError(BoneflareError):
    """A batch holds data dated after its episode's decision day."""


@dataclass(frozen=True)
class ObservedBatch:
    """Observed histories of a batch of episodes, up to and including each decision day.

    Attributes
    ----------
    episodes : DataFrame
        ``episode_id, patient_id, day`` (the decision day), ``scan_index``.
    patients : DataFrame
        Baseline facts per episode: ``sex, age, stage, egfr_positive, arm, bone_mets,
        bone_lesion_character``.
    labs : DataFrame
        ``episode_id, day, analyte, value``: every lab value up to the decision day.
    scans : DataFrame
        ``episode_id, day, scan_index, sld_mm, recist_response, bone_reading,
        lesion_look, new_lesion``: every CT up to and including the decision scan.

    """

    episodes: pd.DataFrame
    patients: pd.DataFrame
    labs: pd.DataFrame
    scans: pd.DataFrame

    def __len__(self) -> int:
        return len(self.episodes)

    @property
    def episode_ids(self) -> np.ndarray:
        """Episode identifiers, in batch order."""
        return self.episodes["episode_id"].to_numpy()

    def check(self) -> None:
        """Raise :class:`FutureDataError` if any row is dated after its decision day."""
        decision = pd.Series(self.episodes["day"].to_numpy(), index=self.episodes["episode_id"])
        for name in ("labs", "scans"):
            frame = getattr(self, name)
            if len(frame) == 0:
                continue
            limit = decision.reindex(frame["episode_id"].to_numpy()).to_numpy()
            if np.isnan(limit.astype(float)).any():
                raise FutureDataError(f"{name} holds rows of an episode not in the batch")
            late = frame["day"].to_numpy() > limit
            if late.any():
                first = frame.loc[late].iloc[0]
                raise FutureDataError(
                    f"{name} holds data from day {int(first['day'])} for episode "
                    f"{int(first['episode_id'])}, after its decision day"
                )

    def take(self, positions: np.ndarray) -> ObservedBatch:
        """Return the sub-batch of the episodes at these positions (in that order)."""
        positions = np.asarray(positions, dtype=np.int64)
        episodes = self.episodes.iloc[positions].reset_index(drop=True)
        keep = episodes["episode_id"]
        return ObservedBatch(
            episodes=episodes,
            patients=self.patients.iloc[positions].reset_index(drop=True),
            labs=self.labs[self.labs["episode_id"].isin(keep)].reset_index(drop=True),
            scans=self.scans[self.scans["episode_id"].isin(keep)].reset_index(drop=True),
        )


def _histories(table: pd.DataFrame, episodes: pd.DataFrame, columns: tuple[str, ...]):
    """Rows of ``table`` of each episode's patient dated on or before its decision day."""
    keys = episodes[["episode_id", "patient_id", "day"]].rename(columns={"day": "decision_day"})
    joined = keys.merge(table, on="patient_id", how="inner", sort=False)
    joined = joined[joined["day"] <= joined["decision_day"]]
    third = "scan_index" if "scan_index" in columns else "analyte"
    joined = joined.sort_values(["episode_id", "day", third], kind="stable")
    return joined[list(columns)].reset_index(drop=True)


def build_batch(
    episodes: pd.DataFrame,
    patients: pd.DataFrame,
    labs: pd.DataFrame,
    scans: pd.DataFrame,
) -> ObservedBatch:
    """Cut the observed history of each episode out of the simulator's observed tables.

    Parameters
    ----------
    episodes : DataFrame
        Rows of the ``episodes`` table (any subset, any order: the batch keeps it).
    patients, labs, scans : DataFrame
        The ``patients``, ``labs`` and ``scans`` tables (or any superset of the rows of
        the patients concerned). Truth tables are not accepted anywhere here.

    """
    episodes = episodes.loc[:, list(EPISODE_COLUMNS)].reset_index(drop=True)
    base = episodes[["episode_id", "patient_id"]].merge(
        patients, on="patient_id", how="left", sort=False
    )
    if len(base) != len(episodes) or base["sex"].isna().any():
        raise BoneflareError("build_batch: an episode's patient is missing from the patients table")
    lab_rows = _histories(
        labs.loc[:, ["patient_id", "day", "analyte", "value"]], episodes, LAB_COLUMNS
    )
    scan_rows = _histories(scans.loc[:, ["patient_id", *SCAN_COLUMNS[1:]]], episodes, SCAN_COLUMNS)
    return ObservedBatch(
        episodes=episodes,
        patients=base.loc[:, list(PATIENT_COLUMNS)],
        labs=lab_rows,
        scans=scan_rows,
    )
