"""Small classifiers for the benchmark tests, a real plugin installer, and checks of both.

The classifiers here stand in for the built-ins in the harness tests: a few honest rules
(one that defers), a tiny learned one, and a zoo of broken ones (raises, NaN, wrong
shape, bad action, failing fit). :func:`plugin_env` registers any of them as a *real*
plugin: a distribution's ``entry_points.txt`` in the entry-point group
``boneflare.classifiers``, found on ``PYTHONPATH`` by a child process, exactly as a
third-party package would be.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from boneflare.classifiers.base import ClassifierError, FlareClassifier
from boneflare.classifiers.registry import GROUP
from boneflare.simulator.observed import ACTION_CONTINUE, ACTION_DEFER, ACTION_STOP

TESTS_DIR = Path(__file__).resolve().parent
EARLY_DAYS = 84
"""The test rules' flare window: PCWG3's 12 weeks."""


def _days(batch) -> np.ndarray:
    return batch.episodes["day"].to_numpy().astype(float)


class NaiveTest(FlareClassifier):
    """Every worse reading is progression (as RECIST read without flare awareness)."""

    name = "naive_test"

    def _predict_proba(self, batch):
        return np.zeros(len(batch))


class EarlyTest(FlareClassifier):
    """Flare inside a window of days from the first dose."""

    name = "early_test"

    def __init__(self, window_days: int = EARLY_DAYS):
        self.window_days = window_days

    def _predict_proba(self, batch):
        return np.where(_days(batch) <= self.window_days, 0.9, 0.1)


class DeferTest(FlareClassifier):
    """Defers at the first follow-up CT, otherwise calls by the early window."""

    name = "defer_test"

    def _predict_proba(self, batch):
        return np.where(_days(batch) <= EARLY_DAYS, 0.7, 0.2)

    def _actions(self, batch, p_flare):
        first = batch.episodes["scan_index"].to_numpy() == 1
        call = np.where(p_flare >= self.threshold, ACTION_CONTINUE, ACTION_STOP)
        return np.where(first, ACTION_DEFER, call).astype(np.int8)


class LearnedTest(FlareClassifier):
    """Flare rate inside and outside the early window, learned; jittered by its random_state."""

    name = "learned_test"
    learned = True
    training_patients = 400

    def __init__(self, random_state: int | None = None):
        self.random_state = random_state

    def _fit(self, batch, y):
        early = _days(batch) <= EARLY_DAYS
        jitter = np.random.default_rng(self.random_state).uniform(0.0, 0.01, 2)
        self.rates_ = (y[early].mean() - jitter[0], y[~early].mean() + jitter[1])

    def _predict_proba(self, batch):
        return np.where(_days(batch) <= EARLY_DAYS, *self.rates_).clip(0.0, 1.0)


class _Quiet(FlareClassifier):
    """P(flare) 0.5 for every episode: the base of a classifier broken in one way only."""

    def _predict_proba(self, batch):
        return np.full(len(batch), 0.5)


class _QuietLearned(_Quiet):
    """The same, learned (the harness fits it on a small training cohort)."""

    learned = True
    training_patients = 200


class RaisesTest(FlareClassifier):
    """Raises in predict."""

    name = "raises_test"

    def _predict_proba(self, batch):
        raise RuntimeError("boom in predict")


class NanTest(FlareClassifier):
    """Returns NaN."""

    name = "nan_test"

    def _predict_proba(self, batch):
        return np.full(len(batch), np.nan)


class ShapeTest(FlareClassifier):
    """Returns one probability too many."""

    name = "shape_test"

    def _predict_proba(self, batch):
        return np.full(len(batch) + 1, 0.5)


class BadActionTest(_Quiet):
    """Returns an action code that does not exist."""

    name = "bad_action_test"

    def _actions(self, batch, p_flare):
        return np.full(len(batch), 7, dtype=np.int8)


class FitFailsTest(_QuietLearned):
    """A learned classifier whose fit raises."""

    name = "fit_fails_test"

    def _fit(self, batch, y):
        raise ValueError("cannot fit")


class ExitTest(FlareClassifier):
    """Ends its caller with ``sys.exit(0)`` in predict."""

    name = "exit_test"

    def _predict_proba(self, batch):
        sys.exit(0)


class InterruptTest(_Quiet):
    """Raises ``KeyboardInterrupt`` in fit."""

    name = "interrupt_test"

    def _fit(self, batch, y):
        raise KeyboardInterrupt


class MutatesTest(_Quiet):
    """Writes into the batch it is given: every episode moved to day 0, every lab zeroed."""

    name = "mutates_test"

    def _predict_proba(self, batch):
        batch.episodes.loc[:, "day"] = 0
        batch.labs.loc[:, "value"] = 0.0
        return super()._predict_proba(batch)


class UnpicklableTest(_QuietLearned):
    """A learned classifier whose fitted model holds a lambda (cannot be pickled)."""

    name = "unpicklable_test"

    def _fit(self, batch, y):
        self.rule_ = lambda days: days <= EARLY_DAYS


class HangsTest(FlareClassifier):
    """Never returns from predict (touching ``$BONEFLARE_TEST_HANG_MARKER`` first, if set)."""

    name = "hangs_test"

    def _predict_proba(self, batch):
        marker = os.environ.get("BONEFLARE_TEST_HANG_MARKER")
        if marker:
            Path(marker).touch()
        time.sleep(3600)


class EndsProcessTest(FlareClassifier):
    """Ends its own process in predict (``os._exit``)."""

    name = "ends_process_test"

    def _predict_proba(self, batch):
        os._exit(3)


class InitFailsTest(_Quiet):
    """Cannot be built: its ``__init__`` raises."""

    name = "init_fails_test"

    def __init__(self):
        raise RuntimeError("cannot build")


HONEST = (NaiveTest, EarlyTest, DeferTest, LearnedTest)
BROKEN = (RaisesTest, NanTest, ShapeTest, BadActionTest, FitFailsTest)
ALL = HONEST + BROKEN
HOSTILE = (
    ExitTest,
    InterruptTest,
    MutatesTest,
    UnpicklableTest,
    HangsTest,
    EndsProcessTest,
    InitFailsTest,
)
"""Classifiers that try to take the run down with them (each must end as a failure)."""


def plugin_env(folder: Path, classes=ALL, version: str = "0.1") -> dict[str, str]:
    """Register ``classes`` as a real plugin distribution in ``folder``; return a child env.

    The distribution ``boneflare-test-plugins`` (of ``version``) declares one entry point
    per class in the group ``boneflare.classifiers``, pointing at this module (on
    ``PYTHONPATH``). Calling it again on the same folder replaces the distribution.
    """
    for old in folder.glob("boneflare_test_plugins-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    dist = folder / f"boneflare_test_plugins-{version}.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: boneflare-test-plugins\nVersion: {version}\n"
    )
    lines = [f"[{GROUP}]"] + [f"{c.name} = {__name__}:{c.__name__}" for c in classes]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    path = os.pathsep.join([str(folder), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, PYTHONPATH=path.rstrip(os.pathsep), PYTHONWARNINGS="ignore")


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``boneflare`` in a child process with ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "boneflare.benchmarks.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


# --------------------------------------------------------------------------- tests of the zoo
@pytest.fixture(scope="module")
def batch(paper):
    from boneflare.simulator import simulate
    from boneflare.simulator.observed import build_batch

    t = simulate(paper, 200, seed=11)
    return build_batch(t.episodes, t.patients, t.labs, t.scans)


@pytest.mark.parametrize("cls", HONEST, ids=lambda c: c.name)
def test_honest_test_classifiers_keep_the_contract(cls, batch):
    model = cls()
    y = (np.arange(len(batch)) % 2).astype(np.int8)
    decision = model.fit(batch, y if cls.learned else None).decide(batch)
    assert decision.p_flare.shape == (len(batch),)
    assert np.isin(decision.action, (ACTION_CONTINUE, ACTION_STOP, ACTION_DEFER)).all()


@pytest.mark.parametrize("cls", [NanTest, ShapeTest], ids=lambda c: c.name)
def test_broken_probabilities_are_refused_by_the_contract(cls, batch):
    with pytest.raises(ClassifierError):
        cls().fit(batch).predict_proba(batch)


def test_raising_classifiers_raise(batch):
    with pytest.raises(RuntimeError, match="boom"):
        RaisesTest().fit(batch).predict_proba(batch)
    with pytest.raises(ValueError, match="cannot fit"):
        FitFailsTest().fit(batch, np.zeros(len(batch), dtype=np.int8))
    assert (BadActionTest().fit(batch).decide(batch).action == 7).all()


def test_plugin_env_registers_real_entry_points(tmp_path):
    env = plugin_env(tmp_path, (EarlyTest, RaisesTest))
    code = (
        "from boneflare.classifiers import names, get; "
        "print(names()); print(get('raises_test').__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "'early_test'" in out
    assert "'raises_test'" in out
    assert out.strip().endswith("RaisesTest")
