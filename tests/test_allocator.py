"""Worker processes raise glibc's allocation thresholds; results never depend on it."""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import platform
import resource

import numpy as np
import pytest

from boneflare.simulator import allocator, simulate
from boneflare.simulator.allocator import keep_freed_memory


def _glibc_defaults() -> None:
    """Set glibc's documented default thresholds (128 KiB), without their dynamic raise.

    A forked worker inherits its parent's heap, and glibc raises the mmap threshold
    each time a large mapped block is freed: after other tests, the parent's may
    already keep 8 MB blocks, which would hide what the default costs.
    """
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    assert libc.mallopt(allocator.M_MMAP_THRESHOLD, 128 * 1024)
    assert libc.mallopt(allocator.M_TRIM_THRESHOLD, 128 * 1024)


def _faults_of_reallocating(keep: bool) -> int:
    """Minor page faults of allocating, touching and freeing 8 MB arrays 20 times."""
    if keep:
        assert keep_freed_memory()
    else:
        _glibc_defaults()
    np.ones(2**20).sum()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        np.ones(2**20).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_a_worker_reuses_the_memory_it_frees():
    with multiprocessing.get_context("fork").Pool(1) as pool:
        kept = pool.apply(_faults_of_reallocating, (True,))
    with multiprocessing.get_context("fork").Pool(1) as pool:
        default = pool.apply(_faults_of_reallocating, (False,))
    assert kept < 50 <= default


def test_workers_give_the_tables_of_one_process(paper):
    one = simulate(paper, 3000, 5, chunk_size=1000)
    pooled = simulate(paper, 3000, 5, chunk_size=1000, workers=2)
    for name in one.names():
        assert getattr(one, name).equals(getattr(pooled, name)), name
