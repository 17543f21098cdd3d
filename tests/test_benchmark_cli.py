"""``boneflare benchmark`` from the command line: leaderboard, errors, failing plugins, kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from test_harness_plugins import ALL, EarlyTest, LearnedTest, NaiveTest, cli, plugin_env

from boneflare.benchmarks.cli import main
from boneflare.benchmarks.commands import benchmark as benchmark_cmd
from boneflare.benchmarks.harness import BenchmarkConfig, RunStore, run_benchmark
from boneflare.benchmarks.harness.execute import EXECUTORS

SMALL = ["--replicates", "2", "--patients", "150", "--no-progress", "--workers", "1"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A child environment in which the test classifiers are installed as a real plugin."""
    return plugin_env(tmp_path_factory.mktemp("plugins"), ALL)


def _comparable(results: pd.DataFrame) -> pd.DataFrame:
    keep = ~results["metric"].isin(["fit_seconds", "predict_seconds"])
    return results[keep].reset_index(drop=True)


def test_quick_benchmark_prints_the_leaderboard(env, tmp_path):
    out = tmp_path / "run"
    result = cli(
        env,
        "benchmark",
        "--quick",
        "--classifiers",
        "naive_test,early_test,learned_test",
        "--reference",
        "naive_test",
        "--out",
        str(out),
        "--workers",
        "2",
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "# Leaderboard" in text
    n = benchmark_cmd.QUICK["replicates"]
    headline = text.index(f"## paper: decision_point ({n} replicates;")
    assert headline < text.index(f"## paper: all_episodes ({n} replicates;")
    assert "Deferral at the decision point" in text
    for name in ("naive_test", "early_test", "learned_test", "ROC AUC", "days lost"):
        assert name in text
    assert "Paired differences against naive_test" in text
    assert "harness overhead" in text
    results = pd.read_parquet(out / "results.parquet")
    assert results["replicate"].nunique() == benchmark_cmd.QUICK["replicates"]


def test_a_real_failing_plugin_is_recorded_while_the_others_complete(env, tmp_path):
    out = tmp_path / "run"
    result = cli(
        env,
        "benchmark",
        "--classifiers",
        "early_test,raises_test,shape_test",
        "--out",
        str(out),
        *SMALL,
    )
    assert result.returncode == benchmark_cmd.EXIT_FAILURES
    assert "Traceback" not in result.stderr
    assert "2 classifier(s) failed" in result.stderr
    assert (
        "raises_test failed in predict (2 unit(s)): RuntimeError: boom in predict" in result.stdout
    )
    assert "| early_test" in result.stdout
    failures = pd.read_parquet(out / "failures.parquet")
    assert set(failures["classifier"]) == {"raises_test", "shape_test"}
    assert set(pd.read_parquet(out / "results.parquet")["classifier"]) == {"early_test"}


@pytest.fixture
def registered(tmp_path_factory, monkeypatch):
    """The test classifiers registered as a real plugin in this process too."""
    folder = tmp_path_factory.mktemp("plugins-here")
    plugin_env(folder, ALL)
    monkeypatch.syspath_prepend(str(folder))


def _exit_code(argv: list[str]) -> int:
    """``main``'s exit status, whether it returns it or argparse raises SystemExit."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--classifiers", "no_such_one"], "unknown classifier 'no_such_one'"),
        (["--scenario", "nope"], "unknown scenario 'nope'"),
        (["--grid", "ct.interval_days"], "must look like section.field=value1,value2"),
        (["--grid", "ct.interval_days=42,,56"], "empty value"),
        (["--grid", "ct.interval_days=-3"], "ct.interval_days = -3"),
        (["--set", "flare.enable=true"], "unknown field flare.enable"),
        (["--train-scenario", "nope"], "unknown scenario 'nope'"),
        (["--executor", "dask"], "needs --scheduler"),
        (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask"),
        (["--reference", "nope"], "reference classifier 'nope'"),
        (["--replicates", "0"], "at least 1"),
        (["--resume", "--force"], "not allowed with"),
        (["--resume"], "holds no benchmark run"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle, registered, tmp_path, capsys):
    out = tmp_path / "run"
    code = _exit_code(
        ["benchmark", "--classifiers", "early_test", *SMALL, "--out", str(out), *args]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert needle in err
    assert not (out / "units").exists()


def test_an_existing_run_folder_needs_resume_or_force(registered, tmp_path, capsys):
    out = tmp_path / "run"
    run_benchmark(BenchmarkConfig(classifiers=[EarlyTest], replicates=1, patients=100), out)
    assert _exit_code(["benchmark", "--classifiers", "early_test", "--out", str(out), *SMALL]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"boneflare: error: run folder {out} already exists; use --resume to continue it "
        "or --force to replace it"
    ]
    other = ["--classifiers", "naive_test", "--resume", "--out", str(out)]
    assert _exit_code(["benchmark", *other, *SMALL]) == 2
    assert "holds a different benchmark" in capsys.readouterr().err
    replaced = ["--classifiers", "naive_test", "--force", "--out", str(out)]
    assert _exit_code(["benchmark", *replaced, *SMALL]) == 0
    assert "| naive_test" in capsys.readouterr().out


def test_executor_choices_match_the_harness():
    assert benchmark_cmd.EXECUTORS == EXECUTORS


KILL_RUN = [
    "--classifiers",
    "naive_test,early_test,learned_test",
    "--seed",
    "3",
    "--replicates",
    "30",
    "--patients",
    "200",
    "--no-progress",
]


def _start(env, out, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "boneflare.benchmarks.cli",
            "benchmark",
            *KILL_RUN,
            "--out",
            str(out),
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a kill reaches its workers too
    )


def _wait_for_units(proc: subprocess.Popen, store: RunStore, at_least: int) -> None:
    deadline = time.monotonic() + 120
    while len(store.done_units()) < at_least:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no unit finished in time"
        time.sleep(0.005)


def test_interrupted_and_killed_runs_resume_to_the_uninterrupted_results(env, tmp_path):
    out = tmp_path / "run"
    store = RunStore(out)

    # Ctrl-C: a clean stop that keeps the finished units and says how to go on
    proc = _start(env, out, "--workers", "1")
    _wait_for_units(proc, store, at_least=2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert f"continue with --resume --out {out}" in err
    after_interrupt = store.done_units()
    inodes = {u: (store.units_dir / u).stat().st_ino for u in after_interrupt}

    # SIGKILL of the whole process group (parent and pool workers) in the middle of a resume
    proc = _start(env, out, "--workers", "2", "--resume")
    _wait_for_units(proc, store, at_least=len(after_interrupt) + 2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    after_kill = store.done_units()
    assert after_interrupt < after_kill
    assert not (out / "results.parquet").exists()

    # the last resume finishes the rest, redoes nothing stored, equals an uninterrupted run
    final = cli(env, "benchmark", *KILL_RUN, "--out", str(out), "--workers", "1", "--resume")
    assert final.returncode == 0, final.stderr
    assert f"resuming: {len(after_kill)} of 30 units already stored" in final.stderr
    for unit, inode in inodes.items():
        assert (store.units_dir / unit).stat().st_ino == inode
    uninterrupted = run_benchmark(
        BenchmarkConfig(
            classifiers=[NaiveTest, EarlyTest, LearnedTest], seed=3, replicates=30, patients=200
        ),
        tmp_path / "uninterrupted",
    )
    resumed = store.load()
    pd.testing.assert_frame_equal(
        _comparable(resumed["results"]), _comparable(uninterrupted.results)
    )
    pd.testing.assert_frame_equal(resumed["predictions"], uninterrupted.predictions)
