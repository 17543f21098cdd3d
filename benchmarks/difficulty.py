"""How hard the decision point is in a scenario: prevalence, single cues, a boosted proxy.

:func:`measure_difficulty` simulates a training and a test cohort of a scenario, keeps
the decision-point episodes of each (:func:`boneflare.simulator.observed.decision_points`),
and reports on the test cohort:

* the flare share (prevalence) of decision-point episodes;
* the ROC AUC of each single cue a clinician reads at that CT (:data:`CUES`): the
  lesion look, ALP % of baseline at the latest draw, the soft-tissue sum's change over
  baseline and over the nadir, and the episode day. Each cue is turned into a score on
  the training cohort (a numeric cue is oriented by the sign that wins there, a
  categorical one scored by its training flare share), so an AUC below 0.5 means the
  training cohort pointed the wrong way;
* the ROC AUC of a histogram gradient-boosting model trained on every engineered
  feature (:func:`boneflare.classifiers.features.extract_features`) of the training
  cohort's decision points: a proxy for the best a classifier can do (the oracle).

Everything is computed from observed tables; the truth only labels the episodes.

From the command line, ``python -m boneflare.benchmarks.difficulty [--scenario S]
[--set KEY=VALUE ...]`` prints these figures for a scenario and, with
``--check-patients N``, which calibration targets a cohort of N patients of it misses:
how hard a change makes the decision point, and what it costs in calibration.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from boneflare.classifiers.features import LOOKS, extract_features
from boneflare.simulator.calibration.check import check_tables
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.observed import build_batch, decision_points
from boneflare.simulator.run import simulate
from boneflare.simulator.scenarios.loader import load_scenario
from boneflare.simulator.scenarios.schema import Scenario

CUES: dict[str, str] = {
    "lesion_look": "lesion look at the decision CT (lytic / sclerotic / mixed)",
    "alp_pct_baseline": "ALP at the latest draw, % of baseline",
    "sld_pct_baseline": "soft-tissue sum at the decision CT, % change from baseline",
    "sld_pct_nadir": "soft-tissue sum at the decision CT, % change from the nadir",
    "days_on_treatment": "episode day (days since the first dose)",
}
"""The single cues whose AUC is reported, with what they are."""

TEST_SEED_OFFSET = 1_000_003
"""The test cohort's seed is the training seed plus this (disjoint patients)."""

BOOSTING_SEED = 0
"""Random state of the boosted proxy (its early-stopping split)."""


@dataclass(frozen=True)
class Difficulty:
    """Decision-point difficulty of one scenario, measured on a test cohort.

    Attributes
    ----------
    prevalence : float
        Flare share of the test cohort's decision-point episodes.
    cue_auc : dict of str to float
        ROC AUC of each single cue of :data:`CUES` (oriented on the training cohort).
    boosted_auc : float
        ROC AUC of the boosted model trained on every feature of the training cohort.
    n_train, n_test : int
        Decision-point episodes in the training and test cohorts.
    """

    prevalence: float
    cue_auc: dict[str, float] = field(default_factory=dict)
    boosted_auc: float = float("nan")
    n_train: int = 0
    n_test: int = 0

    def lines(self) -> list[str]:
        """The figures as readable lines."""
        out = [
            f"decision-point episodes: {self.n_train} train, {self.n_test} test",
            f"flare share (prevalence): {self.prevalence:.3f}",
            f"boosted proxy ROC AUC: {self.boosted_auc:.3f}",
        ]
        out += [f"single cue {name}: {auc:.3f}" for name, auc in self.cue_auc.items()]
        return out


@dataclass(frozen=True)
class _Episodes:
    features: pd.DataFrame
    flare: np.ndarray  # 1 for a flare episode, 0 for progression


def decision_point_episodes(scenario: Scenario, patients: int, seed: int, workers: int = 1):
    """Simulate a cohort and return its decision-point features and flare labels.

    Returns
    -------
    tuple of (DataFrame, ndarray)
        The engineered features (one row per decision-point episode) and the label of
        each (1 flare, 0 progression).
    """
    t = simulate(scenario, patients, seed, workers=workers)
    chosen = t.episodes[decision_points(t.episodes, t.patients, t.scans)]
    batch = build_batch(chosen, t.patients, t.labs, t.scans)
    labels = chosen.merge(t.episode_truth, on="episode_id", how="left")["label"]
    flare = (labels.astype(str) == "flare").to_numpy(dtype=np.int8)
    return extract_features(batch), flare


def _look_code(features: pd.DataFrame) -> np.ndarray:
    columns = [f"look_{k}" for k in LOOKS]
    return (features[columns].to_numpy() * np.arange(1, len(LOOKS) + 1)).sum(axis=1)


def _cue_values(features: pd.DataFrame, cue: str) -> np.ndarray:
    if cue == "lesion_look":
        return _look_code(features)
    return features[cue].to_numpy(dtype=float)


def _auc(flare: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(flare, score))


def _cue_score(train: _Episodes, test: _Episodes, cue: str) -> np.ndarray:
    """Score the test episodes by one cue, as learned from the training episodes."""
    x_train, x_test = _cue_values(train.features, cue), _cue_values(test.features, cue)
    if cue == "lesion_look":
        share = pd.Series(train.flare).groupby(x_train).mean()
        return share.reindex(x_test).fillna(train.flare.mean()).to_numpy()
    fill = np.nanmedian(x_train)
    x_train = np.where(np.isnan(x_train), fill, x_train)
    x_test = np.where(np.isnan(x_test), fill, x_test)
    sign = 1.0 if _auc(train.flare, x_train) >= 0.5 else -1.0
    return sign * x_test


def boosted_proxy(train: _Episodes) -> HistGradientBoostingClassifier:
    """Fit the boosted proxy of the oracle on the training episodes."""
    model = HistGradientBoostingClassifier(random_state=BOOSTING_SEED)
    return model.fit(train.features.to_numpy(dtype=float), train.flare)


def measure_difficulty(
    scenario: Scenario,
    *,
    train_patients: int = 60_000,
    test_patients: int = 30_000,
    seed: int = 2024,
    workers: int = 1,
) -> Difficulty:
    """Measure how hard the decision point of a scenario is.

    Parameters
    ----------
    scenario : Scenario
        The scenario to simulate.
    train_patients, test_patients : int
        Patients in the training and the test cohort.
    seed : int
        Seed of the training cohort; the test cohort uses ``seed + TEST_SEED_OFFSET``.
    workers : int
        Worker processes of each simulation (the figures do not depend on it).

    Returns
    -------
    Difficulty
        Prevalence, single-cue AUCs and the boosted proxy's AUC on the test cohort.
    """
    train = _Episodes(*decision_point_episodes(scenario, train_patients, seed, workers))
    test = _Episodes(
        *decision_point_episodes(scenario, test_patients, seed + TEST_SEED_OFFSET, workers)
    )
    if len(np.unique(train.flare)) < 2 or len(np.unique(test.flare)) < 2:
        raise ValueError("the decision points of a cohort hold only one class: cannot score")
    cue_auc = {cue: _auc(test.flare, _cue_score(train, test, cue)) for cue in CUES}
    model = boosted_proxy(train)
    p_flare = model.predict_proba(test.features.to_numpy(dtype=float))[:, 1]
    return Difficulty(
        prevalence=float(test.flare.mean()),
        cue_auc=cue_auc,
        boosted_auc=_auc(test.flare, p_flare),
        n_train=len(train.flare),
        n_test=len(test.flare),
    )


def calibration_misses(scenario: Scenario, patients: int, seed: int, workers: int = 1):
    """Simulate ``patients`` patients and return the targets they miss, and the count.

    Returns
    -------
    tuple of (DataFrame, int)
        The rows of :func:`~boneflare.simulator.calibration.check.check_tables` that do
        not pass, and the number of targets judged.
    """
    result = check_tables(simulate(scenario, patients, seed, workers=workers))
    return result[~result["pass"].astype(bool)], len(result)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m boneflare.benchmarks.difficulty",
        description="Decision-point difficulty of a scenario: flare share, single-cue "
        "AUCs and the boosted proxy of the oracle, measured on a test cohort.",
    )
    parser.add_argument("--scenario", default="paper", help="preset name or TOML file")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a field"
    )
    parser.add_argument("--train-patients", type=int, default=60_000)
    parser.add_argument("--test-patients", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--check-patients",
        type=int,
        default=0,
        metavar="N",
        help="also judge N patients against the calibration targets (0: skip)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Print the difficulty of a scenario (and its calibration misses); exit status."""
    args = _parser().parse_args(argv)
    try:
        scenario = load_scenario(args.scenario, args.set)
        difficulty = measure_difficulty(
            scenario,
            train_patients=args.train_patients,
            test_patients=args.test_patients,
            seed=args.seed,
            workers=args.workers,
        )
        print("\n".join(difficulty.lines()))
        if args.check_patients > 0:
            misses, judged = calibration_misses(
                scenario, args.check_patients, args.seed, args.workers
            )
            print(f"calibration targets met: {judged - len(misses)} of {judged}")
            for row in misses.itertuples():
                print(f"  missed {row.target}: {row.simulated:.4g} (wanted {row.wanted})")
    except (BoneflareError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
