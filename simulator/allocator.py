"""Worker processes keep the memory they free, instead of faulting fresh pages per chunk.

A chunk allocates and frees many arrays of a few megabytes. By default the C library
serves such arrays with ``mmap`` or trims the heap after them, so the next chunk's
arrays land on fresh pages, and the first touch of a fresh page is costly (the kernel
zeroes it; on a virtual machine the host may map it too): on the 2-core machine of
docs/performance.md, a quarter of a 16,384-patient chunk's time. Raising glibc's mmap
and trim thresholds in the pool's workers lets each chunk reuse the heap of the chunks
before it. Workers end with the run, so what they keep is released then; the calling
process is left as it is. Elsewhere than glibc this does nothing. Results never depend
on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""``mallopt`` parameters (glibc ``malloc.h``)."""

MMAP_THRESHOLD = 32 * 2**20
"""Arrays up to this size come from the heap (glibc's largest allowed value, 32 MiB)."""

TRIM_THRESHOLD = 2**30
"""Free memory at the top of the heap is returned to the system only beyond 1 GiB."""


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds in this process; return whether it could.

    Meant as the initializer of worker processes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
