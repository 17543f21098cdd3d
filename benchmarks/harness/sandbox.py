"""Run a classifier's code where it cannot hurt the run: a child process with a deadline.

Whatever a classifier does in one call (``__init__``, ``fit``, ``predict_proba``,
``decide``) happens in a child process of its own, started for that call: raising any
exception (``SystemExit`` and ``KeyboardInterrupt`` included), never returning, ending
its process, mutating its input or leaving something that cannot be pickled. The
child sends back a pickled value or a one-line reason; the caller gets an
:class:`Outcome` either way and never runs the classifier's code itself.

Each child works on its own copy of its arguments (``fork`` copies on write; the
``forkserver`` used from a multi-threaded process receives them pickled), so one
classifier cannot change what another sees. A child ignores Ctrl-C (the parent decides
what an interruption ends) and, on Linux, is killed with its parent.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from boneflare.benchmarks.harness.shipping import unwrap

DEFAULT_TIMEOUT: Final[float] = 1800.0
"""Seconds one classifier call may take by default (``--timeout``): half an hour, far
above the slowest built-in fit (a gradient-boosting fit on its 20,000-patient training
cohort takes well under a minute), so only a hung call reaches it."""

_PR_SET_PDEATHSIG: Final[int] = 1  # prctl(2): signal delivered when the parent dies
_CHANNEL: Any = None  # in a guarded child: the pipe to its parent (see enter)


def enter(stage: str) -> None:
    """Announce, from a guarded call, that it enters ``stage`` (a new deadline starts).

    A failure after this point is reported at ``stage``. Outside a guarded child this
    does nothing.
    """
    if _CHANNEL is not None:
        _CHANNEL.send_bytes(pickle.dumps(("stage", stage)))


@dataclass(frozen=True)
class Outcome:
    """What a guarded call gave: its value, or why it has none.

    Attributes
    ----------
    value : object
        The call's return value (``None`` on failure).
    error : str or None
        One line naming what went wrong (an exception, a timeout, a lost process).
    seconds : float
        Wall-clock seconds the call took in its child.
    stage : str or None
        The last stage the call announced with :func:`enter` (where it failed).

    """

    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    stage: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call returned a value."""
        return self.error is None


def describe_error(exc: BaseException) -> str:
    """One line naming an exception's type and message."""
    from boneflare.classifiers.base import ClassifierError

    text = " ".join(str(exc).split()) or "(no message)"
    return text if isinstance(exc, ClassifierError) else f"{type(exc).__name__}: {text}"


def check_timeout(value: float) -> float:
    """Return ``value`` if it is a usable deadline in seconds, else raise.

    Raises
    ------
    BoneflareError
        If ``value`` is not a positive, finite number.

    """
    from boneflare.simulator.errors import BoneflareError

    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0 < value < float("inf"):
        raise BoneflareError(f"timeout must be a positive number of seconds, got {value!r}")
    return float(value)


def start_context() -> multiprocessing.context.BaseContext:
    """``fork`` from a single-threaded process (fast, nothing pickled), else ``forkserver``.

    Forking a process that runs other threads (a Dask worker) can deadlock the child;
    the fork server is a single-threaded process started once, which forks the
    children instead.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__, "boneflare.benchmarks.harness.calls"])
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - not on Linux


def die_with_parent(parent: int | None = None) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux; a no-op elsewhere).

    Parameters
    ----------
    parent : int, optional
        The parent's process id; if it is already gone, exit at once.

    """
    libc = _libc()
    if libc is None:  # pragma: no cover - not Linux
        return
    with contextlib.suppress(OSError, AttributeError):
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if parent is not None and os.getppid() != parent:
        os._exit(1)


@functools.cache
def _libc() -> Any:
    """The C library (for ``prctl``) on Linux, loaded once; ``None`` elsewhere."""
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return None
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover
        return None


def _one_native_thread() -> None:
    """Run the native thread pools (OpenMP, BLAS) of a forked child at one thread.

    An OpenMP pool the parent started (a scikit-learn fit in a notebook before the
    benchmark) does not survive ``fork``: the child's first parallel region would wait
    for the pool's threads for ever. One thread needs no pool; workers are processes, so
    nothing is lost to it, and no worker oversubscribes the machine's cores.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def call_result(fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    """Run ``fn(*args)``; return the pickled ``("done", value, why, seconds)`` message.

    Arguments that stand for another value (a ``Shipped`` batch, ``Kept`` bytes:
    :func:`~boneflare.benchmarks.harness.shipping.unwrap`) are passed as that value.
    """
    started = time.perf_counter()
    try:
        args = tuple(unwrap(a) for a in args)
        value = fn(*args)
        return pickle.dumps(("done", value, None, time.perf_counter() - started), protocol=5)
    except BaseException as exc:  # anything at all: it is the classifier's failure
        why = describe_error(exc)
        return pickle.dumps(("done", None, why, time.perf_counter() - started))


def become_child(send: Any, parent: int | None) -> None:
    """Set up a guarded child: no Ctrl-C, death with the parent, one native thread."""
    global _CHANNEL
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    if parent is not None:
        _one_native_thread()
    _CHANNEL = send


def exit_child() -> None:
    """End a guarded child at once, its output flushed (no cleanup of inherited state)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _child(send: Any, fn: Callable[..., Any], args: tuple[Any, ...], parent: int | None) -> None:
    """Body of the child: run ``fn(*args)``; send ``("done", value, why, seconds)``."""
    become_child(send, parent)
    payload = call_result(fn, args)
    try:
        send.send_bytes(payload)
        send.close()
    finally:
        exit_child()


@contextlib.contextmanager
def may_have_children() -> Iterator[None]:
    """Let a daemonic process (a Dask worker process) start the guarded child.

    ``multiprocessing`` refuses children to daemonic processes because they could be
    orphaned; a guarded child is always joined or killed by :func:`guarded`.
    """
    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemon is not None:
            config["daemon"] = daemon


def guarded(fn: Callable[..., Any], *args: Any, timeout: float = DEFAULT_TIMEOUT) -> Outcome:
    """Call ``fn(*args)`` in a child process; return its value or why there is none.

    Parameters
    ----------
    fn : callable
        A module-level function (picklable); its return value must be picklable.
    *args
        Its arguments (the child works on its own copy).
    timeout : float
        Seconds the call may take (counted afresh at each stage it :func:`enter` s);
        past them the child is killed.

    Returns
    -------
    Outcome
        The value, or a one-line reason: the exception raised (whatever its type),
        ``timed out after N s``, or ``ended its process (exit status N)``; with the
        last stage entered.

    Raises
    ------
    KeyboardInterrupt
        If the caller is interrupted while waiting (the child is killed first).

    """
    return start_guarded(fn, *args, timeout=timeout).outcome()


class Guarded:
    """A guarded call running in its own child (:func:`start_guarded`).

    :meth:`outcome` waits for it and ends the child; :meth:`cancel` ends the child
    without waiting. Either leaves nothing running.
    """

    def __init__(
        self, process: Any, receive: Any, timeout: float, outcome: Outcome | None = None
    ) -> None:
        self._process = process
        self._receive = receive
        self._timeout = timeout
        self._outcome = outcome

    def outcome(self) -> Outcome:
        """The call's value, or why there is none (waiting for it the first time).

        The deadline counts from this first wait, so a call started early is never
        given less than its ``timeout``.
        """
        if self._outcome is None:
            try:
                self._outcome = await_outcome(self._receive, self._process, self._timeout)
            finally:
                self._end()
        return self._outcome

    def cancel(self) -> None:
        """End the child if the call is still running (its outcome is never read)."""
        if self._outcome is None:
            self._outcome = Outcome(error="cancelled")
            self._end()

    def _end(self) -> None:
        self._receive.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._process.close()


def start_guarded(fn: Callable[..., Any], *args: Any, timeout: float = DEFAULT_TIMEOUT) -> Guarded:
    """Start ``fn(*args)`` in a child process and return at once (see :func:`guarded`).

    Several calls started this way run side by side; :meth:`Guarded.outcome` waits for
    one. A call whose arguments cannot reach a child has its failure as its outcome.
    """
    ctx = start_context()
    receive, send = ctx.Pipe(duplex=False)
    parent = os.getpid() if ctx.get_start_method() == "fork" else None
    process = ctx.Process(target=_child, args=(send, fn, args, parent))
    try:
        with may_have_children():
            process.start()
    except Exception as exc:  # the arguments cannot reach a child (unpicklable)
        receive.close()
        send.close()
        why = f"cannot start the call in a child process: {describe_error(exc)}"
        return Guarded(process, receive, timeout, Outcome(error=why))
    send.close()
    return Guarded(process, receive, timeout)


def await_outcome(receive: Any, process: Any, timeout: float) -> Outcome:
    """Wait for a guarded child's answer to one call (its stages, then its value).

    Parameters
    ----------
    receive : multiprocessing.connection.Connection
        The parent's end of the child's pipe.
    process : multiprocessing.Process
        The child (joined briefly when its pipe closes, for its exit status).
    timeout : float
        Seconds allowed, counted afresh at each stage the call enters.

    Returns
    -------
    Outcome
        The value, or why there is none; the child is left as it is (the caller ends it).

    """
    stage = None
    while True:
        if not receive.poll(timeout):
            return Outcome(error=f"timed out after {timeout:g} s", stage=stage)
        try:
            message = pickle.loads(receive.recv_bytes())
        except (EOFError, OSError):
            process.join(5)
            why = f"ended its process (exit status {process.exitcode})"
            return Outcome(error=why, stage=stage)
        if message[0] == "stage":
            stage = message[1]
            continue
        _, value, error, seconds = message
        return Outcome(value, error, seconds, stage)
