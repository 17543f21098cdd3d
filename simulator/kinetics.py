"""Tumour kinetics: the Stein-Fojo model and the day a regrowth rule is first met.

Stein-Fojo (Stein et al., Clin Cancer Res 2008; Oncologist 2011):
``f(t) = exp(-d t) + exp(g t) - 1``, ``f(0) = 1``, with decay ``d`` (treatment kills)
and regrowth ``g`` (resistant growth), both per day. Soft tissue is ``SLD0 * f`` and
bone burden is ``f`` with its own rates (docs/model.md, section Soft tissue; Bone).
"""

from __future__ import annotations

import numpy as np

from boneflare.simulator.bisection import bisect_crossing

BISECTION_STEPS = 48
"""Bisection halvings when solving for a regrowth day (resolution far below a day)."""


def stein_fojo(d: np.ndarray, g: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Return ``exp(-d t) + exp(g t) - 1`` elementwise (relative tumour size at day t)."""
    return np.exp(-d * t) + np.expm1(g * t)


def nadir_day(d: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Return the day of the minimum of ``f`` (0 when the tumour never shrinks)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(d / g) / (d + g)
    return np.where(d > g, t, 0.0)


def regrowth_day(
    d: np.ndarray,
    g: np.ndarray,
    relative_rise: float,
    absolute_rise: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Return the first day on which ``f`` has regrown past its nadir by a rule.

    The rule is ``f(t) >= max((1 + relative_rise) * f_min, f_min + absolute_rise)``, as
    RECIST's "20% and 5 mm over the nadir" is for the soft tissue (absolute rise in units
    of the baseline, e.g. ``5 / SLD0``). ``f`` only falls before its nadir and only rises
    after it, so the crossing is unique and found by bisection on
    ``[nadir, log(1 + target) / g]``.
    """
    d = np.asarray(d, dtype=float)
    g = np.asarray(g, dtype=float)
    t0 = nadir_day(d, g)
    fmin = stein_fojo(d, g, t0)
    target = np.maximum((1.0 + relative_rise) * fmin, fmin + absolute_rise)
    hi = np.log1p(target) / g  # exp(g t) - 1 alone reaches the target there
    hi = np.maximum(hi, t0)
    # The halvings are those of ``mid = 0.5 * (lo + hi)``; ``hi = mid`` where
    # ``stein_fojo(d, g, mid) >= target``, else ``lo = mid``. ``bisect_crossing`` replays
    # them with ``stein_fojo`` evaluated only near the crossing: the same days, bit for bit.
    arrays = np.broadcast_arrays(d, g, target, t0, hi)
    d, g, target, lo, hi = (np.array(x, dtype=float).reshape(-1) for x in arrays)
    return bisect_crossing(d, g, target, lo, hi, BISECTION_STEPS).reshape(arrays[0].shape)


def threshold_day(g: np.ndarray, rise: np.ndarray) -> np.ndarray:
    """Return the day on which the regrowth term ``exp(g t) - 1`` reaches ``rise``."""
    return np.log1p(rise) / g


def healing_activity(t: np.ndarray | float, onset: np.ndarray, duration: np.ndarray) -> np.ndarray:
    """Return the healing activity ``H = x exp(1 - x)``, ``x = (t - onset) / duration``.

    ``H`` is 0 before the onset, peaks at 1 one ``duration`` after it and fades as
    mineral is laid down (docs/model.md, section Bone). ``onset`` may be ``inf`` (no flare).
    """
    with np.errstate(invalid="ignore"):
        x = (t - onset) / duration
    x = np.where(x > 0.0, x, 0.0)
    return x * np.exp(1.0 - x)
