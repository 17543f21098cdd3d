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

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from boneflare.simulator.errors import BoneflareError, FutureDataError
from boneflare.simulator.lazy import lazy_module
from boneflare.simulator.vocabulary import (
    ARMS,
    BONE_NAMES,
    CHARACTER_NAMES,
    LOOK_NAMES,
    RECIST_PD_MM,
    RECIST_PD_RISE,
    RECIST_PR_FALL,
    RECIST_RESPONSES,
    RESPONSE_NAMES,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # a streamed run never needs it (boneflare.simulator.lazy)

__all__ = [  # the vocabulary and RECIST cut-offs are re-exported: classifiers read them here
    "ACTION_CONTINUE",
    "ACTION_DEFER",
    "ACTION_NAMES",
    "ACTION_STOP",
    "ARMS",
    "BONE_NAMES",
    "CHARACTER_NAMES",
    "EPISODE_COLUMNS",
    "LAB_COLUMNS",
    "LOOK_NAMES",
    "PATIENT_COLUMNS",
    "RECIST_PD_MM",
    "RECIST_PD_RISE",
    "RECIST_PR_FALL",
    "RECIST_RESPONSES",
    "RESPONSE_NAMES",
    "SCAN_COLUMNS",
    "TASKS",
    "Decision",
    "ObservedBatch",
    "build_batch",
    "decision_points",
]

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


_T = TypeVar("_T")

TASKS = ("decision_point", "all_episodes")
"""The scored tasks, headline first (docs/benchmarks.md, "Two tasks").

``decision_point``: one episode per patient, the first 'worse' bone reading on a
follow-up CT of a patient with bone metastases at baseline, while the soft tissue has
not progressed (see :func:`decision_points`). ``all_episodes``: every episode.
"""

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

    Notes
    -----
    A pickled batch holds each frame pickled apart, and its copy unpickles a frame
    when it is first read (:meth:`__reduce__`): the copy is the same batch, and a
    classifier that reads only ``episodes`` (and the kept feature table) never pays
    for the others.

    """

    episodes: pd.DataFrame
    patients: pd.DataFrame
    labs: pd.DataFrame
    scans: pd.DataFrame
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.episodes)

    def __reduce__(self) -> tuple[Callable[..., ObservedBatch], tuple[Any, ...]]:
        """Pickle the frames apart (as bytes), with what the batch keeps (:meth:`remembered`).

        Each guarded call of a benchmark unpickles its own copy of the batch; most
        classifiers read ``episodes`` and the kept feature table only, and unpickling
        the other three frames was most of what such a call cost. A frame a copy has
        not read yet travels on as the bytes it came in.
        """
        packed = self.__dict__.get("_packed", {})
        frames = {
            name: packed[name]
            if name in packed
            else pickle.dumps(getattr(self, name), protocol=pickle.HIGHEST_PROTOCOL)
            for name in _FRAMES
        }
        return _unpickled_batch, (frames, self._memo)

    if not TYPE_CHECKING:  # hidden from type checkers: a misspelt attribute stays an error

        def __getattr__(self, name: str) -> Any:
            """Unpickle a frame of an unpickled batch the first time it is read."""
            packed = self.__dict__.get("_packed")
            if packed is None or name not in packed:
                raise AttributeError(f"'ObservedBatch' object has no attribute '{name}'")
            frame = pickle.loads(packed[name])
            object.__setattr__(self, name, frame)  # read from the instance from now on
            packed.pop(name, None)
            return frame

    def remembered(self, key: str, compute: Callable[[ObservedBatch], _T]) -> _T:
        """Return ``compute(self)``, computed once per batch and kept under ``key``.

        What is derived from a batch (its check, its feature table) is kept with it,
        since its frames are read-only by contract; a copy pickled afterwards carries
        it. Nothing is kept when ``compute`` raises.
        """
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]

    @property
    def episode_ids(self) -> np.ndarray:
        """Episode identifiers, in batch order."""
        return self.episodes["episode_id"].to_numpy()

    def check(self) -> None:
        """Raise :class:`FutureDataError` if any row is dated after its decision day.

        A batch that passed is not searched again (see :meth:`remembered`), nor is a
        copy of it pickled after it passed.
        """
        self.remembered("check", _search_future_data)

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


_FRAMES = tuple(f.name for f in fields(ObservedBatch) if f.init)
"""The frames of a batch, in field order."""


def _unpickled_batch(frames: dict[str, bytes], memo: dict[str, Any]) -> ObservedBatch:
    """A batch from its pickled frames, each unpickled when first read (see ``__reduce__``)."""
    batch = object.__new__(ObservedBatch)
    object.__setattr__(batch, "_memo", memo)
    object.__setattr__(batch, "_packed", dict(frames))
    return batch


def _search_future_data(batch: ObservedBatch) -> bool:
    """Raise :class:`FutureDataError` at a row dated after its decision day; else True."""
    ids = batch.episodes["episode_id"].to_numpy()
    decision = batch.episodes["day"].to_numpy()
    for name in ("labs", "scans"):
        frame = getattr(batch, name)
        if len(frame) == 0:
            continue
        order, lo, hi = _slices(ids, frame["episode_id"].to_numpy())
        if (hi == lo).any():
            raise FutureDataError(f"{name} holds rows of an episode not in the batch")
        late = frame["day"].to_numpy() > decision[order[lo]]
        if late.any():
            first = frame.loc[late].iloc[0]
            raise FutureDataError(
                f"{name} holds data from day {int(first['day'])} for episode "
                f"{int(first['episode_id'])}, after its decision day"
            )
    return True


def _slices(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where each wanted value sits among ``keys``: ``order, lo, hi``.

    ``order`` sorts ``keys`` (stably); the positions ``order[lo[i]:hi[i]]`` of ``keys``
    hold ``wanted[i]`` (empty when it is absent).
    """
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    lo = np.searchsorted(ordered, wanted, side="left")
    return order, lo, np.searchsorted(ordered, wanted, side="right")


def _histories(table: pd.DataFrame, episodes: pd.DataFrame, columns: tuple[str, ...]):
    """Rows of ``table`` of each episode's patient dated on or before its decision day.

    In the order of ``(episode_id, day, tie)``, ``tie`` being ``scan_index`` or the
    analyte (its category order); rows that tie on all three keep the order of the
    episodes, then of the table. Vectorised: each episode's patient's rows are a slice
    of the table sorted by patient.
    """
    third = "scan_index" if "scan_index" in columns else "analyte"
    by_patient, lo, hi = _slices(table["patient_id"].to_numpy(), episodes["patient_id"].to_numpy())
    counts = hi - lo
    episode = np.repeat(np.arange(len(episodes)), counts)
    within = np.arange(episode.size) - np.repeat(np.cumsum(counts) - counts, counts)
    row = by_patient[np.repeat(lo, counts) + within]
    day = table["day"].to_numpy()
    keep = day[row] <= episodes["day"].to_numpy()[episode]
    episode, row = episode[keep], row[keep]
    episode_id = episodes["episode_id"].to_numpy()[episode]
    tie = table[third]
    tie = tie.array.codes if isinstance(tie.dtype, pd.CategoricalDtype) else tie.to_numpy()
    order = np.lexsort((tie[row], day[row], episode_id))
    return _frame_of_rows(table, row[order], columns, episode_id=episode_id[order])


def _frame_of_rows(
    table: pd.DataFrame, rows: np.ndarray, columns: tuple[str, ...], **given: np.ndarray
) -> pd.DataFrame:
    """The ``columns`` of ``table`` at positions ``rows`` (or as given, for those in ``given``).

    Column by column, as the columns' own arrays: a cohort's batch is small, and taking
    rows through ``DataFrame.iloc`` spent more time on its index than on the data.
    """
    return pd.DataFrame(
        {name: given[name] if name in given else _take(table[name], rows) for name in columns}
    )


def _take(column: pd.Series, rows: np.ndarray) -> Any:
    """The values of ``column`` at positions ``rows``, in its dtype."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(column.array.codes[rows], dtype=column.dtype)
    if column.dtype == object:  # kept as is: a frame built from it would infer strings
        return pd.Series(column.to_numpy()[rows], dtype=object)
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy()[rows]
    return column.array.take(rows)


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
    lab_rows = _histories(labs, episodes, LAB_COLUMNS)
    scan_rows = _histories(scans, episodes, SCAN_COLUMNS)
    return ObservedBatch(
        episodes=episodes,
        patients=_baseline_rows(patients, episodes),
        labs=lab_rows,
        scans=scan_rows,
    )


def _baseline_rows(patients: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """Each episode's row of ``patients``, in episode order (``PATIENT_COLUMNS``)."""
    by_id, lo, hi = _slices(patients["patient_id"].to_numpy(), episodes["patient_id"].to_numpy())
    if not (hi - lo == 1).all():  # absent, or repeated
        raise BoneflareError("build_batch: an episode's patient is missing from the patients table")
    rows = by_id[lo]
    if patients["sex"].isna().to_numpy()[rows].any():
        raise BoneflareError("build_batch: an episode's patient is missing from the patients table")
    return _frame_of_rows(
        patients,
        rows,
        PATIENT_COLUMNS,
        episode_id=episodes["episode_id"].to_numpy(),
        patient_id=episodes["patient_id"].to_numpy(),
    )


def decision_points(
    episodes: pd.DataFrame, patients: pd.DataFrame, scans: pd.DataFrame
) -> np.ndarray:
    """Which episodes are the decision point a clinician faces: a bool per row of ``episodes``.

    An episode is a decision point when all of these hold, from observed data only:

    - the patient had bone metastases at baseline (``patients.bone_mets``);
    - it is the patient's first episode, i.e. the first 'worse' bone reading on a
      follow-up CT;
    - no CT up to and including that day reads soft-tissue progression: RECIST 1.1
      ``PD`` from the target-lesion sum (>= 120% of the nadir and >= nadir + 5 mm) or an
      unequivocal new non-bone lesion. The bone window is not part of that response
      (``bone_reading`` is reported apart), so a bone-only 'worse' reading never makes
      the soft tissue count as progressing.

    So each patient has at most one decision point. Where the first 'worse' bone
    reading comes with, or after, soft-tissue progression, the patient has none: the
    switch is decided by the soft tissue, and there is no flare question to answer.

    Parameters
    ----------
    episodes : DataFrame
        Rows of the ``episodes`` table (``episode_id``, ``patient_id``, ``day``).
    patients : DataFrame
        The ``patients`` table (``patient_id``, ``bone_mets``) of at least those patients.
    scans : DataFrame
        The ``scans`` table (``patient_id``, ``day``, ``recist_response``) of at least
        those patients.

    """
    pid = episodes["patient_id"].to_numpy()
    day = episodes["day"].to_numpy(dtype=float)
    order = np.lexsort((day, pid))
    pid_sorted = pid[order]
    first_sorted = np.ones(len(order), dtype=bool)
    first_sorted[1:] = pid_sorted[1:] != pid_sorted[:-1]
    first = np.empty(len(order), dtype=bool)
    first[order] = first_sorted

    with_bone = patients["bone_mets"].fillna(False).to_numpy(dtype=bool)
    has_bone = np.isin(pid, patients["patient_id"].to_numpy()[with_bone])

    # numpy rather than groupby: this runs once per benchmark cohort
    progressed = (scans["recist_response"] == "PD").to_numpy(dtype=bool)
    pd_pid = scans["patient_id"].to_numpy()[progressed]
    pd_day = scans["day"].to_numpy(dtype=float)[progressed]
    by_patient = np.lexsort((pd_day, pd_pid))
    pd_pid, pd_day = pd_pid[by_patient], pd_day[by_patient]
    earliest = np.ones(pd_pid.size, dtype=bool)
    earliest[1:] = pd_pid[1:] != pd_pid[:-1]
    pd_pid, pd_day = pd_pid[earliest], pd_day[earliest]
    at = np.minimum(np.searchsorted(pd_pid, pid), max(pd_pid.size - 1, 0))
    found = pd_pid[at] == pid if pd_pid.size else np.zeros(pid.size, dtype=bool)
    first_pd_day = np.where(found, pd_day[at] if pd_pid.size else np.inf, np.inf)
    soft_tissue_ok = ~(first_pd_day <= day)  # inf: never PD
    return first & has_bone & soft_tissue_ok
