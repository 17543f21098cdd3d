"""The benchmark harness through its Python API: results, metrics, failures, store, resume."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    log_loss,
    recall_score,
    roc_auc_score,
)
from test_harness_plugins import (
    BadActionTest,
    DeferTest,
    EarlyTest,
    FitFailsTest,
    LearnedTest,
    NaiveTest,
    NanTest,
    RaisesTest,
    ShapeTest,
)

from boneflare.benchmarks.harness import BenchmarkConfig, Execution, RunStore, run_benchmark
from boneflare.benchmarks.harness.consequences import CONSEQUENCE_METRICS
from boneflare.benchmarks.metrics import (
    DEFERRAL_POLICIES,
    METRIC_DIRECTIONS,
    TRADEOFF_METRICS,
    policy_metric,
)
from boneflare.simulator import simulate
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.observed import TASKS, decision_points

HONEST = [NaiveTest, EarlyTest, DeferTest, LearnedTest]
TIMING_METRICS = ("fit_seconds", "predict_seconds")
CONFIG = BenchmarkConfig(
    classifiers=HONEST, replicates=3, patients=300, seed=7, grid=["ct.interval_days=42,56"]
)


def comparable(results: pd.DataFrame) -> pd.DataFrame:
    """Results without the measured seconds (which differ between any two runs)."""
    keep = ~results["metric"].isin(TIMING_METRICS)
    return results[keep].reset_index(drop=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One small run of the honest test classifiers over a two-point grid."""
    return run_benchmark(CONFIG, tmp_path_factory.mktemp("bench") / "run")


def test_results_are_long_with_one_row_per_scenario_task_classifier_replicate_metric(run):
    results = run.results
    columns = ["scenario", "task", "classifier", "replicate", "metric", "value"]
    assert list(results.columns) == columns
    assert not results.duplicated(columns[:-1]).any()
    assert list(results["task"].unique()) == list(TASKS)  # the headline task first
    metrics = set(results.loc[results["task"] == "all_episodes", "metric"])
    assert metrics == {
        "roc_auc",
        "sensitivity_flare",
        "specificity",
        "balanced_accuracy",
        "brier",
        "log_loss",
        "n_episodes",
        "n_flare",
        *CONSEQUENCE_METRICS,
        *TIMING_METRICS,
    }
    deferral = {policy_metric(m, p) for m in TRADEOFF_METRICS for p in DEFERRAL_POLICIES[1:]}
    decision_metrics = set(results.loc[results["task"] == "decision_point", "metric"])
    assert decision_metrics == metrics | deferral
    assert decision_metrics <= set(METRIC_DIRECTIONS)
    n_points, n_classifiers = 2, len(HONEST)
    per_task = len(metrics) + len(decision_metrics)
    assert len(results) == n_points * n_classifiers * CONFIG.replicates * per_task
    assert run.failures.empty
    assert run.units_run == n_points * CONFIG.replicates


def test_every_metric_agrees_with_scikit_learn_on_the_stored_predictions(run):
    keys = ["scenario", "task", "classifier", "replicate"]
    wide = run.results.pivot_table(index=keys, columns="metric", values="value")
    thresholds = {e.label: e.prototype.threshold for e in run.plan.classifiers}
    groups = run.predictions.groupby(keys, observed=True)
    assert len(groups) == len(wide)
    assert set(wide.index.get_level_values("task")) == set(TASKS)
    for key, rows in groups:
        y, p = rows["y"].to_numpy(), rows["p_flare"].to_numpy()
        called = (p >= thresholds[key[2]]).astype(int)
        m = wide.loc[key]
        assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
        assert m["sensitivity_flare"] == pytest.approx(recall_score(y, called), abs=1e-12)
        assert m["specificity"] == pytest.approx(recall_score(1 - y, 1 - called), abs=1e-12)
        assert m["balanced_accuracy"] == pytest.approx(
            balanced_accuracy_score(y, called), abs=1e-12
        )
        assert m["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
        assert m["log_loss"] == pytest.approx(log_loss(y, p, labels=[0, 1]), abs=1e-9)
        assert m["n_episodes"] == len(y)
        assert m["n_flare"] == y.sum()


def test_predictions_hold_every_episode_of_every_test_cohort_with_its_truth(run):
    unit = run.plan.units[0]
    cohort = simulate(run.plan.point(unit.scenario).scenario, unit.patients, unit.seed)
    rows = run.predictions[
        (run.predictions["scenario"] == unit.scenario)
        & (run.predictions["replicate"] == unit.replicate)
        & (run.predictions["classifier"] == "early_test")
        & (run.predictions["task"] == "all_episodes")
    ]
    assert rows["episode_id"].tolist() == sorted(cohort.episodes["episode_id"])
    truth = cohort.episode_truth.set_index("episode_id")["label"]
    expected = (truth.loc[rows["episode_id"]].astype(str) == "flare").astype(int).to_numpy()
    assert (rows["y"].to_numpy() == expected).all()
    deferring = run.predictions[run.predictions["classifier"] == "defer_test"]
    assert set(deferring["action"].astype(str)) == {"continue", "stop", "defer"}


def test_decision_point_rows_are_the_decision_points_of_the_all_episode_rows(run):
    columns = ["episode_id", "patient_id", "day", "y", "p_flare", "action"]
    for _, rows in run.predictions.groupby(["scenario", "classifier", "replicate"], observed=True):
        every = rows[rows["task"] == "all_episodes"].reset_index(drop=True)
        chosen = rows[rows["task"] == "decision_point"].reset_index(drop=True)
        # a subset, row for row identical, at most one per patient
        merged = chosen.merge(every, on=columns, how="left", indicator=True)
        assert (merged["_merge"] == "both").all()
        assert chosen["patient_id"].is_unique
        assert len(chosen) < len(every)
    unit = run.plan.units[0]
    cohort = simulate(run.plan.point(unit.scenario).scenario, unit.patients, unit.seed)
    expected = cohort.episodes.loc[
        decision_points(cohort.episodes, cohort.patients, cohort.scans), "episode_id"
    ]
    rows = run.predictions[
        (run.predictions["scenario"] == unit.scenario)
        & (run.predictions["replicate"] == unit.replicate)
        & (run.predictions["classifier"] == "early_test")
        & (run.predictions["task"] == "decision_point")
    ]
    assert rows["episode_id"].tolist() == sorted(expected)


def test_consequences_are_inferred_per_classifier(run):
    every = run.results[run.results["task"] == "all_episodes"]
    board = every.pivot_table(index="classifier", columns="metric", values="value")
    naive, early = board.loc["naive_test"], board.loc["early_test"]
    # calling everything progression stops every flare patient still on effective treatment
    assert naive["flare_patients_stopped_share"] > early["flare_patients_stopped_share"]
    assert naive["effective_days_lost"] > early["effective_days_lost"]
    assert naive["episodes_deferred_share"] == 0
    assert board.loc["defer_test", "episodes_deferred_share"] > 0


def test_provenance_records_versions_hashes_seeds_and_parameters(run):
    info = json.loads((run.path / "provenance.json").read_text())
    assert info["status"] == "complete"
    assert info["versions"]["boneflare"]
    exp = info["experiment"]
    assert [s["hash"] for s in exp["scenarios"]] == [p.hash for p in run.plan.points]
    assert {c["label"]: c["params"] for c in exp["classifiers"]}["early_test"] == {
        "window_days": 84
    }
    assert len(info["seeds"]["units"]) == len(run.plan.units)
    assert [j["model"] for j in info["seeds"]["training"]] == [j.key for j in run.plan.jobs]
    phases = info["timings"]["phases"]
    for phase in ("simulate", "build_batch", "fit", "predict", "metrics", "store"):
        assert phase in phases


def test_learned_classifiers_are_fitted_once_per_training_scenario(run):
    models = sorted(p.name for p in (run.path / "models").iterdir())
    assert models == sorted(f"{j.key}.pkl" for j in run.plan.jobs)
    assert len(models) == 2  # one per grid point, reused by its 3 replicates
    fit = run.results[
        (run.results["classifier"] == "learned_test") & (run.results["metric"] == "fit_seconds")
    ]
    assert fit.groupby("scenario")["value"].nunique().eq(1).all()


def test_the_oracle_is_never_capped(tmp_path):
    from boneflare.benchmarks.harness import make_plan
    from boneflare.classifiers.oracle import BayesOracle

    config = BenchmarkConfig(
        classifiers=["bayes_oracle", "logistic"], max_training_patients=500, replicates=1
    )
    sizes = {j.classifier: j.patients for j in make_plan(config).jobs}
    assert sizes == {"bayes_oracle": BayesOracle.training_patients, "logistic": 500}


def test_a_run_folder_is_never_overwritten(run):
    with pytest.raises(BoneflareError, match="already exists; use --resume"):
        run_benchmark(CONFIG, run.path)


def test_resume_of_a_finished_run_redoes_nothing_and_keeps_the_results(run):
    again = run_benchmark(CONFIG, run.path, resume=True)
    assert again.units_run == 0
    assert again.units_skipped == len(run.plan.units)
    pd.testing.assert_frame_equal(again.results, run.results)


def test_resume_refuses_a_different_benchmark(run):
    other = BenchmarkConfig(**{**CONFIG.__dict__, "seed": 8})
    with pytest.raises(BoneflareError, match=r"different benchmark .*seed"):
        run_benchmark(other, run.path, resume=True)


def test_resume_completes_a_partial_run_without_redoing_stored_units(run, tmp_path):
    partial = tmp_path / "partial"
    run_benchmark(CONFIG, partial)
    store = RunStore(partial)
    kept = sorted(store.done_units())[:2]
    stamps = {u: (store.units_dir / u / "results.parquet").stat().st_mtime_ns for u in kept}
    for unit in sorted(store.done_units())[2:]:  # as if the run had died after two units
        for f in (store.units_dir / unit).iterdir():
            f.unlink()
        (store.units_dir / unit).rmdir()
    (store.units_dir / ".tmp-half-written").mkdir()  # a unit being written when it died
    resumed = run_benchmark(CONFIG, partial, resume=True)
    assert resumed.units_skipped == 2
    assert resumed.units_run == len(run.plan.units) - 2
    assert not (store.units_dir / ".tmp-half-written").exists()
    for unit, stamp in stamps.items():
        assert (store.units_dir / unit / "results.parquet").stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(comparable(resumed.results), comparable(run.results))
    pd.testing.assert_frame_equal(resumed.predictions, run.predictions)


def test_force_replaces_a_run_but_not_a_foreign_folder(tmp_path):
    small = BenchmarkConfig(classifiers=[NaiveTest], replicates=1, patients=100)
    first = run_benchmark(small, tmp_path / "run")
    (first.path / "units" / "stale-unit").mkdir()
    second = run_benchmark(small, tmp_path / "run", force=True)
    assert "stale-unit" not in {p.name for p in second.path.joinpath("units").iterdir()}
    assert len(RunStore(second.path).done_units()) == 1
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(BoneflareError, match="not a benchmark run folder"):
        run_benchmark(small, foreign, force=True)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_local_pool_gives_the_same_results_as_one_process(run, tmp_path):
    pooled = run_benchmark(CONFIG, tmp_path / "pooled", execution=Execution(workers=2))
    pd.testing.assert_frame_equal(comparable(pooled.results), comparable(run.results))
    pd.testing.assert_frame_equal(pooled.predictions, run.predictions)


def test_broken_classifiers_are_recorded_as_failed_while_the_others_complete(tmp_path):
    broken = [RaisesTest, NanTest, ShapeTest, BadActionTest, FitFailsTest]
    config = BenchmarkConfig(classifiers=[EarlyTest, *broken], replicates=2, patients=200, seed=3)
    result = run_benchmark(config, tmp_path / "run", execution=Execution(workers=2))
    assert set(result.results["classifier"]) == {"early_test"}
    assert result.results.groupby("replicate").size().nunique() == 1
    failures = result.failures
    assert set(failures["classifier"]) == {c.name for c in broken}
    by_name = failures.groupby("classifier")
    assert by_name.size().to_dict() == {
        "raises_test": 2,
        "nan_test": 2,
        "shape_test": 2,
        "bad_action_test": 2,
        "fit_fails_test": 1,  # once, at the training stage
    }
    messages = by_name["message"].first()
    assert messages["raises_test"] == "RuntimeError: boom in predict"
    assert "NaN" in messages["nan_test"]
    assert "shape" in messages["shape_test"]
    assert "action" in messages["bad_action_test"]
    assert messages["fit_fails_test"] == "ValueError: cannot fit"
    assert set(failures.loc[failures["classifier"] == "fit_fails_test", "stage"]) == {"fit"}
    stored = pd.read_parquet(result.path / "failures.parquet")
    pd.testing.assert_frame_equal(stored, failures)


def test_undefined_metrics_are_missing_never_zero_or_one(tmp_path):
    config = BenchmarkConfig(
        classifiers=[EarlyTest], overrides=["flare.enabled=false"], replicates=2, patients=200
    )
    result = run_benchmark(config, tmp_path / "run")
    every = result.results[result.results["task"] == "all_episodes"]
    values = every.set_index(["replicate", "metric"])["value"]
    for replicate in range(2):
        assert values[(replicate, "n_flare")] == 0
        for metric in (
            "roc_auc",
            "sensitivity_flare",
            "balanced_accuracy",
            "flare_patients_stopped_share",
        ):
            assert math.isnan(values[(replicate, metric)]), metric
        assert not math.isnan(values[(replicate, "specificity")])


def test_closed_loop_runs_each_classifier_as_the_policy(tmp_path):
    open_config = BenchmarkConfig(classifiers=[NaiveTest, DeferTest], replicates=1, patients=200)
    closed_config = BenchmarkConfig(**{**open_config.__dict__, "closed_loop": True})
    opened = run_benchmark(open_config, tmp_path / "open")
    closed = run_benchmark(closed_config, tmp_path / "closed")
    assert closed.timings["phases"]["closed_loop"] > 0
    assert "closed_loop" not in opened.timings["phases"]
    # a policy's call depends only on its episode's history: both ways agree
    pd.testing.assert_frame_equal(comparable(closed.results), comparable(opened.results))


def test_train_scenario_trains_on_it_and_records_it(tmp_path):
    config = BenchmarkConfig(
        classifiers=[LearnedTest], replicates=1, patients=200, train_scenario="ct_every_12_weeks"
    )
    result = run_benchmark(config, tmp_path / "run")
    info = json.loads((result.path / "provenance.json").read_text())
    assert info["experiment"]["train_scenario"]["label"] == "ct_every_12_weeks"
    assert info["seeds"]["training"][0]["scenario"] == "ct_every_12_weeks"
    assert np.isfinite(result.results["value"]).any()


def test_progress_bars_show_on_request(tmp_path, capsys):
    config = BenchmarkConfig(classifiers=[EarlyTest, LearnedTest], replicates=2, patients=100)
    run_benchmark(config, tmp_path / "run", execution=Execution(progress=True))
    err = capsys.readouterr().err
    assert "fitting models" in err
    assert "scoring units" in err


def test_a_run_in_which_every_classifier_fails_still_completes_and_reports(tmp_path):
    from boneflare.benchmarks.report import write_report
    from boneflare.benchmarks.report.leaderboard import leaderboard_markdown, summarise_run

    config = BenchmarkConfig(classifiers=[RaisesTest, FitFailsTest], replicates=2, patients=100)
    result = run_benchmark(config, tmp_path / "run")
    assert result.results.empty
    assert len(result.failures) == 3
    text = leaderboard_markdown(summarise_run(result.results, result.failures, None))
    assert "raises_test failed in predict (2 unit(s))" in text
    assert (write_report(result.path) / "index.html").is_file()
