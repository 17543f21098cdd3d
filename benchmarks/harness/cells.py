"""Guarded children that stay: one per classifier and worker process, serving its calls.

Forking a fresh guarded child (:func:`~boneflare.benchmarks.harness.sandbox.guarded`)
for every call costs tens of milliseconds in a worker that has loaded pandas and
scikit-learn; a benchmark makes thousands of calls (every classifier on every
replicate), so the forks were most of its time. A *cell* is a guarded child that
stays alive between calls of **one** classifier in **one** worker process:

* each call reaches it pickled, so it works on its own copy of the arguments (the
  classifier, its model, the batch), exactly as a freshly forked child did; a call
  whose arguments cannot be pickled runs in a freshly forked child instead. Bytes
  that never change (a fitted model's pickle,
  :class:`~boneflare.benchmarks.harness.shipping.Kept`) travel once and are kept by
  the cell, and a batch shared by many calls
  (:class:`~boneflare.benchmarks.harness.shipping.Shipped`) is read from memory: each
  call still unpickles its own copy of both;
* it has the same deadline, stages and one-line reasons as a guarded call;
* any failure ends it (an exception, a bad value, a timeout, the end of its process):
  the next call of that classifier starts a fresh cell, so no failure carries over;
* it runs only its own classifier's code, so nothing a classifier does to its process
  reaches another classifier;
* a call can be started (:func:`start_call`) and its outcome awaited later, so the
  cells of different classifiers work side by side (a unit starts the next
  classifier's call before it scores the previous one).

Cells are used where guarded children are forked (a single-threaded process on
Linux); elsewhere (a Dask worker's threads) every call is a fresh guarded child.
A process closes its cells with :func:`close_cells`, and at its exit; a cell dies
with its parent.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable
from multiprocessing import util
from typing import Any

from boneflare.benchmarks.harness import sandbox
from boneflare.benchmarks.harness.sandbox import DEFAULT_TIMEOUT, Outcome, guarded
from boneflare.benchmarks.harness.shipping import Kept

_CELLS: dict[str, Cell] = {}  # this process's cells, by classifier label
_FINALIZED: set[int] = set()  # processes whose exit closes their cells


class _CallPickler(pickle.Pickler):
    """Pickles a call for a cell: :class:`Kept` bytes its child holds go as their digest."""

    def __init__(self, file: io.BytesIO, kept: set[str]) -> None:
        super().__init__(file, protocol=5)
        self.kept = kept
        self.sending: set[str] = set()

    def persistent_id(self, obj: Any) -> Any:
        """``("kept", digest)`` or ``("keep", digest, bytes)`` for Kept bytes, else None."""
        if not isinstance(obj, Kept):
            return None
        if obj.digest in self.kept:
            return ("kept", obj.digest)
        self.sending.add(obj.digest)
        return ("keep", obj.digest, obj.blob)


class Cell:
    """A long-lived guarded child that runs the calls of one classifier.

    Parameters
    ----------
    name : str
        The classifier label it serves (for messages only).

    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.owner = os.getpid()
        self._process: Any = None
        self._conn: Any = None
        self._kept: set[str] = set()  # digests of the Kept bytes its child holds
        self._in_flight = False  # a call was sent and its answer not read yet

    @property
    def alive(self) -> bool:
        """Whether the child is running."""
        return self._process is not None and self._process.is_alive()

    def _start(self) -> None:
        ctx = sandbox.start_context()
        mine, theirs = ctx.Pipe(duplex=True)
        self._process = ctx.Process(target=_serve, args=(theirs, os.getpid()))
        with sandbox.may_have_children():
            self._process.start()
        theirs.close()
        self._conn = mine

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = DEFAULT_TIMEOUT) -> Outcome:
        """Run ``fn(*args)`` in the cell; return its value or why there is none.

        As :func:`~boneflare.benchmarks.harness.sandbox.guarded`; the cell is ended
        after a failure and started afresh by the next call.
        """
        return self.start(fn, *args, timeout=timeout).outcome()

    def start(self, fn: Callable[..., Any], *args: Any, timeout: float = DEFAULT_TIMEOUT) -> Call:
        """Send ``fn(*args)`` to the cell and return at once; :meth:`Call.outcome` waits.

        The caller may do other work (or start calls in other cells) meanwhile; the
        deadline counts from the moment it waits for the outcome, so a call is never
        given less than ``timeout`` seconds. One call at a time per cell.
        """
        if not self.alive or self._in_flight:
            self.close()  # a new child keeps nothing yet; an answer never read is dropped
        try:
            message = self._pickle(fn, args)
        except Exception:  # cannot travel to a running child: fork one that inherits them
            outcome = guarded(fn, *args, timeout=timeout)
            return Call(lambda: outcome)
        try:
            self._send(message, fn, args)
        except Exception as exc:  # no child could be started, or it cannot be reached
            self.close()
            why = sandbox.describe_error(exc)
            error = f"cannot start the call in a child process: {why}"
            return Call(lambda: Outcome(error=error))
        self._in_flight = True
        return Call(lambda: self._receive(timeout))

    def _receive(self, timeout: float) -> Outcome:
        """Wait for the answer to the call in flight; end the cell if it failed."""
        self._in_flight = False
        outcome = sandbox.await_outcome(self._conn, self._process, timeout)
        if not outcome.ok:
            self.close()
        return outcome

    def _pickle(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bytes, set[str]]:
        """The call's message, and the digests of the :class:`Kept` bytes it sends.

        Bytes the child already keeps travel as their digest only.
        """
        buffer = io.BytesIO()
        pickler = _CallPickler(buffer, self._kept)
        pickler.dump((fn, args))
        return buffer.getvalue(), pickler.sending

    def _send(
        self, message: tuple[bytes, set[str]], fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        """Send a call, starting the child first if it is not running."""
        payload, sending = message
        if not self.alive:
            self._start()
        try:
            self._conn.send_bytes(payload)
        except OSError:  # the idle cell ended (killed from outside): one fresh start
            self.close()
            self._start()
            payload, sending = self._pickle(fn, args)  # the new child keeps nothing yet
            self._conn.send_bytes(payload)
        self._kept |= sending

    def close(self) -> None:
        """End the child (if any); the cell can start again."""
        self._kept = set()
        self._in_flight = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._process.close()
            self._process = None


class Call:
    """A started call (:meth:`Cell.start`); :meth:`outcome` waits for its answer.

    Parameters
    ----------
    wait : callable
        Waits for the answer and returns it (the call's deadline counts from then);
        called once. A call that already has its answer (it ran in a fresh child, or
        could not be sent) just returns it.

    """

    def __init__(self, wait: Callable[[], Outcome]) -> None:
        self._wait = wait
        self._outcome: Outcome | None = None

    def outcome(self) -> Outcome:
        """The call's value, or why there is none (waiting for it the first time)."""
        if self._outcome is None:
            self._outcome = self._wait()
        return self._outcome


_KEPT: dict[str, bytes] = {}  # in a cell's child: the Kept bytes received, by digest


class _Unpickler(pickle.Unpickler):
    """Reads a call's message in a cell's child, keeping or looking up :class:`Kept` bytes."""

    def persistent_load(self, pid: Any) -> bytes:
        if pid[0] == "keep":
            _KEPT[pid[1]] = pid[2]
        return _KEPT[pid[1]]


def _serve(conn: Any, parent: int) -> None:
    """Body of a cell: answer calls until the parent closes the pipe."""
    sandbox.become_child(conn, parent)
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            break
        try:
            fn, args = _Unpickler(io.BytesIO(data)).load()
        except BaseException as exc:
            why = sandbox.describe_error(exc)
            payload = pickle.dumps(("done", None, f"cannot receive the call: {why}", 0.0))
        else:
            payload = sandbox.call_result(fn, args)
        try:
            conn.send_bytes(payload)
        except OSError:
            break
    sandbox.exit_child()


def cells_usable() -> bool:
    """Whether calls can go to cells here: guarded children are forked from this process."""
    return sandbox.start_context().get_start_method() == "fork"


def cell_call(
    name: str, fn: Callable[..., Any], *args: Any, timeout: float = DEFAULT_TIMEOUT
) -> Outcome:
    """Call ``fn(*args)`` in the cell of classifier ``name`` (a fresh guarded child elsewhere).

    Parameters
    ----------
    name : str
        The classifier's label: calls of one label share a cell, never another's.
    fn, *args, timeout
        As :func:`~boneflare.benchmarks.harness.sandbox.guarded`.

    """
    return start_call(name, fn, *args, timeout=timeout).outcome()


def start_call(
    name: str, fn: Callable[..., Any], *args: Any, timeout: float = DEFAULT_TIMEOUT
) -> Call:
    """Start ``fn(*args)`` in the cell of classifier ``name``; wait with :meth:`Call.outcome`.

    Calls of different classifiers run side by side: a unit starts the next
    classifier's call before it scores the last one. Where there are no cells, the
    call runs in a fresh guarded child at once and its :class:`Call` holds the outcome.
    """
    if not cells_usable():
        outcome = guarded(fn, *args, timeout=timeout)
        return Call(lambda: outcome)
    pid = os.getpid()
    cell = _CELLS.get(name)
    if cell is None or cell.owner != pid:  # none yet, or inherited from a forking parent
        cell = _CELLS[name] = Cell(name)
        if pid not in _FINALIZED:
            _FINALIZED.add(pid)
            util.Finalize(None, close_cells, exitpriority=100)
    return cell.start(fn, *args, timeout=timeout)


def close_cells() -> None:
    """End every cell this process started (cells inherited from a parent are forgotten)."""
    pid = os.getpid()
    for cell in list(_CELLS.values()):
        if cell.owner == pid:
            cell.close()
    _CELLS.clear()
