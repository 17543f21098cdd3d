"""Where the time goes: named phases summed over the work of a benchmark run."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

MODEL_PHASES: Final[tuple[str, ...]] = ("simulate", "features", "fit", "predict", "closed_loop")
"""Phases that are the work being benchmarked (simulator and classifiers).

``features`` is the feature table the classifiers share, computed once per cohort
(:func:`boneflare.benchmarks.harness.unit.share_features`) instead of by each of them.
"""


class Stopwatch:
    """Accumulate seconds per named phase.

    Examples
    --------
    >>> watch = Stopwatch()
    >>> with watch("simulate"):
    ...     pass
    >>> sorted(watch.seconds)
    ['simulate']

    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        """Time the body of a ``with`` block as ``phase``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - started)

    def add(self, phase: str, seconds: float) -> None:
        """Add ``seconds`` to ``phase``."""
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    def merge(self, other: Mapping[str, float]) -> None:
        """Add every phase of ``other``."""
        for phase, seconds in other.items():
            self.add(phase, seconds)


def breakdown(
    phases: Mapping[str, float],
    wall_seconds: float,
    workers: int,
    stages: Mapping[str, float] | None = None,
) -> dict:
    """Summarise phase seconds into the figures printed and stored in the provenance.

    Parameters
    ----------
    phases : mapping of str to float
        Seconds per phase, summed over every worker and the parent process.
    wall_seconds : float
        Elapsed time of the whole run.
    workers : int
        Worker processes (for the parallel efficiency).
    stages : mapping of str to float, optional
        Elapsed seconds of the run's stages (training, scoring units, consolidating).

    Returns
    -------
    dict
        ``wall_seconds``, ``phases`` (seconds), ``model_seconds`` (simulate, shared
        features, fit, predict and closed loop), ``harness_seconds`` (everything else
        that was timed), ``harness_share`` (harness over timed total) and
        ``busy_share`` (timed total over ``workers * wall``; below 1 means idle workers
        or untimed work) and ``stages`` (elapsed seconds per stage).

    """
    model = sum(phases.get(p, 0.0) for p in MODEL_PHASES)
    harness = sum(v for p, v in phases.items() if p not in MODEL_PHASES)
    total = model + harness
    return {
        "wall_seconds": wall_seconds,
        "workers": workers,
        "phases": dict(sorted(phases.items())),
        "model_seconds": model,
        "harness_seconds": harness,
        "harness_share": harness / total if total else float("nan"),
        "busy_share": total / (workers * wall_seconds) if wall_seconds > 0 else float("nan"),
        "stages": dict(stages or {}),
    }


def format_breakdown(info: Mapping) -> str:
    """Return a few lines describing a :func:`breakdown` for the terminal."""
    phases = info["phases"]
    total = sum(phases.values()) or 1.0
    parts = ", ".join(f"{p} {s:.1f} s ({100 * s / total:.0f}%)" for p, s in phases.items())
    stages = ", ".join(f"{p} {s:.1f} s" for p, s in info.get("stages", {}).items())
    return (
        f"wall {info['wall_seconds']:.1f} s with {info['workers']} worker(s) ({stages}); "
        f"harness overhead {100 * info['harness_share']:.1f}% of timed work\n"
        f"  time by phase (summed over workers): {parts}"
    )
