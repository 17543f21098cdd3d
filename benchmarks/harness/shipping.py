"""One argument for many guarded calls: pickled once, read by each child from memory.

A unit sends the same cohort batch to every classifier's guarded child. Sent through
each child's pipe, a 1,000-patient batch (about a megabyte pickled) costs milliseconds
per call in pickling and in the hand-over of the pipe's small buffers, more than most
rules take to decide. A :class:`Shipped` argument is pickled once; the first call that
needs it pickled writes the bytes to a file in shared memory (``/dev/shm`` on Linux,
else the temporary folder), and each call then carries only the file's name: its child
reads and unpickles the bytes into its own copy. A child forked for one call needs no
file at all: it already holds its own copy of the value.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

SHARED_MEMORY = Path("/dev/shm")
"""Linux's memory-backed folder: a file there is read without touching a disk."""


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
        self._path: str | None = None

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        if self._path is None:
            self._path = _write(self.blob)
        return _read, (self._path,)

    def close(self) -> None:
        """Remove the file, if one was written (calls already received are unaffected)."""
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            self._path = None

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


def _write(blob: bytes) -> str:
    folder = SHARED_MEMORY if SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK) else None
    handle, path = tempfile.mkstemp(prefix="boneflare-batch-", dir=folder)
    with os.fdopen(handle, "wb") as file:
        file.write(blob)
    return path


def _read(path: str) -> Any:
    """Unpickle a shipped value from its file (run in the receiving child)."""
    return pickle.loads(Path(path).read_bytes())
