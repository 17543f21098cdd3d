"""Rule classifiers behave as their docstrings say, on hand-made histories."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from scipy.special import logit

from boneflare.classifiers.combined import CombinedRule
from boneflare.classifiers.pcwg3 import Pcwg3Confirm
from boneflare.classifiers.rules import (
    NEW_LESION_LOG_ODDS,
    PCWG3_WINDOW_DAYS,
    PCWG3_WINDOW_SOFTNESS_DAYS,
    RECIST_PD_PCT,
    AlpTrend,
    RecistNaive,
    SoftTissueConcordance,
    TimingWindow,
)
from boneflare.simulator.observed import ACTION_CONTINUE, ACTION_DEFER, ACTION_STOP
from tests.strategies import history_batch, observed_histories, scan

RULES = [RecistNaive, SoftTissueConcordance, TimingWindow, AlpTrend, CombinedRule, Pcwg3Confirm]


def worse_at(day: int, sld_mm: float = 70.0, **reading) -> dict:
    """A history: baseline CT at 100 mm, then one worse bone reading on ``day``."""
    reading.setdefault("recist", "SD")
    return {
        "scans": [
            scan(0, 100, recist="baseline", bone="baseline"),
            scan(day, sld_mm, bone="worse", **reading),
        ]
    }


def p_flare(rule, histories) -> np.ndarray:
    return rule.fit(history_batch(histories)).predict_proba(history_batch(histories))


@pytest.mark.parametrize("rule", RULES, ids=lambda c: c.name)
@given(histories=observed_histories())
def test_rules_give_probabilities_on_any_history(rule, histories):
    p = p_flare(rule(), histories)
    assert p.shape == (len(histories),)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()


def test_recist_naive_calls_every_episode_progression():
    decision = RecistNaive().decide(history_batch([worse_at(45, 30), worse_at(300, 150)]))
    assert (decision.p_flare == 0).all() and (decision.action == ACTION_STOP).all()


def test_timing_window_is_half_at_twelve_weeks_and_falls_with_time():
    days = [30, 56, int(PCWG3_WINDOW_DAYS), 112, 200]
    p = p_flare(TimingWindow(), [worse_at(d) for d in days])
    assert p[days.index(int(PCWG3_WINDOW_DAYS))] == pytest.approx(0.5)
    assert (np.diff(p) < 0).all()
    week8 = days.index(56)
    span = (PCWG3_WINDOW_DAYS - 56) / PCWG3_WINDOW_SOFTNESS_DAYS
    assert logit(p[week8]) == pytest.approx(span)


def test_soft_tissue_concordance_follows_recist_cut_off():
    nadir = 60.0
    changes = [-20.0, 0.0, RECIST_PD_PCT, 40.0]

    def history(change):
        return {
            "scans": [
                scan(0, 100, recist="baseline", bone="baseline"),
                scan(42, nadir, recist="PR"),
                scan(84, nadir * (1 + change / 100), bone="worse"),
            ]
        }

    p = p_flare(SoftTissueConcordance(), [history(c) for c in changes])
    assert (np.diff(p) < 0).all()
    assert p[changes.index(RECIST_PD_PCT)] == pytest.approx(0.5)
    assert p[0] > 0.5 > p[-1]


def test_soft_tissue_concordance_new_lesion_and_late_episodes_lower_the_odds():
    rule = SoftTissueConcordance()
    base, new, late = p_flare(
        rule, [worse_at(45, 60), worse_at(45, 60, new_lesion=True), worse_at(300, 60)]
    )
    assert new < 0.5 < base
    assert logit(new) <= NEW_LESION_LOG_ODDS + 1e-9
    assert late < base
    assert logit(base) - logit(late) == pytest.approx((300 - rule.rare_after_days) / 30)


def test_alp_trend_reads_the_fall_from_baseline():
    def history(last):
        return {**worse_at(63), "alp": [(0, 200.0), (21, 200.0), (42, last)]}

    falling, flat, rising = p_flare(AlpTrend(), [history(140.0), history(200.0), history(260.0)])
    assert falling > 0.9 and rising < 0.1
    assert flat == pytest.approx(0.5)


def test_alp_trend_has_nothing_to_say_without_two_values_or_after_the_decision():
    rule = AlpTrend()
    no_labs = worse_at(63)
    one_value = {**worse_at(63), "alp": [(0, 200.0)]}
    only_later = {**worse_at(63), "alp": [(0, 200.0), (70, 100.0)]}  # day 70 is cut
    assert p_flare(rule, [no_labs, one_value, only_later]) == pytest.approx([0.5] * 3)


def _flare_picture(**patient) -> dict:
    return {
        **worse_at(45, 60, look="sclerotic", recist="PR"),
        "alp": [(0, 200.0), (21, 190.0), (42, 150.0)],
        "patient": patient,
    }


def test_combined_rule_separates_the_two_pictures():
    progression = {
        **worse_at(250, 140, look="lytic", recist="PD", new_lesion=True),
        "alp": [(0, 200.0), (231, 300.0)],
    }
    flare, prog = p_flare(CombinedRule(), [_flare_picture(), progression])
    assert flare > 0.9 and prog < 0.05


def test_combined_rule_terms_add_as_documented():
    rule = CombinedRule()
    lytic = {**_flare_picture(), "scans": worse_at(45, 60, look="lytic", recist="PR")["scans"]}
    sclerotic, lytic_p, no_mets = p_flare(
        rule, [_flare_picture(), lytic, _flare_picture(bone_mets=False)]
    )
    assert logit(sclerotic) - logit(lytic_p) == pytest.approx(2 * rule.look_log_odds)
    assert logit(no_mets) - logit(sclerotic) == pytest.approx(rule.no_bone_mets_log_odds)


def _scans(*worse_days, stable_days=()):
    readings = [(d, "worse") for d in worse_days] + [(d, "stable") for d in stable_days]
    return [scan(0, 100, recist="baseline", bone="baseline")] + [
        scan(d, 70, bone=b) for d, b in sorted(readings)
    ]


def test_pcwg3_defers_early_worsening_until_confirmed_six_weeks_later():
    rule = Pcwg3Confirm()
    histories = [
        {"scans": _scans(45)},  # first worse, early: unconfirmed
        {"scans": _scans(45, 70)},  # worse again 25 days later: still unconfirmed
        {"scans": _scans(45, 87)},  # worse again >= 6 weeks later: confirmed
        {"scans": _scans(130, stable_days=(45, 87))},  # first worse after the window
        {"scans": _scans(45, 170, stable_days=(87, 130))},  # worse again, much later
    ]
    decision = rule.fit(history_batch(histories)).decide(history_batch(histories))
    expected_unconfirmed = np.array([True, True, False, False, False])
    np.testing.assert_array_equal(decision.action == ACTION_DEFER, expected_unconfirmed)
    assert (decision.action[~expected_unconfirmed] == ACTION_STOP).all()
    assert (decision.p_flare[expected_unconfirmed] == rule.unconfirmed_p_flare).all()
    assert (decision.p_flare[~expected_unconfirmed] == 0).all()


def test_rules_continue_at_or_above_threshold():
    rule = TimingWindow()
    decision = rule.decide(history_batch([worse_at(30), worse_at(200)]))
    np.testing.assert_array_equal(decision.action, [ACTION_CONTINUE, ACTION_STOP])


def test_pcwg3_in_closed_loop_defers_and_decides_again(paper):
    from boneflare.simulator import simulate

    t = simulate(paper, 1200, seed=21, policy=Pcwg3Confirm(), closed_loop=True)
    d = t.decisions
    deferred = d[d["action"].astype(str) == "defer"]
    assert len(deferred) > 0 and (d["action"].astype(str) == "stop").any()
    # a deferred call never stops treatment on that day
    stopped = t.truth.set_index("patient_id")["stop_day"]
    assert (stopped.reindex(deferred["patient_id"]).to_numpy() != deferred["day"].to_numpy()).all()
    # a patient deferred and worse again later is decided again at that later CT
    later = d.merge(deferred[["patient_id", "day"]], on="patient_id", suffixes=("", "_deferred"))
    assert (later["day"] > later["day_deferred"]).any()
