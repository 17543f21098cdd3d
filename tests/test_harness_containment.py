"""Whatever a classifier does, the run finishes, names it, and the others are untouched.

The hostile classifiers of test_harness_plugins (exit, KeyboardInterrupt, a mutated
batch, an unpicklable model, a hang, the end of their process, an ``__init__`` that
raises) run as a real plugin distribution beside honest ones, with 1 and 2 workers and
on a Dask cluster; the honest classifiers' results must equal, bit for bit, those of
a run without the hostile ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_harness_plugins import (
    HONEST,
    HOSTILE,
    EarlyTest,
    HangsTest,
    LearnedTest,
    MutatesTest,
    NaiveTest,
    cli,
    plugin_env,
)

from boneflare.benchmarks.harness import BenchmarkConfig, Execution, run_benchmark

HONEST_NAMES = [c.name for c in (NaiveTest, EarlyTest, LearnedTest)]
HOSTILE_NAMES = [c.name for c in HOSTILE]
SIZES = ["--replicates", "2", "--patients", "150", "--max-training-patients", "300"]
ARGS = [*SIZES, "--seed", "5", "--timeout", "3", "--no-progress"]
EXPECTED = {  # classifier: (stage, words of the message)
    "exit_test": ("predict", "SystemExit"),
    "interrupt_test": ("fit", "KeyboardInterrupt"),
    "unpicklable_test": ("fit", "cannot be pickled"),
    "hangs_test": ("predict", "timed out after 3 s"),
    "ends_process_test": ("predict", "ended its process (exit status 3)"),
    "init_fails_test": ("init", "RuntimeError: cannot build"),
}
TIMING = ("fit_seconds", "predict_seconds")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return plugin_env(tmp_path_factory.mktemp("plugins"), HONEST + HOSTILE)


def _run(env, out, names, *extra):
    return cli(env, "benchmark", "--classifiers", ",".join(names), *ARGS, "--out", str(out), *extra)


def _tables(out) -> dict[str, pd.DataFrame]:
    return {n: pd.read_parquet(out / f"{n}.parquet") for n in ("results", "predictions")}


def _only(frame: pd.DataFrame, names) -> pd.DataFrame:
    keep = frame["classifier"].isin(names)
    if "metric" in frame.columns:
        keep &= ~frame["metric"].isin(TIMING)
    return frame[keep].reset_index(drop=True)


def assert_same_for(names, got: dict, want: dict) -> None:
    """The tables of ``names`` identical, value for value (timings excepted)."""
    for table in ("results", "predictions"):
        pd.testing.assert_frame_equal(
            _only(got[table], names), _only(want[table], names), check_exact=True, obj=table
        )


@pytest.fixture(scope="module")
def clean(env, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "run"
    done = _run(env, out, HONEST_NAMES, "--workers", "1")
    assert done.returncode == 0, done.stderr
    return _tables(out)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_hostile_plugins_end_as_failures_and_change_nothing_else(env, clean, tmp_path, workers):
    out = tmp_path / "run"
    done = _run(env, out, [*HONEST_NAMES, *HOSTILE_NAMES], "--workers", workers)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failures = pd.read_parquet(out / "failures.parquet")
    for name, (stage, words) in EXPECTED.items():
        rows = failures[failures["classifier"] == name]
        assert len(rows), f"{name} has no failure record"
        assert set(rows["stage"]) == {stage}, name
        assert all(words in m for m in rows["message"]), (name, list(rows["message"]))
        assert f"† {name}: scored in 0 of 2 replicates" in done.stdout
    assert set(failures["classifier"]) == set(EXPECTED)  # mutates_test harms only itself
    got = _tables(out)
    assert_same_for(HONEST_NAMES, got, clean)
    results = got["results"]
    counts = results.groupby(["classifier", "metric"])["replicate"].nunique()
    assert (counts == 2).all()  # every metric of every classifier: n + n_missing == 2
    failed = results[results["classifier"].isin(EXPECTED)]
    assert len(failed) and failed["value"].isna().all()


def test_a_plugin_that_mutates_its_batch_sees_its_own_copy(paper):
    from boneflare.benchmarks.harness import calls
    from boneflare.benchmarks.harness.sandbox import guarded
    from boneflare.simulator import simulate
    from boneflare.simulator.observed import build_batch

    t = simulate(paper, 100, seed=3)
    batch = build_batch(t.episodes, t.patients, t.labs, t.scans)
    before = (batch.episodes.copy(), batch.labs.copy())
    fitted = guarded(calls.fit_model, MutatesTest(), batch, None)
    outcome = guarded(calls.decide, fitted.value[0], batch)
    assert outcome.ok, outcome.error
    pd.testing.assert_frame_equal(batch.episodes, before[0])
    pd.testing.assert_frame_equal(batch.labs, before[1])


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None, protocol="tcp"
    ) as local:
        yield local


def test_hostile_plugins_are_contained_on_dask(cluster, tmp_path):
    config = dict(replicates=2, patients=150, seed=5, max_training_patients=300)
    honest = [NaiveTest, EarlyTest, LearnedTest]
    quiet = Execution(timeout=3, progress=False)
    clean_config = BenchmarkConfig(classifiers=honest, **config)
    clean = run_benchmark(clean_config, tmp_path / "a", execution=quiet)
    on_dask = Execution("dask", scheduler=cluster.scheduler_address, timeout=3, progress=False)
    hostile_config = BenchmarkConfig(classifiers=[*honest, *HOSTILE], **config)
    hostile = run_benchmark(hostile_config, tmp_path / "b", execution=on_dask)
    assert set(hostile.failures["classifier"]) == set(EXPECTED)
    for name, (stage, words) in EXPECTED.items():
        rows = hostile.failures[hostile.failures["classifier"] == name]
        assert set(rows["stage"]) == {stage} and all(words in m for m in rows["message"]), name
    names = [c.name for c in honest]
    assert_same_for(names, vars(hostile), vars(clean))


def test_classifiers_check_contains_hostile_plugins(env):
    names = ["exit_test", "ends_process_test", "init_fails_test", "early_test"]
    done = cli(env, "classifiers", "check", *names, "--timeout", "5")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    for name in names:  # every classifier is checked, also those after the hostile ones
        assert any(line.startswith(f"{name}: ") for line in lines), done.stdout
    assert "SystemExit: 0" in done.stdout
    assert "ended its process (exit status 3)" in done.stdout
    assert "cannot be built: RuntimeError: cannot build" in done.stdout
    early = next(line for line in lines if line.startswith("early_test: "))
    assert "(12/13 checks" in early  # only its missing description fails


def _descendants(pid: int) -> set[int]:
    """Process ids descending from ``pid`` (Linux /proc)."""
    table = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        table.append((int(entry), int(stat.rsplit(")", 1)[1].split()[1])))
    found = {pid}
    while True:
        more = {child for child, parent in table if parent in found} - found
        if not more:
            return found - {pid}
        found |= more


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_hung_run(env, tmp_path, *extra):
    """Start a benchmark whose plugin hangs; return the process once the hang began."""
    marker = tmp_path / "hanging"
    names = ",".join([NaiveTest.name, HangsTest.name])
    process = subprocess.Popen(
        [sys.executable, "-m", "boneflare.benchmarks.cli", "benchmark", "--classifiers", names,
         *SIZES, "--out", str(tmp_path / "run"), "--no-progress", *extra],
        env=dict(env, BONEFLARE_TEST_HANG_MARKER=str(marker)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the hung plugin never started"
        time.sleep(0.2)
    return process


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_ends_a_run_with_a_hung_plugin_within_seconds(env, tmp_path, workers):
    process = _start_hung_run(env, tmp_path, "--workers", workers)
    family = _descendants(process.pid)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - started < 10
    assert process.returncode == 130
    assert f"--resume --out {tmp_path / 'run'}" in stderr
    assert "Traceback" not in stderr
    time.sleep(1)
    assert not [p for p in family if _alive(p)]


def test_kill_9_of_the_parent_leaves_no_worker_running(env, tmp_path):
    process = _start_hung_run(env, tmp_path, "--workers", "2")
    family = _descendants(process.pid)
    assert family
    process.kill()
    process.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while [p for p in family if _alive(p)]:
        assert time.monotonic() < deadline, "a worker outlived its parent"
        time.sleep(0.2)


_OPENMP_THEN_GUARDED = """
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from boneflare.benchmarks.harness.sandbox import guarded


def fit(x, y):
    return HistGradientBoostingClassifier(max_iter=5).fit(x, y).score(x, y)


rng = np.random.default_rng(0)
x, y = rng.normal(size=(4000, 5)), rng.integers(0, 2, 4000)
fit(x, y)  # the parent's OpenMP pool is now running
outcome = guarded(fit, x, y, timeout=60)
print(outcome.error or "fitted")
"""


def test_a_guarded_call_runs_after_the_parent_used_openmp(tmp_path):
    """A notebook that fitted a scikit-learn model before benchmarking must not hang.

    A GNU OpenMP pool does not survive ``fork``; the guarded child runs native thread
    pools at one thread, so its first parallel region needs no pool.
    """
    script = tmp_path / "notebook.py"
    script.write_text(_OPENMP_THEN_GUARDED)
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fitted"
