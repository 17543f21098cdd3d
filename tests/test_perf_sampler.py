"""The performance scripts' memory sampler reads what the kernel reports, tree and all."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from boneflare.benchmarks.perf import sampler

MIB = 2**20

# A process that starts a child holding 64 MiB of touched memory, then waits.
TREE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import time; block = bytearray(64 * 2**20); block[::4096] = b'x' * len(block[::4096]); "
    "print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE)
child.stdout.readline()
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture
def tree():
    """The pid of a running process whose child holds 64 MiB."""
    process = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline().strip() == b"ready"
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_tree_counts_the_child_and_own_does_not(tree: int) -> None:
    own, whole = sampler.resident_bytes(tree)
    assert 0 < own < 64 * MIB
    assert whole - own >= 64 * MIB


@pytest.mark.skipif(not sampler._proc_usable(), reason="the /proc walk is Linux's")
def test_proc_walk_agrees_with_psutil(tree: int) -> None:
    psutil = pytest.importorskip("psutil")
    process = psutil.Process(tree)
    children = process.children(recursive=True)
    own, whole = sampler.resident_bytes(tree)
    expected = process.memory_info().rss + sum(c.memory_info().rss for c in children)
    assert own == pytest.approx(process.memory_info().rss, rel=0.05)
    assert whole == pytest.approx(expected, rel=0.05)


def test_an_exited_process_reads_as_nothing() -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    time.sleep(0.05)
    assert sampler.resident_bytes(done.pid) == (0, 0)
