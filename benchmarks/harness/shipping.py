"""One argument for many guarded calls: pickled once, read by each child from memory.

A unit sends the same cohort batch to every classifier's guarded child. Sent through
each child's pipe, a 1,000-patient batch (about a megabyte pickled) costs milliseconds
per call in pickling and in the hand-over of the pipe's small buffers, more than most
rules take to decide. A :class:`Shipped` argument is pickled once; on Linux the first
call that needs it pickled writes the bytes to an anonymous in-memory file
(``memfd_create``) that the sending process holds open, and each call then carries
only that file's ``/proc`` path: its child reads and unpickles the bytes into its own
copy. The file has no name anywhere, so it goes away with its holder, however that
process ends. Elsewhere the bytes travel with each call, as before. A child forked for
one call needs neither: it already holds its own copy of the value.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import pickle
from typing import Any


class Shipped:
    """An argument pickled once, for many guarded calls; close it after the last one.

    Parameters
    ----------
    value : object
        What each called function receives (its own copy).

    Raises
    ------
    Exception
        Whatever pickling ``value`` raises.

    Examples
    --------
    >>> with Shipped([1, 2, 3]) as shipped:
    ...     copy = pickle.loads(pickle.dumps(shipped))
    >>> copy
    [1, 2, 3]

    """

    def __init__(self, value: Any) -> None:
        self.value = value
        self.blob = pickle.dumps(value, protocol=5)
        self._fd: int | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        if not hasattr(os, "memfd_create"):  # not Linux: the bytes travel with the call
            return pickle.loads, (self.blob,)
        if self._fd is None:
            self._fd = _in_memory_file(self.blob)
        return _read, (f"/proc/{os.getpid()}/fd/{self._fd}",)

    def close(self) -> None:
        """Close the in-memory file, if one was written (calls already received are unaffected)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Shipped:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Kept:
    """Bytes sent to a long-lived child once and kept there for its later calls.

    A fitted model travels as its pickled bytes, the same for every call of its
    classifier in a run. A cell receives them with its first call and keeps them
    (:mod:`boneflare.benchmarks.harness.cells`); later calls carry only their digest.
    Bytes cannot change, and each call still unpickles its own model from them.

    Parameters
    ----------
    blob : bytes
        The bytes (e.g. a pickled fitted model).

    """

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.digest = hashlib.sha256(blob).hexdigest()


def unwrap(argument: Any) -> Any:
    """Return the value a call's argument stands for.

    What a :class:`Shipped` argument ships, a :class:`Kept` one's bytes, else the
    argument itself.
    """
    if isinstance(argument, Shipped):
        return argument.value
    if isinstance(argument, Kept):
        return argument.blob
    return argument


def _in_memory_file(blob: bytes) -> int:
    """An anonymous in-memory file holding ``blob``; its descriptor (closed on exec)."""
    fd = os.memfd_create("boneflare-batch", os.MFD_CLOEXEC)
    view = memoryview(blob)
    while view:
        view = view[os.write(fd, view) :]
    return fd


def _read(path: str) -> Any:
    """Unpickle a shipped value from its file (run in the receiving child).

    The file is mapped, not read: unpickling copies out what the value holds, so the
    child never makes a copy of the whole file first.
    """
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return pickle.loads(mapped)
