"""The regrowth-day bisection, replayed with few evaluations of the model, bit for bit.

:func:`boneflare.simulator.kinetics.regrowth_day` halves ``[lo, hi]`` a fixed number of
times, keeping the half where the computed Stein-Fojo curve ``F`` (``stein_fojo``)
crosses a target. Most of those comparisons are foregone: the midpoint is far from the
crossing. :func:`bisect_crossing` therefore first locates the crossing (Newton's method,
a few evaluations) and brackets it by two points ``a <= b`` at which ``F`` is evaluated,
then replays every halving with the same midpoints, evaluating ``F`` only where a
midpoint falls strictly between ``a`` and ``b``. Its result is the plain bisection's,
to the last bit.

Why a skipped comparison comes out as the evaluated one would. The exact curve
``f(t) = exp(-d t) + exp(g t) - 1`` is convex (``f'' = d^2 e^{-dt} + g^2 e^{gt} > 0``),
and on ``[0, hi]`` the computed ``F`` differs from ``f`` by at most ``M``
(:func:`_error_bound`: the float64 rounding of each operation, times
:data:`SAFETY`). Write ``lo`` for the left end. If ``F(lo)`` and ``F(a)`` are at most
``target - 3M``, convexity keeps ``f`` at most ``target - 2M`` on ``[lo, a]``, hence
``F < target`` there. If moreover ``F(b) >= target + 3M``, ``f(b) > f(lo)``, so ``f``
cannot be falling at ``b``; being convex, it rises from ``b`` on, so ``F >= target``
on ``[b, hi]``. Where these checks fail (or any value is not finite) the point gets no
bracket and ``F`` is evaluated at every halving, as the plain bisection does.
"""

from __future__ import annotations

import numpy as np

UNIT_ROUNDOFF = 2.0**-53
"""Relative rounding error of one float64 operation."""

SAFETY = 16.0
"""Factor on the rounding-error bound: covers ``exp`` and ``expm1`` implementations
accurate to 8 units in the last place (the C library's are within 1, numpy's own SIMD
ones within 4)."""

NEWTON_STEPS = 6
"""Newton iterations that locate the crossing before it is bracketed."""

BRACKET_HALF_WIDTH = 6.0
"""Half-width of the bracket, in multiples of ``M / f'``: wide enough for ``F(a)`` and
``F(b)`` to clear the target by ``3M``, narrow enough that few halvings fall inside."""


def _curve(d: np.ndarray, g: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``F(t)``: the operations of ``kinetics.stein_fojo``, in the same order."""
    return np.exp(-d * t) + np.expm1(g * t)


def _error_bound(d: np.ndarray, g: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A bound on ``|F(t) - f(t)|`` for every ``t`` in ``[0, hi]`` (``d, g >= 0``).

    ``exp(-d t)`` is at most 1 and carries the rounding of ``d t`` (relative error ``u``,
    hence ``d t u`` on the result) plus its own (``2u``); ``expm1(g t)`` likewise at most
    ``e^{g hi} (g hi u + 2u)``; the sum adds ``u |F|``. All of it is below
    ``u (1 + e^{g hi}) (4 + (d + g) hi)``.
    """
    return SAFETY * UNIT_ROUNDOFF * (1.0 + np.exp(g * hi)) * (4.0 + (d + g) * hi)


def _bracket(
    d: np.ndarray, g: np.ndarray, target: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``a <= b`` around each crossing, ``(-inf, inf)`` where none is certified."""
    with np.errstate(all="ignore"):
        bound = _error_bound(d, g, hi)
        x = hi.copy()  # from the right, Newton's iterates of a convex rising curve descend
        for _ in range(NEWTON_STEPS):
            shrink, grow = np.exp(-d * x), np.expm1(g * x)
            slope = g * (grow + 1.0) - d * shrink
            x = np.clip(x - (shrink + grow - target) / slope, lo, hi)
        slope = g * np.exp(g * x) - d * np.exp(-d * x)
        half = BRACKET_HALF_WIDTH * bound / slope
        a, b = np.maximum(x - half, lo), np.minimum(x + half, hi)
        margin = 3.0 * bound
        certified = (
            np.isfinite(d)
            & np.isfinite(g)
            & np.isfinite(target)
            & np.isfinite(hi)
            & np.isfinite(half)
            & (d >= 0.0)
            & (g > 0.0)
            & (lo >= 0.0)
            & (lo <= a)
            & (a <= b)
            & (b <= hi)
            & (_curve(d, g, lo) <= target - margin)
            & (_curve(d, g, a) <= target - margin)
            & (_curve(d, g, b) >= target + margin)
        )
    return np.where(certified, a, -np.inf), np.where(certified, b, np.inf)


def bisect_crossing(
    d: np.ndarray,
    g: np.ndarray,
    target: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    steps: int,
) -> np.ndarray:
    """Return ``hi`` after ``steps`` halvings of ``[lo, hi]`` towards ``F(t) >= target``.

    Each halving sets ``mid = 0.5 * (lo + hi)``, then ``hi = mid`` where
    ``F(mid) >= target``, else ``lo = mid``. The arguments are float arrays of one
    shape (``d, g >= 0``); they are not modified.
    """
    lo, hi = lo.copy(), hi.copy()
    a, b = _bracket(d, g, target, lo, hi)
    mid = np.empty_like(lo)
    above = np.empty(lo.shape, dtype=bool)
    unsure = np.empty(lo.shape, dtype=bool)
    mask, scratch = np.empty(lo.shape, dtype=np.int64), np.empty(lo.shape, dtype=np.int64)
    for _ in range(steps):
        np.multiply(np.add(lo, hi, out=mid), 0.5, out=mid)
        np.greater_equal(mid, b, out=above)
        np.logical_and(np.greater(mid, a, out=unsure), mid < b, out=unsure)
        at = np.flatnonzero(unsure)
        if at.size:
            with np.errstate(all="ignore"):
                above[at] = _curve(d[at], g[at], mid[at]) >= target[at]
        # ``hi`` takes ``mid`` where above, ``lo`` elsewhere, by bit masks (exact bits,
        # no unpredictable branches).
        np.negative(above.view(np.int8), out=mask, casting="unsafe")
        _take_where(hi, mid, mask, scratch)
        _take_where(lo, mid, np.invert(mask, out=mask), scratch)
    return hi


def _take_where(out: np.ndarray, value: np.ndarray, mask: np.ndarray, scratch: np.ndarray) -> None:
    """Set ``out`` to ``value`` where ``mask`` (int64) has every bit set, keep it where 0.

    Bitwise, so ``out`` receives the exact bits of ``value``; ``scratch`` is a buffer.
    """
    bits, new = out.view(np.int64), value.view(np.int64)
    np.bitwise_and(np.bitwise_xor(bits, new, out=scratch), mask, out=scratch)
    np.bitwise_xor(bits, scratch, out=bits)
