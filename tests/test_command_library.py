"""What the commands do is reachable from Python: each command calls one library function."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from boneflare.benchmarks.cli import build_parser
from boneflare.benchmarks.commands.benchmark import config_from_args
from boneflare.benchmarks.runs import (
    DEFAULTS,
    QUICK,
    benchmark_config,
    default_workers,
    execution,
)
from boneflare.simulator import load_scenario
from boneflare.simulator.calibration.fit import FitResult
from boneflare.simulator.calibration.fitted import (
    DESCRIPTION,
    fit_start,
    fit_to_file,
    fitted_scenario,
    write_fitted,
)
from boneflare.simulator.calibration.ppc import write_ppc
from boneflare.simulator.calibration.report import calibration_report, trial_scenario
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.run import RunSpec
from boneflare.simulator.scenarios import scenario_hash, scenario_to_dict


def _parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_benchmark_defaults_fill_only_the_sizes_not_given():
    full = benchmark_config()
    assert (full.replicates, full.patients, full.max_training_patients) == (
        DEFAULTS["replicates"],
        DEFAULTS["patients"],
        DEFAULTS["max_training_patients"],
    )
    quick = benchmark_config("recist_naive", "paper", quick=True, patients=321, seed=4)
    assert quick.replicates == QUICK["replicates"]
    assert quick.patients == 321
    assert quick.max_training_patients == QUICK["max_training_patients"]
    assert quick.scenarios == ["paper"] and quick.seed == 4


def test_benchmark_command_builds_the_config_the_library_builds():
    args = _parse("benchmark", "--quick", "--scenario", "paper, paper57", "--replicates", "3")
    from_cli = config_from_args(args)
    from_python = benchmark_config(
        "all", ["paper", "paper57"], quick=True, replicates=3, overrides=[], grid=[]
    )
    assert from_cli == from_python


def test_execution_defaults_to_every_cpu_locally_and_one_process_with_dask():
    assert execution().workers == default_workers()
    assert execution("dask", scheduler="tcp://x:1").workers == 1
    assert execution(workers=3, timeout=5.0).workers == 3
    assert execution(timeout=5.0).timeout == 5.0


def _fit_result() -> FitResult:
    """A fit's outcome, made by hand: two values moved off the defaults."""
    start = fit_start(["labs.noise=1.5"])
    return FitResult(
        scenario=start,
        objective=0.123456,
        start_objective=9.87654,
        evaluations=42,
        values={"flare.propensity": 0.012345678},
        figures={},
    )


def test_fit_start_is_the_default_model_with_overrides():
    start = fit_start(["labs.noise=1.5"])
    assert start.labs.noise == 1.5
    with pytest.raises(BoneflareError, match="nope"):
        fit_start(["nope.x=1"])


def test_fitted_file_loads_back_as_the_fitted_scenario_with_its_provenance(tmp_path):
    result = _fit_result()
    out = write_fitted(
        result, tmp_path / "fitted.toml", seed=3, patients=500, name="mine", overrides=["a=1"]
    )
    text = out.read_text()
    assert "#   flare.propensity = 0.01235" in text
    assert "seed 3; 500 patients per evaluation" in text
    assert "42 evaluations; objective 9.8765 -> 0.1235" in text
    assert "overrides of the start: a=1" in text
    loaded = load_scenario(str(out))
    assert loaded.name == "mine" and loaded.description == DESCRIPTION
    assert scenario_hash(loaded) == scenario_hash(fitted_scenario(result, "mine"))
    with pytest.raises(BoneflareError, match="already exists"):
        write_fitted(result, out, seed=3, patients=500)
    write_fitted(result, out, seed=4, patients=500, force=True)
    assert "seed 4;" in out.read_text()


def test_fit_to_file_refuses_an_existing_file_before_any_work(tmp_path):
    out = tmp_path / "fitted.toml"
    out.write_text("keep me")

    def never(n: int, best: float) -> None:
        raise AssertionError("the fit started")

    with pytest.raises(BoneflareError, match="already exists"):
        fit_to_file(out, patients=10, max_evaluations=1, progress=never)
    assert out.read_text() == "keep me"


def test_trial_scenario_changes_the_design_only():
    paper = load_scenario("paper")
    trials = trial_scenario(paper)
    assert trials.cohort.design == "paper57"
    raw, raw_trials = scenario_to_dict(paper), scenario_to_dict(trials)
    raw["cohort"].pop("design"), raw_trials["cohort"].pop("design")
    assert raw == raw_trials


def test_calibration_report_writes_markdown_and_figures(tmp_path):
    path = calibration_report(
        load_scenario("paper"), tmp_path / "report", patients=2000, replicates=10, seed=2
    )
    assert path == tmp_path / "report" / "report.md"
    text = path.read_text()
    assert "Large cohort: 2,000 patients. Trials: 10 of 57 patients." in text
    for figure in ("targets.png", "figure1_alp_calcium.png", "flare_onsets.png"):
        assert (path.parent / figure).stat().st_size > 0


def test_ppc_tables_are_written_as_csv_and_markdown(tmp_path):
    result = pd.DataFrame(
        {
            "figure": ["flares"],
            "observed": [7.0],
            "simulated_median": [6.0],
            "interval_low": [2.0],
            "interval_high": [12.0],
            "percentile": [61.0],
            "inside": [True],
        }
    )
    csv, md = write_ppc(result, tmp_path / "ppc", "A title")
    pd.testing.assert_frame_equal(pd.read_csv(csv), result)
    text = md.read_text()
    assert text.startswith("# A title") and "| flares | 7 | 6 | 2 to 12 | 61 | yes |" in text


def test_simulate_provenance_names_what_the_cohort_was_made_from():
    scenario = load_scenario("paper", ["labs.noise=1.5"])
    info = RunSpec(scenario, seed=9).provenance(1000)
    assert info["seed"] == 9 and info["patients"] == 1000 and info["patient_id"] is None
    assert info["engine"] == "batched" and info["policy"] is None
    assert info["scenario_hash"] == scenario_hash(scenario)
    assert info["scenario"]["labs"]["noise"] == 1.5
    assert RunSpec(scenario, seed=9).provenance(1, patient_id=17)["patient_id"] == 17


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from boneflare.benchmarks.runs import run_benchmark

    out = tmp_path_factory.mktemp("runs") / "small"
    return run_benchmark(
        ["recist_naive", "timing_window"], replicates=2, patients=150, workers=1, out=out
    )


def test_leaderboard_text_is_what_the_report_command_prints(small_run, capsys):
    from boneflare.benchmarks.cli import main
    from boneflare.benchmarks.report.printed import leaderboard_text

    text = leaderboard_text(small_run.path, width=120)
    assert text.startswith(f"Leaderboard of {small_run.path}")
    assert "recist_naive" in text and "timing_window" in text
    assert main(["report", str(small_run.path), "--format", "table", "--width", "120"]) == 0
    assert capsys.readouterr().out == text
    in_memory = {"results": small_run.results, "failures": small_run.failures}
    assert leaderboard_text(small_run.path, width=120, tables=in_memory) == text


def test_a_metric_to_show_or_rank_by_must_be_in_the_results(small_run):
    from boneflare.benchmarks.report.printed import check_metrics

    results = small_run.results[small_run.results["metric"] != "brier"]
    with pytest.raises(BoneflareError, match="'brier' is not in this run's results"):
        check_metrics(results, ["roc_auc", "brier"], "roc_auc")
    with pytest.raises(BoneflareError, match="'brier'"):
        check_metrics(results, None, "brier")
    check_metrics(results.iloc[:0], None, "brier")  # nothing scored: nothing to rank by
