"""Calibration: figures on hand-made tables, the shipped preset's check, fit recovery, PPC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from boneflare.benchmarks.cli import main
from boneflare.simulator import load_scenario, simulate
from boneflare.simulator.calibration.check import check_tables
from boneflare.simulator.calibration.figures import (
    all_figures,
    alp_variation_figures,
    baseline_alp_figures,
    best_response_rates,
    dissociated_response_figures,
    flare_figures,
    kaplan_meier_median,
    lab_figures,
    onset_scan_figures,
)
from boneflare.simulator.calibration.fit import (
    FitTarget,
    FreeParameter,
    fit,
    fit_figures,
    with_values,
)
from boneflare.simulator.calibration.ppc import observed_figures, place, trial_figures
from boneflare.simulator.calibration.targets import large_n_targets
from boneflare.simulator.tables import CohortTables


def hand_made() -> CohortTables:
    """Four bone-metastatic patients and one without, with known answers.

    p0 flare (onset day 42), PR; ALP 100 -> 120 (day 21) -> 60 (day 147): rise, 60%.
    p1 flare (onset day 126), SD; ALP 200 -> 150 (day 140): 75%.
    p2 benefit, PR; ALP 100 -> 80 (day 150): 80%.
    p3 progression, PD; ALP 100 -> 150 (day 147): 150%; no draw near 147 for calcium;
       bone progression at the first follow-up CT while RECIST says SD (dissociated).
    p4 no bone metastases, NE.
    """
    patients = pd.DataFrame(
        {
            "patient_id": [0, 1, 2, 3, 4],
            "bone_mets": [True, True, True, True, False],
            "arm": pd.Categorical(["bev_tc"] * 5),
        }
    )
    labs = []
    for pid, series in {
        0: [(0, 100), (21, 120), (147, 60)],
        1: [(0, 200), (140, 150)],
        2: [(0, 100), (150, 80)],
        3: [(0, 100), (147, 150)],
        4: [(0, 90)],
    }.items():
        for day, alp in series:
            labs.append((pid, day, "alp", float(alp)))
            labs.append((pid, day, "calcium", 2.4 if day == 0 else 2.46))
    labs = pd.DataFrame(labs, columns=["patient_id", "day", "analyte", "value"])
    episodes = pd.DataFrame(
        {
            "episode_id": [1, 2, 3, 4, 5],
            "patient_id": [0, 0, 1, 3, 3],
            "day": [42, 84, 126, 84, 42],
            "scan_index": [1, 2, 3, 2, 1],
        }
    )
    episode_truth = pd.DataFrame(
        {
            "episode_id": [1, 2, 3, 4, 5],
            "label": ["flare", "flare", "flare", "progression", "progression"],
        }
    )
    # First follow-up CT of every patient (p0 at day 42 reads PR, p3 SD with bone PD).
    scans = pd.DataFrame(
        {
            "patient_id": [0, 1, 2, 3, 4],
            "day": [42] * 5,
            "scan_index": [1] * 5,
            "recist_response": ["PR", "SD", "PR", "SD", "SD"],
        }
    )
    truth = pd.DataFrame(
        {
            "patient_id": [0, 1, 2, 3, 4],
            "best_response": ["PR", "SD", "PR", "PD", "NE"],
            "new_bone_lesion_day": [np.inf] * 5,
        }
    )
    empty = pd.DataFrame()
    return CohortTables(
        patients=patients,
        labs=labs,
        scans=scans,
        episodes=episodes,
        truth=truth,
        episode_truth=episode_truth,
        decisions=empty,
    )


def test_figures_on_hand_made_tables():
    t = hand_made()
    assert best_response_rates(t) == {
        "objective_response_rate": 0.5,
        "stable_disease_rate": 0.25,
        "progressive_disease_rate": 0.25,
    }
    f = flare_figures(t)
    assert f["incidence_among_bone_mets"] == 0.5
    assert f["onset_median_days"] == 84.0
    assert f["fraction_onset_within_50_days"] == 0.5
    assert f["fraction_onset_after_180_days"] == 0.0
    assert f["fraction_flares_with_best_response_PD"] == 0.0
    assert f["fraction_flares_with_best_response_SD"] == 0.5  # p1 of p0, p1
    assert f["fraction_flares_without_baseline_bone_mets"] == 0.0
    # First flare reading: p0 at the first follow-up CT, p1 at the third.
    assert onset_scan_figures(t) == {
        "fraction_onset_at_second_ct": 0.0,
        "fraction_onset_at_third_ct_or_later": 0.5,
    }
    # Bone progression with RECIST SD at the first follow-up CT: p3 of five patients.
    assert dissociated_response_figures(t) == {"fraction_at_first_ct": 0.2}
    # Baseline ALP above 125 U/L: p1 (200) of the four bone-metastatic patients.
    assert baseline_alp_figures(t) == {"fraction_bone_mets_above_uln": 0.25}
    labs = lab_figures(t)
    assert labs["alp_percent_of_baseline_day147_flare"] == pytest.approx(67.5)  # median(60, 75)
    assert labs["alp_percent_of_baseline_day147_benefit"] == pytest.approx(80.0)
    assert labs["alp_percent_of_baseline_day147_progression"] == pytest.approx(150.0)
    assert labs["calcium_percent_of_baseline_day147_flare"] == pytest.approx(102.5)
    assert labs["fraction_bone_mets_with_5_month_labs"] == 1.0
    assert labs["fraction_flare_with_transient_alp_rise"] == 0.5  # p0 rose; p1 no early draw
    keys = set(all_figures(t))
    for target in large_n_targets():
        if target.kind != "ordering":
            assert target.key in keys


def test_alp_variation_counts_draws_before_any_bone_disease():
    """Seibel's statistic: RMS of per-patient CVs, bone-free draws, three draws at least."""
    patients = pd.DataFrame({"patient_id": [0, 1, 2, 3], "bone_mets": [False, False, True, False]})
    truth = pd.DataFrame(
        {"patient_id": [0, 1, 2, 3], "new_bone_lesion_day": [100.0, np.inf, np.inf, np.inf]}
    )
    series = {
        0: [(0, 100), (21, 110), (42, 90), (126, 300)],  # the day-126 draw follows a new lesion
        1: [(0, 50), (21, 50), (42, 50)],  # CV 0
        2: [(0, 100), (21, 200), (42, 50)],  # bone metastases: left out
        3: [(0, 80), (21, 120)],  # two draws: left out
    }
    labs = pd.DataFrame(
        [(pid, day, "alp", float(v)) for pid, draws in series.items() for day, v in draws],
        columns=["patient_id", "day", "analyte", "value"],
    )
    empty = pd.DataFrame()
    tables = CohortTables(
        patients=patients,
        labs=labs,
        scans=empty,
        episodes=empty,
        truth=truth,
        episode_truth=empty,
        decisions=empty,
    )
    figure = alp_variation_figures(tables)["within_patient_cv_without_bone_disease"]
    assert figure == pytest.approx(np.sqrt((0.1**2 + 0.0**2) / 2))  # p0: SD 10 over mean 100


def test_alp_variation_target_tells_patients_from_healthy_volunteers():
    """The shipped CV meets Seibel 2002's 12%; the healthy-volunteer 5.3% does not."""
    target = {t.key: t for t in large_n_targets()}[
        "alp_variation.within_patient_cv_without_bone_disease"
    ]
    figures = {}
    for within_cv in (None, 0.053):
        overrides = [] if within_cv is None else [f"alp.within_cv={within_cv}"]
        tables = simulate(load_scenario("paper", overrides), 5_000, seed=3)
        figures[within_cv] = {target.key: alp_variation_figures(tables)[target.key.split(".")[1]]}
    assert target.passes(figures[None])
    assert not target.passes(figures[0.053])


def test_kaplan_meier_median_matches_a_hand_computation():
    # Events at 1, 2, 3 (one censored at 2.5): S = 4/5, 3/5 (at 2), then 3/5 * 1/2 at 3.
    time = np.array([1.0, 2.0, 2.5, 3.0, 4.0])
    event = np.array([True, True, False, True, False])
    assert kaplan_meier_median(time, event) == 3.0
    assert np.isnan(kaplan_meier_median(np.array([5.0]), np.array([False])))


def test_targets_judge_values_bands_and_orderings():
    targets = {t.key: t for t in large_n_targets()}
    incidence = targets["flare.incidence_among_bone_mets"]
    assert incidence.passes({incidence.key: 0.25})
    assert not incidence.passes({incidence.key: 0.26})
    assert incidence.passes({incidence.key: 0.26}, {incidence.key: 0.01}, z=3)
    band = targets["alp_percent_of_baseline_day147.flare"]
    assert band.passes({band.key: 45.0}) and not band.passes({band.key: 81.0})
    order = targets["alp_percent_of_baseline_day147.ordering"]
    good = {
        "alp_percent_of_baseline_day147.flare": 70,
        "alp_percent_of_baseline_day147.benefit": 80,
        "alp_percent_of_baseline_day147.progression": 130,
    }
    assert order.passes(good)
    assert not order.passes({**good, "alp_percent_of_baseline_day147.benefit": 60})


@pytest.mark.slow
def test_shipped_paper_preset_meets_every_target_within_monte_carlo_error():
    """At a CI size, tolerances widened by 3 Monte Carlo standard errors (batch means)."""
    tables = simulate(load_scenario("paper"), 40_000, seed=2024)
    result = check_tables(tables, z=3.0)
    failed = result.loc[~result["pass"], ["target", "wanted", "simulated", "mc_se"]]
    assert failed.empty, failed.to_string()


def test_check_fails_when_the_model_misses_and_cli_exits_1(tmp_path, capsys):
    status = main(
        [
            "calibrate",
            "check",
            "--patients",
            "3000",
            "--set",
            "flare.enabled=false",
            "--out",
            str(tmp_path),
        ]
    )
    assert status == 1
    out = capsys.readouterr().out
    assert "flare.incidence_among_bone_mets" in out and "NO" in out
    assert (tmp_path / "calibration_check.csv").is_file()
    written = pd.read_csv(tmp_path / "calibration_check.csv")
    assert not written.loc[written["target"] == "flare.incidence_among_bone_mets", "pass"].item()


@pytest.mark.slow
def test_fit_recovers_known_parameters():
    """Simulate with known values; fit two parameters from elsewhere on another seed."""
    truth = with_values(
        load_scenario("paper"),
        {"flare.response_scale_per_day": 0.02, "alp.healing_surge_ratio": 0.6},
    )
    observed = fit_figures(simulate(truth, 30_000, seed=11))
    targets = [
        FitTarget(
            "flare.incidence_among_bone_mets", observed["flare.incidence_among_bone_mets"], 0.01
        ),
        FitTarget(
            "labs.fraction_flare_with_transient_alp_rise",
            observed["labs.fraction_flare_with_transient_alp_rise"],
            0.02,
        ),
    ]
    free = (
        FreeParameter(("flare.response_scale_per_day",)),
        FreeParameter(("alp.healing_surge_ratio",)),
    )
    start = with_values(
        truth, {"flare.response_scale_per_day": 0.01, "alp.healing_surge_ratio": 0.3}
    )
    result = fit(start, free=free, targets=targets, patients=30_000, seed=12, max_evaluations=60)
    assert result.objective < result.start_objective
    assert result.scenario.flare.response_scale_per_day == pytest.approx(0.02, rel=0.2)
    assert result.scenario.alp.healing_surge_ratio == pytest.approx(0.6, rel=0.25)


def test_ppc_places_observed_figures_in_simulated_trials():
    tables = simulate(load_scenario("paper57"), 57 * 40, seed=5)
    per_trial = trial_figures(tables)
    assert len(per_trial) == 40
    assert (
        per_trial["best_response.total.PR"]
        + per_trial["best_response.total.SD"]
        + per_trial["best_response.total.PD"]
        + per_trial["best_response.total.CR"]
        <= 57
    ).all()
    assert (per_trial["flares"] <= 30).all()
    result = place(observed_figures(), per_trial)
    assert set(result["figure"]) == set(observed_figures())
    assert result["percentile"].between(0, 100).all()
    fake = pd.DataFrame({"x": [1.0, 2.0, 2.0, 3.0]})
    placed = place({"x": 2.0}, fake).iloc[0]
    assert placed["percentile"] == 50.0 and placed["inside"]
    assert not place({"x": 9.0}, fake).iloc[0]["inside"]


def test_model_doc_parameter_table_is_current():
    from pathlib import Path

    from boneflare.simulator.scenarios.reference import render_model_doc

    path = Path(__file__).resolve().parents[1] / "docs" / "model.md"
    text = path.read_text()
    assert render_model_doc(text, load_scenario("paper")) == text, (
        "run: python -m boneflare.simulator.scenarios.reference"
    )
