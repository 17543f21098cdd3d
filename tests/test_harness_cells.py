"""A classifier's long-lived guarded child (cell) keeps every guarantee of a fresh one.

A cell serves many calls of one classifier; each call works on its own copy of its
arguments, and any failure (exception, exit, hang) ends the cell so that the next call
starts afresh. Fitted models are reused across runs only through the fit cache, which
never changes a result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest

from boneflare.benchmarks.harness import BenchmarkConfig, Execution, run_benchmark
from boneflare.benchmarks.harness.cells import Cell, cell_call, close_cells, start_call
from boneflare.benchmarks.harness.sandbox import guarded
from boneflare.benchmarks.harness.shipping import Kept, Shipped


def _pid() -> int:
    return os.getpid()


def _append(values: list) -> int:
    values.append(1)
    return len(values)


def _boom() -> None:
    raise ValueError("no")


def _leave(status: int) -> None:
    sys.stdout.flush()
    os._exit(status)


def _wait_for(path: str) -> str:
    """Wait (at most 20 s) until ``path`` exists: only a call running alongside creates it."""
    import time

    for _ in range(2000):
        if os.path.exists(path):
            return "seen"
        time.sleep(0.01)
    raise TimeoutError(path)


def _create(path: str) -> str:
    with open(path, "w"):
        pass
    return "created"


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


@pytest.fixture(autouse=True)
def single_threaded(monkeypatch):
    """Cells serve calls only in a single-threaded process (they are forked from it).

    Earlier tests of a session (a Dask cluster) leave idle threads behind, which would
    send every call to a fresh child through the fork server instead.
    """
    monkeypatch.setattr(threading, "active_count", lambda: 1)


@pytest.fixture
def cell():
    one = Cell("test")
    yield one
    one.close()


def test_a_cell_serves_many_calls_in_one_child(cell):
    first = cell.call(_pid)
    assert first.ok and first.value != os.getpid()
    assert cell.call(_pid).value == first.value


def test_each_call_works_on_its_own_copy_of_the_arguments(cell):
    values = [0]
    assert cell.call(_append, values).value == 2
    assert cell.call(_append, values).value == 2  # the cell never kept the first copy
    assert values == [0]


@pytest.mark.parametrize(
    ("fn", "args", "words"),
    [
        (_boom, (), "ValueError: no"),
        (_leave, (3,), "ended its process (exit status 3)"),
        (_sleep, (30,), "timed out after 1 s"),
    ],
)
def test_a_failure_ends_the_cell_and_the_next_call_starts_afresh(cell, fn, args, words):
    before = cell.call(_pid).value
    outcome = cell.call(fn, *args, timeout=1)
    assert not outcome.ok and words in outcome.error
    after = cell.call(_pid)
    assert after.ok and after.value != before


def test_a_shipped_argument_reaches_each_call_as_its_own_copy(cell):
    with Shipped([0]) as shipped:
        assert cell.call(_append, shipped).value == 2
        assert cell.call(_append, shipped).value == 2  # read afresh by each call
        assert guarded(_append, shipped).value == 2  # a forked child: no file needed
        fd = shipped._fd
        assert fd is not None and os.fstat(fd).st_size == len(shipped.blob)
    assert shipped._fd is None
    with pytest.raises(OSError):
        os.fstat(fd)  # closing frees the in-memory file
    assert shipped.value == [0]


def _doubled_in_place(values: np.ndarray) -> float:
    values *= 2  # its own copy: writable, and nothing else sees the change
    return float(values.sum())


def test_a_shipped_array_is_the_call_s_own_writable_copy(cell):
    with Shipped(np.arange(1_000, dtype=np.float64)) as shipped:
        assert cell.call(_doubled_in_place, shipped).value == 2 * 499_500
        assert cell.call(_doubled_in_place, shipped).value == 2 * 499_500
    assert shipped.value.sum() == 499_500


def test_a_shipped_argument_leaves_no_file_behind_when_its_holder_is_killed():
    before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    holder = subprocess.run(
        [sys.executable, "-c", _KILLED_HOLDER], capture_output=True, text=True, timeout=120
    )
    assert holder.returncode == -9 and "sent" in holder.stdout
    after = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    assert not {n for n in after - before if n.startswith("boneflare")}


_KILLED_HOLDER = """
import os, pickle, signal
from boneflare.benchmarks.harness.shipping import Shipped
shipped = Shipped(list(range(100_000)))
assert pickle.loads(pickle.dumps(shipped)) == shipped.value
print("sent", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _length(blob: bytes) -> int:
    assert isinstance(blob, bytes)
    return len(blob)


def test_kept_bytes_travel_to_a_cell_once_and_again_after_a_failure(cell):
    model = Kept(b"x" * 100_000)
    assert cell._pickle(_length, (model,))[1] == {model.digest}  # not kept yet: sent
    assert cell.call(_length, model).value == 100_000
    payload, sending = cell._pickle(_length, (model,))
    assert len(payload) < 1_000 and not sending  # the child keeps them: digest only
    assert cell.call(_length, model).value == 100_000
    assert not cell.call(_boom).ok  # a failure ends the child and what it kept
    assert cell._pickle(_length, (model,))[1] == {model.digest}
    assert cell.call(_length, model).value == 100_000
    assert guarded(_length, model).value == 100_000  # a forked child gets the bytes too


def test_unpicklable_arguments_run_in_a_fresh_child(cell):
    outcome = cell.call(_pid, lambda: None)  # cannot be pickled: falls back to a fork
    assert not outcome.ok and "_pid() takes 0 positional arguments" in outcome.error


def test_cells_are_per_classifier_and_closed_on_request():
    a, b = cell_call("a", _pid), cell_call("b", _pid)
    assert a.ok and b.ok and a.value != b.value
    assert cell_call("a", _pid).value == a.value
    close_cells()
    assert cell_call("a", _pid).value != a.value
    close_cells()


def test_the_fit_cache_reuses_a_fit_and_changes_no_result(tmp_path):
    config = BenchmarkConfig(
        classifiers=["logistic", "recist_naive"],
        replicates=2,
        patients=200,
        seed=4,
        max_training_patients=600,
    )
    events: list[str] = []
    cached = Execution(progress=False, fit_cache=tmp_path / "cache")
    first = run_benchmark(config, tmp_path / "a", execution=cached)
    assert len(list((tmp_path / "cache" / "models").glob("*.pkl"))) == 1
    second = run_benchmark(config, tmp_path / "b", execution=cached, on_event=events.append)
    assert any("reusing 1 fitted model(s)" in e for e in events)
    plain = run_benchmark(config, tmp_path / "c", execution=Execution(progress=False))
    timing = ["fit_seconds", "predict_seconds"]
    for run in (second, plain):
        got, want = run.results, first.results
        pd.testing.assert_frame_equal(
            got[~got["metric"].isin(timing)].reset_index(drop=True),
            want[~want["metric"].isin(timing)].reset_index(drop=True),
            check_exact=True,
        )
        assert np.array_equal(run.predictions["p_flare"], first.predictions["p_flare"])


def test_a_classifier_from_a_working_folder_is_never_cached():
    from test_harness_plugins import LearnedTest

    from boneflare.benchmarks.harness.fitcache import cache_key
    from boneflare.benchmarks.harness.plan import make_plan

    plan = make_plan(BenchmarkConfig(classifiers=["logistic", LearnedTest], replicates=1))
    entries = {e.label: e for e in plan.classifiers}
    keys = {j.classifier: cache_key(j, entries[j.classifier], "batched") for j in plan.jobs}
    assert keys["logistic"] is not None and keys[LearnedTest.name] is None


def test_a_threaded_process_sends_each_call_to_a_fresh_child(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    first, second = cell_call("a", _pid), cell_call("a", _pid)
    assert first.ok and second.ok and first.value != second.value


def test_calls_of_two_classifiers_run_side_by_side(tmp_path):
    flag = str(tmp_path / "flag")
    waiting = start_call("a", _wait_for, flag)  # would wait for ever if run alone
    created = start_call("b", _create, flag)
    assert (waiting.outcome().value, created.outcome().value) == ("seen", "created")
    close_cells()


def test_a_started_call_keeps_its_failure_and_ends_only_its_cell(tmp_path):
    failing = start_call("a", _boom)
    other = start_call("b", _pid)
    assert not failing.outcome().ok and "ValueError: no" in failing.outcome().error
    assert other.outcome().ok
    assert cell_call("b", _pid).value == other.outcome().value  # b's cell lives on
    close_cells()


def test_a_call_whose_answer_was_never_read_cannot_answer_the_next(cell):
    cell.start(_append, [0])  # its answer (2) is never read
    assert cell.start(_append, [0, 0]).outcome().value == 3
    assert cell.call(_append, [0, 0, 0]).value == 4
