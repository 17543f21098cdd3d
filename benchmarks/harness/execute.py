"""Where the work runs: this process, a local process pool, or an existing Dask cluster.

Every task is a pure function of its arguments (a training job or a unit, plus the
shared :class:`~boneflare.benchmarks.harness.unit.WorkContext`), so the executor changes the
speed, never the results. The context is shipped once per worker: as the pool's
initializer argument (inherited by ``fork``), or scattered to every Dask worker.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from boneflare.benchmarks.harness.sandbox import DEFAULT_TIMEOUT, check_timeout, die_with_parent
from boneflare.simulator.allocator import keep_freed_memory
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.validation import check_choice, check_count

EXECUTORS: Final[tuple[str, ...]] = ("local", "dask")
"""Executor kinds: a local process pool (default) or a Dask cluster."""

CONNECT_TIMEOUT: Final[float] = 5.0
"""Seconds to wait for a Dask scheduler before giving up with a one-line error."""

T = TypeVar("T")
R = TypeVar("R")

_WORKER_CONTEXT: Any = None  # set in each pool worker by _install; never in the parent
_THREAD_LIMIT: Any = None  # the worker's thread-pool limit, kept alive for its lifetime


@dataclass(frozen=True)
class Execution:
    """How a run is executed (changes speed, never results).

    Attributes
    ----------
    executor : str
        ``"local"`` or ``"dask"``.
    workers : int
        Local worker processes (1: run in this process). Ignored with Dask.
    scheduler : str or None
        Address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    progress : bool or None
        Show progress bars (``None``: when standard error is a terminal).
    timeout : float
        Seconds one classifier call (building, fitting, predicting, a closed-loop
        simulation) may take before it is ended and recorded as timed out.
    fit_cache : str, Path or None
        Folder of fitted models shared by runs
        (:mod:`boneflare.benchmarks.harness.fitcache`); ``None``: fit every model.

    """

    executor: str = "local"
    workers: int = 1
    scheduler: str | None = None
    progress: bool | None = None
    timeout: float = DEFAULT_TIMEOUT
    fit_cache: str | Path | None = None

    def check(self) -> None:
        """Raise :class:`BoneflareError` on an inconsistent choice."""
        check_choice("executor", self.executor, EXECUTORS)
        if self.executor == "dask":
            require_dask()
            if not self.scheduler:
                raise BoneflareError("--executor dask needs --scheduler ADDRESS")
        if self.executor == "local" and self.scheduler:
            raise BoneflareError("--scheduler is for --executor dask")
        check_count("workers", self.workers)
        check_timeout(self.timeout)


DASK_MISSING: Final[str] = (
    'the dask executor needs Dask: install it with pip install "boneflare[dask]"'
)
"""The one line shown when ``--executor dask`` is asked for without Dask installed."""


def require_dask() -> None:
    """Raise :class:`BoneflareError` (:data:`DASK_MISSING`) unless ``dask.distributed`` imports."""
    try:
        import distributed  # noqa: F401  (the extra boneflare[dask])
    except ImportError:
        raise BoneflareError(DASK_MISSING) from None


def _process_pool(workers: int, context: Any) -> cf.ProcessPoolExecutor:
    """A local process pool whose workers hold ``context``; ``fork`` where available.

    As :func:`boneflare.simulator.run.iter_chunks`' pool: ``fork`` starts fast, works from
    scripts without a ``__main__`` guard, and hands the context to the workers without
    pickling it.
    """
    methods = multiprocessing.get_all_start_methods()
    mp_context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    threads = max(1, _cpus() // workers)
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp_context,
        initializer=_install,
        initargs=(context, threads),
    )


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _install(context: Any, threads: int) -> None:
    """Pool-worker initializer: keep the context; share the CPUs between the workers.

    Native thread pools (OpenMP, BLAS) of a worker are limited to its share of the
    CPUs, so N workers on N cores do not start N x N threads. Ctrl-C is left to the
    parent, which ends the pool and keeps what is finished; a worker dies with the
    parent (Linux), so even ``kill -9`` of the parent leaves none running. A worker,
    and the classifiers' children forked from it, keep the memory they free for their
    next unit (:func:`~boneflare.simulator.allocator.keep_freed_memory`).
    """
    global _WORKER_CONTEXT, _THREAD_LIMIT
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(os.getppid())
    keep_freed_memory()
    _WORKER_CONTEXT = context
    from threadpoolctl import threadpool_limits

    _THREAD_LIMIT = threadpool_limits(limits=threads)


def _kill_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Kill a pool's worker processes (and, with them, their guarded children)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with suppress(Exception):
            process.kill()


def _call_with_context(fn: Callable[[T, Any], R], item: T) -> R:
    return fn(item, _WORKER_CONTEXT)


def connect(address: str):
    """Connect to a running Dask scheduler, or fail fast with a one-line error.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``tcp://10.0.0.5:8786``.

    Returns
    -------
    distributed.Client
        A client that is not made the default one.

    Raises
    ------
    BoneflareError
        If ``dask.distributed`` is missing or the scheduler cannot be reached within
        :data:`CONNECT_TIMEOUT`.

    """
    require_dask()
    from distributed import Client

    _preflight(address)
    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
    except Exception as exc:  # whatever the failure, the user gets one line
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise BoneflareError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def _preflight(address: str) -> None:
    """Check a scheduler address and, for TCP/TLS, that something listens there.

    Fails in at most :data:`CONNECT_TIMEOUT` seconds (at once when the connection is
    refused) and before a ``Client`` exists, whose failed start can otherwise hang at
    interpreter exit.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            return  # inproc:// (an in-process cluster), ucx://: let the Client decide
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())
        raise BoneflareError(f"bad Dask scheduler address {address!r}: {reason}") from None
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BoneflareError(f"cannot reach the Dask scheduler at {address}: {reason}") from None
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop running here (the CLI, a script): shake hands first
        try:
            asyncio.run(_handshake(address))
        except Exception as exc:
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise BoneflareError(
                f"no Dask scheduler answers at {address}: {type(exc).__name__}: {reason}"
            ) from None


async def _handshake(address: str) -> None:
    """Open and close one Dask comm: proves a Dask peer listens at ``address``."""
    from distributed.comm import connect as comm_connect

    comm = await comm_connect(address, timeout=CONNECT_TIMEOUT)
    await comm.close()


class Runner:
    """Run tasks with a shared context on the chosen executor; yield results as they finish."""

    def __init__(self, execution: Execution, client: Any = None) -> None:
        self.execution = execution
        self.client = client

    @property
    def workers(self) -> int:
        """Processes or Dask worker threads that run tasks (for the time breakdown)."""
        if self.client is None:
            return self.execution.workers
        info = self.client.scheduler_info()
        workers = info.get("workers", {}).values()
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers))

    def map_unordered(
        self, fn: Callable[[T, Any], R], items: Iterable[T], context: Any
    ) -> Iterator[R]:
        """Yield ``fn(item, context)`` for every item, in completion order.

        Parameters
        ----------
        fn : callable
            A module-level function (picklable) of an item and the context.
        items : iterable
            Work items.
        context : object
            Shared, read-only data; sent once per worker.

        """
        items = list(items)
        if not items:
            return
        if self.client is not None:
            yield from self._dask(fn, items, context)
        elif self.execution.workers == 1:
            for item in items:
                yield fn(item, context)
        else:
            yield from self._pool(fn, items, context)

    def _pool(self, fn: Callable[[T, Any], R], items: list[T], context: Any) -> Iterator[R]:
        workers = min(self.execution.workers, len(items))
        pool = _process_pool(workers, context)
        try:
            futures = [pool.submit(_call_with_context, fn, item) for item in items]
            for future in cf.as_completed(futures):
                yield future.result()
        except BaseException:  # Ctrl-C, or the caller stopped: end the workers at once
            _kill_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _dask(self, fn: Callable[[T, Any], R], items: list[T], context: Any) -> Iterator[R]:
        from distributed import as_completed

        shared = self.client.scatter(context, broadcast=True, hash=False)
        futures = [self.client.submit(fn, item, shared, pure=False) for item in items]
        try:
            for future in as_completed(futures, loop=self.client.loop):
                yield future.result()
        finally:
            self.client.cancel(futures)


@contextmanager
def runner(execution: Execution) -> Iterator[Runner]:
    """Open the executor a run needs (connecting to Dask if asked) and close it after."""
    execution.check()
    if execution.executor == "dask":
        client = connect(execution.scheduler or "")
        try:
            yield Runner(execution, client)
        finally:
            client.close()
    else:
        yield Runner(execution)
