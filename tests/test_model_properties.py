"""Invariants of the model over random valid scenarios and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import example, given
from strategies import seeds, simulation_overrides

from boneflare.simulator import load_scenario, simulate
from boneflare.simulator.kinetics import healing_activity
from boneflare.simulator.observation import RECIST_PD_FRACTION, RECIST_PD_MM, RECIST_PR_FRACTION
from boneflare.simulator.tables import CohortTables

N = 120


def _simulate(overrides, seed) -> tuple:
    scenario = load_scenario("paper", overrides)
    return scenario, simulate(scenario, N, seed)


def _flare_patients(t: CohortTables) -> pd.Index:
    labelled = t.episodes.merge(t.episode_truth, on="episode_id")
    return pd.Index(labelled.loc[labelled["label"] == "flare", "patient_id"].unique())


@given(simulation_overrides(), seeds)
def test_structural_invariants(overrides, seed):
    scenario, t = _simulate(overrides, seed)
    patients = t.patients.set_index("patient_id")
    truth = t.truth.set_index("patient_id")

    # No flare without bone metastases at baseline; none at all when disabled.
    assert patients.loc[truth.index[truth["flare"]], "bone_mets"].all()
    assert patients.loc[_flare_patients(t), "bone_mets"].all()
    if not scenario.flare.enabled:
        assert not truth["flare"].any() and len(_flare_patients(t)) == 0
    # Bone metastases are M1: never at stage IIIB.
    assert not (patients["bone_mets"] & (patients["stage"] == "IIIB")).any()

    # Lab values positive and finite.
    values = t.labs["value"].to_numpy()
    assert np.isfinite(values).all() and (values > 0).all()

    # Visit days strictly increasing per patient (per analyte) and inside the horizon.
    for frame, keys in ((t.labs, ["patient_id", "analyte"]), (t.scans, ["patient_id"])):
        days = frame["day"].astype(int)
        assert ((days >= 0) & (days <= scenario.horizon_days)).all()
        gaps = frame.assign(d=days).groupby(keys, observed=True)["d"].diff().dropna()
        assert (gaps > 0).all()

    # Nothing observed on or after drop-out.
    for frame in (t.labs, t.scans):
        dropout = truth.loc[frame["patient_id"], "dropout_day"].to_numpy()
        assert (frame["day"].to_numpy() < dropout).all()


@given(simulation_overrides(), seeds)
def test_recist_calls_follow_from_the_measured_sums(overrides, seed):
    _, t = _simulate(overrides, seed)
    for _, scans in t.scans.groupby("patient_id"):
        sums = scans["sld_mm"].to_numpy()
        calls = scans["recist_response"].astype(str).to_numpy()
        new = scans["new_lesion"].to_numpy()
        assert calls[0] == "baseline"
        base, nadir = sums[0], sums[0]
        for j in range(1, len(sums)):
            m = sums[j]
            if new[j] or (m >= RECIST_PD_FRACTION * nadir and m - nadir >= RECIST_PD_MM):
                expected = "PD"
            elif m == 0:
                expected = "CR"
            elif m <= RECIST_PR_FRACTION * base:
                expected = "PR"
            else:
                expected = "SD"
            assert calls[j] == expected, (j, sums, calls)
            nadir = min(nadir, m)


@given(simulation_overrides(), seeds)
@example(overrides={}, seed=214)  # a progression reading before any bone event
def test_episode_truth_is_consistent_with_latent_events(overrides, seed):
    scenario, t = _simulate(overrides, seed)
    ep = t.episodes.merge(t.episode_truth, on="episode_id").merge(t.truth, on="patient_id")
    scans = t.scans.set_index(["patient_id", "day"])
    # Every episode is a 'worse' bone reading on a follow-up scan.
    readings = scans.loc[list(zip(ep["patient_id"], ep["day"], strict=True)), "bone_reading"]
    assert (readings.astype(str) == "worse").all()
    assert (ep["scan_index"] > 0).all()
    bone_event = np.minimum(ep["bone_progression_day"], ep["new_bone_lesion_day"])
    progression = ep["label"] == "progression"
    # A progression episode comes on or after the bone event, or after the patient's
    # true progression elsewhere (from then on no 'worse' reading is a flare).
    progression_event = np.minimum(bone_event, ep["progression_day"])
    assert (ep.loc[progression, "day"] >= progression_event[progression]).all()
    flare = ep[~progression]
    assert flare["flare"].all()
    assert (flare["day"] < bone_event[~progression]).all()
    # After the patient's true progression (anywhere) no reading is a flare.
    assert (flare["day"] < flare["progression_day"]).all()
    activity = healing_activity(
        flare["day"].to_numpy(float),
        flare["flare_onset_day"].to_numpy(),
        flare["flare_duration_days"].to_numpy(),
    )
    assert (activity >= scenario.flare.visible_above).all()
    # Every worse reading is an episode.
    worse = t.scans[t.scans["bone_reading"] == "worse"]
    assert len(worse) == len(t.episodes)


def test_a_worse_reading_after_true_progression_is_never_labelled_flare():
    """Late flares, no control period: healing stays visible past true progression."""
    overrides = {"flare.controlled_min_days": 0.0, "flare.onset_median_days": 200.0}
    t = simulate(load_scenario("paper", overrides), 4000, seed=11)
    ep = t.episodes.merge(t.episode_truth, on="episode_id").merge(t.truth, on="patient_id")
    healing = healing_activity(
        ep["day"].to_numpy(float),
        ep["flare_onset_day"].to_numpy(),
        ep["flare_duration_days"].to_numpy(),
    )
    visible_after_progression = (
        (healing >= 0.35)
        & (ep["day"] >= ep["progression_day"])
        & (ep["day"] < np.minimum(ep["bone_progression_day"], ep["new_bone_lesion_day"]))
    )
    # Such readings exist here: healing visible after a soft-tissue progression ...
    assert visible_after_progression.sum() > 10
    # ... and every one is labelled progression: the right call there is to stop.
    assert (ep.loc[visible_after_progression, "label"] == "progression").all()
    assert (
        ep.loc[ep["label"] == "flare", "day"] < ep.loc[ep["label"] == "flare", "progression_day"]
    ).all()


@given(seeds)
def test_no_flare_scenario_has_no_flare_episode(seed):
    t = simulate(load_scenario("no_flare"), 400, seed)
    assert (t.episode_truth["label"] == "progression").all()
    assert not t.truth["flare"].any()


@given(seeds)
def test_paper57_trials_have_the_papers_exact_make_up(seed):
    t = simulate(load_scenario("paper57"), 57 * 3, seed)
    p = t.patients.assign(trial=t.patients["patient_id"] // 57)
    for _, trial in p.groupby("trial"):
        assert (trial["sex"] == "F").sum() == 29
        assert (trial["stage"] == "IV").sum() == 51
        assert trial["egfr_positive"].sum() == 11
        assert trial["bone_mets"].sum() == 30
        arms = trial["arm"].astype(str).value_counts().to_dict()
        assert arms == {"bev_tc": 35, "egfr_tki": 11, "pc": 6, "pd1_pc": 5}
        assert (trial.loc[trial["egfr_positive"], "arm"] == "egfr_tki").all()


def test_best_response_of_a_flare_patient_is_not_progression(paper_cohort):
    t = paper_cohort
    flare_ids = _flare_patients(t)
    best = t.truth.set_index("patient_id").loc[flare_ids, "best_response"]
    assert len(best) > 0
    assert (best != "PD").mean() > 0.95


def test_ct_shows_a_flare_at_every_scan_or_at_none():
    """CT sensitivity is a property of the lesion: one draw per flare, not per scan."""
    scenario = load_scenario("paper")
    t = simulate(scenario, 20_000, seed=5)
    scans = t.scans[t.scans["scan_index"] > 0].merge(t.truth, on="patient_id")
    scans = scans[scans["flare"]]
    healing = healing_activity(
        scans["day"].to_numpy(float),
        scans["flare_onset_day"].to_numpy(),
        scans["flare_duration_days"].to_numpy(),
    )
    bone_event = np.minimum(scans["bone_progression_day"], scans["new_bone_lesion_day"])
    visible = (healing >= scenario.flare.visible_above) & (scans["day"] < bone_event)
    seen = (scans.loc[visible, "bone_reading"] == "worse").groupby(scans.loc[visible, "patient_id"])
    shown = seen.mean()
    # Every flare patient with more than one scan in its visible window is read 'worse'
    # at all of them or at none of them ...
    several = seen.size() > 1
    assert several.sum() > 100
    assert shown[several].isin([0.0, 1.0]).all()
    # ... and the share CT shows is the CT sensitivity (binomial, 4 standard errors).
    n = len(shown)
    p = scenario.flare.ct_sensitivity
    assert abs((shown == 1.0).mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
