"""Learning from simulated cohorts: batches and labels, features, grouped cross-validation.

The pieces a user needs to build and check a classifier on boneflare's data, the same
ones the benchmark uses::

    import boneflare
    from boneflare.benchmarks.learning import (
        cross_validate, episode_features, episode_labels, observed_batch)

    tables = boneflare.simulate("paper", 5000, seed=1)
    batch = observed_batch(tables)        # what a clinician sees, per episode
    y = episode_labels(tables)            # 1 flare, 0 progression (hidden truth)
    first = observed_batch(tables, "decision_point")  # the headline task's episodes
    X = episode_features(batch)           # one row per episode, observed data only
    scores = cross_validate(MyRule(), "paper", patients=5000, folds=5, seed=1)

:func:`observed_batch` never passes truth on; labels come only from
:func:`episode_labels`. Folds of :func:`patient_folds` keep every episode of a patient
on one side, since one patient's episodes are not independent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from boneflare.classifiers.features import extract_features
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.observed import TASKS, ObservedBatch, build_batch, decision_points
from boneflare.simulator.validation import check_choice, check_count

if TYPE_CHECKING:
    from boneflare.classifiers.base import FlareClassifier
    from boneflare.simulator.run import ScenarioLike
    from boneflare.simulator.tables import CohortTables


def task_episodes(tables: CohortTables, task: str = "all_episodes") -> np.ndarray:
    """Positions (rows of ``tables.episodes``) of the episodes a scored task keeps.

    Parameters
    ----------
    tables : CohortTables
        A cohort's tables.
    task : str
        ``"all_episodes"``: every episode; ``"decision_point"``: one per patient, the
        first 'worse' bone reading while the soft tissue has not progressed
        (:func:`boneflare.simulator.observed.decision_points`, observed data only).

    Raises
    ------
    InputError
        If ``task`` is not one of :data:`boneflare.simulator.observed.TASKS`.

    """
    check_choice("task", task, TASKS)
    if task == "all_episodes":
        return np.arange(len(tables.episodes))
    return np.flatnonzero(decision_points(tables.episodes, tables.patients, tables.scans))


def observed_batch(tables: CohortTables, task: str = "all_episodes") -> ObservedBatch:
    """The observed histories of a cohort's episodes, cut at each decision day.

    Parameters
    ----------
    tables : CohortTables
        A simulated cohort (:func:`boneflare.simulate`) or one read back with
        :func:`boneflare.simulator.io.read_cohort`.
    task : str
        Which episodes: ``"all_episodes"`` or ``"decision_point"`` (:func:`task_episodes`).

    Returns
    -------
    ObservedBatch
        One entry per kept row of ``tables.episodes``, in that order; truth is never
        passed.

    """
    batch = build_batch(tables.episodes, tables.patients, tables.labs, tables.scans)
    return batch if task == "all_episodes" else batch.take(task_episodes(tables, task))


def episode_labels(tables: CohortTables, task: str = "all_episodes") -> np.ndarray:
    """The label of each episode of a task, in the order of ``tables.episodes`` (and its batch).

    Returns
    -------
    ndarray of int8
        1 where the episode is a bone flare, 0 where it is true progression.

    Raises
    ------
    ValueError
        If an episode has no row in ``tables.episode_truth``.

    """
    truth = tables.episode_truth
    position = pd.Index(truth["episode_id"]).get_indexer(tables.episodes["episode_id"])
    if (position < 0).any():
        raise ValueError("an episode has no label in episode_truth")
    flare = (truth["label"] == "flare").to_numpy()
    return flare[position].astype(np.int8)[task_episodes(tables, task)]


def episode_features(batch: ObservedBatch) -> pd.DataFrame:
    """The episode feature table: one row per episode of ``batch``, observed data only.

    The columns and their meaning are :data:`boneflare.classifiers.features.FEATURES`
    (docs/classifiers.md lists them); missing information is NaN. The learned built-ins
    and :class:`boneflare.classifiers.adapter.SklearnAdapter` use this table.
    """
    return extract_features(batch)


def patient_folds(batch: ObservedBatch, folds: int, seed: int = 0) -> np.ndarray:
    """Assign every episode to a fold, all episodes of one patient to the same fold.

    Patients (not episodes) are shuffled with ``seed`` and dealt round-robin, so folds
    hold nearly equal numbers of patients.

    Returns
    -------
    ndarray of int
        The fold (``0 .. folds - 1``) of each episode, in batch order.

    Raises
    ------
    BoneflareError
        If ``folds`` is below 2 or above the number of patients.

    """
    patients = batch.episodes["patient_id"].to_numpy()
    unique = np.unique(patients)
    check_count("folds", folds, minimum=2)
    if folds > len(unique):
        raise BoneflareError(f"{folds} folds need at least {folds} patients with episodes")
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of_patient = np.empty(len(unique), dtype=np.int64)
    fold_of_patient[order] = np.arange(len(unique)) % folds
    return fold_of_patient[np.searchsorted(unique, patients)]


def cross_validate(
    classifier: FlareClassifier,
    scenario: ScenarioLike = "paper",
    *,
    patients: int = 5000,
    folds: int = 5,
    seed: int = 0,
    task: str = "decision_point",
) -> pd.DataFrame:
    """Cross-validate a classifier on one simulated cohort, folds grouped by patient.

    Each fold is scored by a fresh clone fitted on the other folds (a rule is fitted
    too, without effect), with the benchmark's metrics
    (:func:`boneflare.benchmarks.metrics.classification_metrics`).

    Parameters
    ----------
    classifier : FlareClassifier
        The classifier (never changed).
    scenario : Scenario, str or Path
        The scenario of the cohort.
    patients : int
        Cohort size.
    folds : int
        Number of folds (at least 2).
    seed : int
        Seed of the cohort and of the fold assignment.
    task : str
        The episodes scored and learned from: ``"decision_point"`` (the headline task)
        or ``"all_episodes"``.

    Returns
    -------
    DataFrame
        One row per fold: ``fold``, ``train_episodes``, ``test_episodes``, then every
        metric (``roc_auc``, ``brier``, ...).

    """
    from sklearn.base import clone

    from boneflare.benchmarks.metrics import classification_metrics
    from boneflare.simulator.run import simulate

    tables = simulate(scenario, patients, seed, progress=False)
    batch = observed_batch(tables, task)
    y = episode_labels(tables, task)
    fold = patient_folds(batch, folds, seed)
    rows = []
    for k in range(folds):
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        model = clone(classifier).fit(batch.take(train), y[train])
        p = model.predict_proba(batch.take(test))
        metrics = classification_metrics(y[test], p, threshold=float(model.threshold))
        rows.append(
            {"fold": k, "train_episodes": len(train), "test_episodes": len(test), **metrics}
        )
    return pd.DataFrame(rows)
