"""Outputs that lose nothing and results that cannot lie: the store, resume, exit codes.

Damaged files are recomputed on resume, a changed plugin version is refused, --force
spares a user's files, simulate and benchmark refuse each other's folders, every
metric counts the replicates planned, and the exit codes mean what docs/cli.md says.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_harness_plugins import EarlyTest, LearnedTest, NaiveTest, cli, plugin_env

from boneflare.benchmarks.aggregate import summarise
from boneflare.benchmarks.harness import BenchmarkConfig, RunStore, run_benchmark
from boneflare.benchmarks.harness.manifest import MANIFEST
from boneflare.benchmarks.harness.tables import complete_results
from boneflare.benchmarks.report.formats import to_markdown
from boneflare.benchmarks.report.leaderboard import summarise_run

CONFIG = BenchmarkConfig(
    classifiers=[NaiveTest, EarlyTest, LearnedTest],
    replicates=2,
    patients=150,
    seed=9,
    max_training_patients=300,
)
TIMING = ["fit_seconds", "predict_seconds"]


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame["metric"].isin(TIMING)].reset_index(drop=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return run_benchmark(CONFIG, tmp_path_factory.mktemp("clean") / "run")


def _truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_truncated_unit_and_model_files_are_recomputed_on_resume(clean, tmp_path):
    out = tmp_path / "run"
    run_benchmark(CONFIG, out)
    unit = sorted((out / "units").iterdir())[0]
    _truncate(unit / "results.parquet")
    model = next((out / "models").glob("*.pkl"))
    _truncate(model)
    notices: list[str] = []
    resumed = run_benchmark(CONFIG, out, resume=True, on_event=notices.append)
    assert any(n.startswith(f"unit {unit.name}: ") and "checksum" in n for n in notices)
    assert any(n.startswith(f"model {model.name}: ") and "fitting it again" in n for n in notices)
    assert resumed.units_run == 1  # the refit model is the same fit: other units stand
    pd.testing.assert_frame_equal(_comparable(resumed.results), _comparable(clean.results))
    pd.testing.assert_frame_equal(resumed.predictions, clean.predictions)


def test_a_missing_unit_is_recomputed_with_a_notice(clean, tmp_path):
    out = tmp_path / "run"
    config = BenchmarkConfig(classifiers=[NaiveTest, EarlyTest], replicates=2, patients=150, seed=9)
    run_benchmark(config, out)
    unit = sorted((out / "units").iterdir())[1]
    for file in unit.iterdir():
        file.unlink()
    unit.rmdir()
    notices: list[str] = []
    resumed = run_benchmark(config, out, resume=True, on_event=notices.append)
    assert any(n.startswith(f"unit {unit.name}: ") and "missing" in n for n in notices)
    assert resumed.units_run == 1


def test_force_replaces_only_what_boneflare_wrote(tmp_path):
    out = tmp_path / "run"
    small = BenchmarkConfig(classifiers=[NaiveTest], replicates=1, patients=100)
    run_benchmark(small, out)
    (out / "thesis.docx").write_text("my thesis")
    (out / "units" / "my-notes.txt").write_text("notes")
    again = run_benchmark(small, out, force=True)
    assert (out / "thesis.docx").read_text() == "my thesis"
    assert (out / "units" / "my-notes.txt").read_text() == "notes"
    assert len(again.results) and (out / MANIFEST).is_file()


def test_simulate_and_benchmark_refuse_each_others_folders(tmp_path, capsys):
    from boneflare.benchmarks.cli import main

    cohort = tmp_path / "cohort"
    assert main(["simulate", "--patients", "20", "--out", str(cohort)]) == 0
    capsys.readouterr()
    bench = ["benchmark", "--classifiers", "recist_naive", "--replicates", "1", "--patients", "50"]
    assert main([*bench, "--out", str(cohort), "--force"]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds cohort tables" in err and len(err.splitlines()) == 1
    run = tmp_path / "run"
    run_benchmark(BenchmarkConfig(classifiers=[NaiveTest], replicates=1, patients=50), run)
    before = (run / "provenance.json").read_text()
    assert main(["simulate", "--patients", "20", "--out", str(run), "--force"]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds a benchmark run" in err and len(err.splitlines()) == 1
    assert (run / "provenance.json").read_text() == before


def test_a_plugin_version_bump_is_refused_on_resume_unless_rerun_changed(tmp_path):
    plugins = tmp_path / "plugins"
    env = plugin_env(plugins, (NaiveTest, EarlyTest), version="1.0")
    out = tmp_path / "run"
    args = ["benchmark", "--classifiers", "naive_test,early_test", "--replicates", "2"]
    args += ["--patients", "100", "--out", str(out), "--no-progress", "--workers", "1"]
    assert cli(env, *args).returncode == 0
    versions = json.loads((out / "provenance.json").read_text())["classifier_versions"]
    assert versions["early_test"] == "boneflare-test-plugins 1.0"
    env = plugin_env(plugins, (NaiveTest, EarlyTest), version="2.0")
    refused = cli(env, *args, "--resume")
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "1.0" in line and "2.0" in line and "--rerun-changed" in line
    assert "naive_test" in line or "early_test" in line
    rerun = cli(env, *args, "--resume", "--rerun-changed")
    assert rerun.returncode == 0, rerun.stderr
    assert "recomputing its units" in rerun.stderr
    info = json.loads((out / "provenance.json").read_text())
    assert info["classifier_versions"]["early_test"] == "boneflare-test-plugins 2.0"
    assert info["sessions"][-1]["units_run"] == 2


def test_a_session_is_recorded_when_it_starts(tmp_path):
    out = tmp_path / "run"
    small = BenchmarkConfig(classifiers=[NaiveTest], replicates=1, patients=50)
    seen = []

    def look(message: str) -> None:  # called while the run is under way
        seen.append(json.loads((out / "provenance.json").read_text())["sessions"])

    from boneflare.benchmarks.harness.execute import Execution

    run_benchmark(small, out, execution=Execution(progress=False), on_event=look)
    run_benchmark(small, out, resume=True, on_event=look)
    assert seen and seen[-1][-1]["status"] == "running" and "started" in seen[-1][-1]
    sessions = RunStore(out).read_provenance()["sessions"]
    assert [s["status"] for s in sessions] == ["finished", "finished"]


# ----------------------------------------------------------------- honest accounting
def _results(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["scenario", "classifier", "replicate", "metric", "value"])
    frame.insert(1, "task", "decision_point")
    return frame


def _failure(classifier: str, replicate: int) -> pd.DataFrame:
    return pd.DataFrame(
        [{"scenario": "s", "classifier": classifier, "replicate": replicate,
          "unit": f"u{replicate}", "stage": "predict", "message": "RuntimeError: boom"}]
    )  # fmt: skip


def test_a_failed_replicate_counts_as_missing_and_is_marked_and_ranked_last():
    rows = []
    for r in range(3):
        rows += [("s", "ref", r, "roc_auc", 0.6), ("s", "ref", r, "brier", 0.2)]
        rows += [("s", "weak", r, "roc_auc", 0.55), ("s", "weak", r, "brier", 0.25)]
        if r < 2:  # "strong" failed in replicate 2
            rows += [("s", "strong", r, "roc_auc", 0.9), ("s", "strong", r, "brier", 0.1)]
    results = complete_results(
        _results(rows), [("s", r) for r in range(3)], ["ref", "strong", "weak"]
    )
    summary = summarise(results)
    assert ((summary["n"] + summary["n_missing"]) == 3).all()
    strong = summary[(summary["classifier"] == "strong") & (summary["metric"] == "roc_auc")]
    assert int(strong["n"].iloc[0]) == 2 and int(strong["n_missing"].iloc[0]) == 1
    text = to_markdown(summarise_run(results, _failure("strong", 2), "ref", planned=3))
    board = [line for line in text.splitlines() if line.startswith("| ")]
    names = [line.split("|")[2].strip() for line in board[1:4]]
    assert names == ["ref", "weak", "strong †"]
    assert "† strong: scored in 2 of 3 replicates" in text
    headings = [line for line in text.splitlines() if line.startswith("## s")]
    assert headings and all("of 3 replicates" in h for h in headings)


def test_paired_differences_say_when_the_reference_failed():
    rows = []
    for r in range(4):
        rows.append(("s", "other", r, "roc_auc", 0.7 + r / 100))
        if r != 1:
            rows.append(("s", "ref", r, "roc_auc", 0.6))
    results = complete_results(_results(rows), [("s", r) for r in range(4)], ["ref", "other"])
    text = to_markdown(summarise_run(results, _failure("ref", 1), "ref", planned=4))
    assert "the reference failed in 1 of 4 replicates" in text
    assert "only the 3 where it was scored are paired" in text


def test_complete_results_keeps_every_scored_value_untouched():
    rng = np.random.default_rng(0)
    rows = [("a", c, r, m, rng.random()) for r in range(2) for c in "xy" for m in ("m1", "m2")]
    frame = _results(rows)
    done = complete_results(frame, [("a", 0), ("a", 1)], ["x", "y", "z"])
    assert len(done) == 12
    pd.testing.assert_frame_equal(done.dropna().reset_index(drop=True), frame)
    assert done[done["classifier"] == "z"]["value"].isna().all()


@pytest.mark.parametrize("missing", [None, 3, 5, 11])
def test_complete_results_with_nothing_or_one_row_missing(missing):
    rows = [("a", c, r, m, float(i)) for i, (r, c, m) in enumerate(
        (r, c, m) for r in range(2) for c in "xyz" for m in ("m1", "m2"))]  # fmt: skip
    full = _results(rows)
    given = full if missing is None else full.drop(index=missing).reset_index(drop=True)
    done = complete_results(given, [("a", 0), ("a", 1)], ["x", "y", "z"])
    keys = ["scenario", "task", "classifier", "replicate", "metric"]
    pd.testing.assert_frame_equal(done[keys], full[keys])  # every row, in the plan's order
    want = full["value"].to_numpy().copy()
    if missing is not None:
        want[missing] = np.nan
    np.testing.assert_array_equal(done["value"].to_numpy(), want)


# ----------------------------------------------------------------- exit codes
def test_exit_codes_0_2_and_3_with_a_log_of_the_traceback(tmp_path, monkeypatch, capsys):
    from boneflare.benchmarks import cli as cli_module
    from boneflare.benchmarks.commands import scenarios

    assert cli_module.main(["scenarios", "list"]) == 0
    assert cli_module.main(["scenarios", "show", "nowhere"]) == 2
    capsys.readouterr()

    def broken():
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(scenarios, "preset_names", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert cli_module.main(["scenarios", "list"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error (ZeroDivisionError)" in err[0]
    log = Path(err[0].rsplit(" ", 1)[1])
    assert log.parent == tmp_path
    text = log.read_text()
    assert "Traceback" in text and "ZeroDivisionError: a bug" in text


def test_a_bad_timeout_exits_2_with_one_line(tmp_path):
    env = plugin_env(tmp_path / "plugins", (NaiveTest, EarlyTest))
    bad = cli(env, "benchmark", "--timeout", "0", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "timeout" in bad.stderr


def test_the_timeout_default_is_the_harness_default():
    from boneflare.benchmarks.commands.common import TIMEOUT_DEFAULT
    from boneflare.benchmarks.harness.sandbox import DEFAULT_TIMEOUT

    assert TIMEOUT_DEFAULT == DEFAULT_TIMEOUT


# ----------------------------------------------------------------- size check
def test_too_large_runs_are_refused_up_front_in_one_line(tmp_path, capsys):
    from boneflare.benchmarks.cli import main

    assert main(["simulate", "--patients", "50000000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GiB" in err[0] and "--out" in err[0]
    out = tmp_path / "big"
    bench = ["benchmark", "--classifiers", "recist_naive", "--patients", "50000000"]
    assert main([*bench, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GiB" in err[0]
    assert not out.exists()  # refused before anything was written


def test_streaming_to_disk_is_never_refused(tmp_path, monkeypatch, capsys):
    from boneflare.benchmarks.cli import main
    from boneflare.simulator import memory

    monkeypatch.setattr(memory, "machine_memory", lambda: 1)  # a machine with one byte
    assert main(["simulate", "--patients", "20"]) == 2
    assert main(["simulate", "--patients", "20", "--out", str(tmp_path / "c")]) == 0
    assert "wrote 20 patients" in capsys.readouterr().out


def test_an_undefined_metric_is_not_a_failure_but_a_failed_training_is():
    rows = [("s", "a", r, "roc_auc", v) for r, v in enumerate([0.6, float("nan")])]
    rows += [("s", "b", r, "roc_auc", float("nan")) for r in range(2)]
    untrained = _failure("b", -1)
    text = to_markdown(summarise_run(_results(rows), untrained, None, planned=2))
    assert "| a  " in text or "| a |" in text.replace("  ", " ")
    assert "a †" not in text  # a NaN AUC (no flare in a cohort) is a missing value only
    assert "† b: scored in 0 of 2 replicates" in text


def test_calibrate_check_writes_only_when_asked(tmp_path, monkeypatch, capsys):
    from boneflare.benchmarks.cli import main

    monkeypatch.chdir(tmp_path)
    main(["calibrate", "check", "--patients", "2000"])
    assert "wrote" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_removing_a_manifest_deletes_what_it_lists_and_nothing_outside(tmp_path):
    from boneflare.benchmarks.harness.manifest import Manifest

    run, outside = tmp_path / "run", tmp_path / "outside"
    for folder in (run / "units" / "a", run / "units" / "b", run / "models", outside):
        folder.mkdir(parents=True)
    (outside / "keep.txt").write_text("not the run's")
    (run / "linked").symlink_to(outside, target_is_directory=True)
    listed = ["units/a/x.parquet", "units/b/y.parquet", "models/m.pkl", "results.parquet"]
    for rel in listed:
        (run / rel).write_bytes(b"1")
    (run / "units" / "b" / "notes.txt").write_text("mine")
    manifest = Manifest(run)
    manifest.record({rel: b"1" for rel in [*listed, "../outside/keep.txt", "linked/keep.txt"]})
    manifest.remove_listed()
    assert not any((run / rel).exists() for rel in listed)
    assert not (run / "units" / "a").exists() and not (run / "models").exists()
    assert (run / "units" / "b" / "notes.txt").read_text() == "mine"  # its folder stays
    assert (outside / "keep.txt").read_text() == "not the run's"
    assert not manifest.path.exists()
