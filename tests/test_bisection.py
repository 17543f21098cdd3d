"""The bracketed bisection of regrowth days gives the plain bisection's days, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from boneflare.simulator import bisection
from boneflare.simulator.kinetics import BISECTION_STEPS, nadir_day, regrowth_day, stein_fojo


def plain_regrowth_day(d, g, relative_rise, absolute_rise=0.0):
    """The definition: ``BISECTION_STEPS`` halvings, ``stein_fojo`` evaluated at each."""
    t0 = nadir_day(d, g)
    fmin = stein_fojo(d, g, t0)
    target = np.maximum((1.0 + relative_rise) * fmin, fmin + absolute_rise)
    lo = t0.copy()
    hi = np.maximum(np.log1p(target) / g, lo)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        above = stein_fojo(d, g, mid) >= target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return hi


def _assert_same_bits(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    same = (got.view(np.int64) == expected.view(np.int64)) | (np.isnan(got) & np.isnan(expected))
    assert same.all(), f"{(~same).sum()} of {same.size} differ"


log_rates = st.floats(-16.0, 3.0)
SIZE = 64


@settings(deadline=None, max_examples=60)
@given(
    arrays(float, SIZE, elements=log_rates),
    arrays(float, SIZE, elements=log_rates),
    arrays(bool, SIZE),
    st.floats(0.0, 50.0),
    arrays(float, SIZE, elements=st.floats(0.0, 100.0)),
)
def test_regrowth_day_is_the_plain_bisection(log_d, log_g, zero_decay, relative, absolute):
    d = np.where(zero_decay, 0.0, np.exp(log_d))  # d = 0: non-responders, discordant bone
    g = np.exp(log_g)
    with np.errstate(all="ignore"):
        expected = plain_regrowth_day(d, g, relative, absolute)
        got = regrowth_day(d, g, relative, absolute)
    _assert_same_bits(got, expected)


def test_regrowth_day_on_realistic_rates_brackets_nearly_every_patient():
    """On a cohort's rates the brackets are certified and the days are the plain ones."""
    rng = np.random.default_rng(5)
    n = 20_000
    d = np.where(rng.random(n) < 0.15, 0.0, 0.01 * np.exp(0.8 * rng.standard_normal(n)))
    g = 0.002 * np.exp(0.8 * rng.standard_normal(n))
    absolute = 5.0 / (60.0 * np.exp(0.5 * rng.standard_normal(n)))
    _assert_same_bits(regrowth_day(d, g, 0.2, absolute), plain_regrowth_day(d, g, 0.2, absolute))
    t0 = nadir_day(d, g)
    fmin = stein_fojo(d, g, t0)
    target = np.maximum(1.2 * fmin, fmin + absolute)
    hi = np.maximum(np.log1p(target) / g, t0)
    a, b = bisection._bracket(d, g, target, t0, hi)
    assert np.isfinite(a).mean() > 0.99
    assert (a[np.isfinite(a)] <= b[np.isfinite(a)]).all()


def test_without_brackets_every_halving_is_evaluated(monkeypatch):
    """Points given no bracket (here: none at all) still get the plain bisection's days."""
    rng = np.random.default_rng(6)
    d, g = 0.01 * rng.random(500), 0.002 + 0.01 * rng.random(500)
    expected = plain_regrowth_day(d, g, 0.3)

    def no_brackets(d, g, target, lo, hi):
        return np.full(lo.shape, -np.inf), np.full(lo.shape, np.inf)

    monkeypatch.setattr(bisection, "_bracket", no_brackets)
    _assert_same_bits(regrowth_day(d, g, 0.3), expected)


def test_regrowth_day_keeps_the_shape_of_broadcast_arguments():
    d = np.array([[0.01], [0.02]])
    g = np.array([0.001, 0.002, 0.003])
    got = regrowth_day(d, g, 0.2, 0.1)
    assert got.shape == (2, 3)
    _assert_same_bits(got, plain_regrowth_day(*np.broadcast_arrays(d, g), 0.2, 0.1))
