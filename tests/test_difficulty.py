"""The decision-point difficulty measure (benchmarks/difficulty.py)."""

from __future__ import annotations

import pytest

from boneflare.benchmarks.difficulty import CUES, decision_point_episodes, measure_difficulty
from boneflare.simulator import load_scenario
from boneflare.simulator.observed import decision_points
from boneflare.simulator.run import simulate


def test_episodes_are_the_decision_points_with_their_labels():
    scenario = load_scenario("paper")
    features, flare = decision_point_episodes(scenario, 1500, seed=3)
    t = simulate(scenario, 1500, 3)
    chosen = t.episodes[decision_points(t.episodes, t.patients, t.scans)]
    truth = chosen.merge(t.episode_truth, on="episode_id")["label"].astype(str)
    assert len(features) == len(chosen) == len(flare)
    assert flare.tolist() == (truth == "flare").astype(int).tolist()
    assert (features["bone_mets"] == 1).all()


def test_measure_reports_every_cue_and_a_boosted_auc_on_the_test_cohort():
    d = measure_difficulty(load_scenario("paper"), train_patients=3000, test_patients=2000, seed=5)
    assert set(d.cue_auc) == set(CUES)
    assert 0.0 < d.prevalence < 1.0
    assert d.n_train > d.n_test > 0
    for auc in [d.boosted_auc, *d.cue_auc.values()]:
        assert 0.0 <= auc <= 1.0
    assert d.boosted_auc > 0.6  # the boosted proxy learns something on the paper scenario
    assert len(d.lines()) == 3 + len(CUES)
    again = measure_difficulty(
        load_scenario("paper"), train_patients=3000, test_patients=2000, seed=5
    )
    assert again == d


def test_a_scenario_without_flares_cannot_be_scored():
    with pytest.raises(ValueError, match="one class"):
        measure_difficulty(
            load_scenario("no_flare"), train_patients=1000, test_patients=1000, seed=1
        )


def test_the_difficulty_dial_moves_the_boosted_auc_monotonically():
    """More osteoblastic reaction in progression readings: a harder decision point."""
    aucs = []
    for reaction in (0.0, 0.5, 1.0):
        scenario = load_scenario("paper", {"bone.progression_reaction": reaction})
        d = measure_difficulty(scenario, train_patients=6000, test_patients=4000, seed=7)
        aucs.append((d.boosted_auc, d.cue_auc["lesion_look"]))
    boosted, look = zip(*aucs, strict=True)
    assert boosted[0] > boosted[1] > boosted[2], boosted
    assert look[0] > look[1] > look[2], look
