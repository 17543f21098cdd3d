"""The Bayes oracle: P(flare | observed history) under the true model, approximated.

The exact posterior would integrate each patient's latent values (kinetic rates, flare
onset, marker set points) over the scenario's population distributions given the whole
observed history: possible in principle, and a research project in itself. This module
approximates it the way a simulation study can: the posterior P(flare | history) is the
regression function E[y | history] of the scenario's own joint law of (history, label),
so a flexible, well-calibrated regression fitted to a very large cohort drawn from the
**true test scenario** converges to it. The approximation is only as good as the
features (a summary plus the whole ALP, soft-tissue and bone-reading paths) and the
cohort size; it never sees a patient's latent values or truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator

from boneflare.classifiers.features import extract_features
from boneflare.classifiers.learned import SklearnFlareClassifier, feature_matrix
from boneflare.classifiers.trajectory import LAB_GRID_DAYS, trajectory_features
from boneflare.simulator.observed import ObservedBatch

MIN_CALIBRATION_EPISODES = 200
"""Below this many held-out episodes (or without both classes there) the boosted model
is used uncalibrated: isotonic regression needs data to be better than nothing."""


class BayesOracle(SklearnFlareClassifier):
    """Approximate posterior P(flare) under the scenario's generative model (the ceiling).

    **What it approximates.** The Bayes posterior P(flare | observed history) under the
    true scenario and its population parameters. **How.** Histogram gradient boosting
    on the engineered features plus the whole trajectories
    (:func:`~boneflare.classifiers.trajectory.trajectory_features`), then isotonic calibration on a
    held-out share of the training patients. A benchmark trains it on a very large
    cohort (``training_patients``) drawn from the *test* scenario itself
    (``trains_on_test_scenario``), never capped by ``--max-training-patients``
    (``uncapped_training``): it knows the model, never the patient's latent values
    or truth. Its AUC and log loss estimate the ceiling an honest classifier can reach;
    finite data and features make it a slight underestimate.

    Parameters
    ----------
    learning_rate : float
        Shrinkage of each tree.
    max_iter : int
        Maximum boosting iterations (early stopping on a validation split).
    max_leaf_nodes : int
        Leaves per tree.
    calibration_fraction : float
        Share of training patients held out to fit the isotonic calibration.
    random_state : int
        Seed of the patient split and of the boosting's validation split.
    n_threads : int or None
        OpenMP threads while fitting and predicting (None: the library's default).

    Notes
    -----
    Learned attributes, besides those of
    :class:`~boneflare.classifiers.learned.SklearnFlareClassifier`: ``n_lab_points_`` and
    ``n_scans_``, the lengths of the trajectories, from the training cohort's latest
    decision day and scan.

    """

    name = "bayes_oracle"
    description = (
        "approximate Bayes posterior: calibrated boosting on a huge cohort of the true scenario"
    )
    trains_on_test_scenario = True
    uncapped_training = True
    training_patients = 150_000
    matrix_order = "F"  # trees read a feature across rows (feature_matrix)

    def __init__(
        self,
        learning_rate: float = 0.1,
        max_iter: int = 300,
        max_leaf_nodes: int = 31,
        calibration_fraction: float = 0.2,
        random_state: int = 0,
        n_threads: int | None = 1,
    ):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state
        self.n_threads = n_threads

    def _make_estimator(self) -> Any:
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            early_stopping=True,
            random_state=self.random_state,
        )

    def _features(self, batch: ObservedBatch) -> pd.DataFrame:
        paths = trajectory_features(batch, self.n_lab_points_, self.n_scans_)
        return pd.concat([extract_features(batch), paths], axis=1)

    def _fit(self, batch: ObservedBatch, y: np.ndarray) -> None:
        days = batch.episodes["day"].to_numpy()
        scans = batch.episodes["scan_index"].to_numpy()
        self.n_lab_points_ = int(days.max() // LAB_GRID_DAYS) if days.size else 0
        self.n_scans_ = int(scans.max()) if scans.size else 0
        super()._fit(batch, y)

    def _fit_estimator(self, table: pd.DataFrame, y: np.ndarray, batch: ObservedBatch) -> Any:
        patients = batch.episodes["patient_id"].to_numpy()
        unique = np.unique(patients)
        rng = np.random.default_rng(self.random_state)
        held = rng.random(unique.size) < self.calibration_fraction
        calibrate = np.isin(patients, unique[held])
        model = self._make_estimator()
        x = feature_matrix(table)
        enough = calibrate.sum() >= MIN_CALIBRATION_EPISODES
        if not enough or np.unique(y[calibrate]).size < 2 or np.unique(y[~calibrate]).size < 2:
            return model.fit(x, y)
        model.fit(x[~calibrate], y[~calibrate])
        calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="isotonic")
        return calibrated.fit(x[calibrate], y[calibrate])
