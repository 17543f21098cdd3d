"""The classifier calls of a benchmark, each run in a guarded child process.

Every function here runs a classifier's own code and is called only through
:func:`boneflare.benchmarks.harness.sandbox.guarded`, so that whatever the classifier
does stays in its child. Fitted models travel as pickled bytes: the parent stores and
forwards them without unpickling, and only a child running that classifier unpickles
one.
"""

from __future__ import annotations

import pickle
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from boneflare.benchmarks.harness.sandbox import enter
from boneflare.classifiers.base import ClassifierError, FlareClassifier, validate_probabilities
from boneflare.simulator.observed import ACTION_NAMES, ObservedBatch


def construct(cls: type[FlareClassifier]) -> FlareClassifier:
    """Build a classifier with its default parameters."""
    return cls()


def fit_model(
    prototype: FlareClassifier,
    batch: ObservedBatch,
    y: np.ndarray | None,
    random_state: int | None = None,
) -> tuple[bytes, float]:
    """Fit a fresh clone of ``prototype``; return the pickled model and the fit's seconds.

    A ``random_state`` parameter left at ``None`` is set to ``random_state`` (when given),
    so that a fit is reproducible whatever the worker.

    Raises
    ------
    ClassifierError
        If the fitted model cannot be pickled (it could be neither stored nor sent).

    """
    model = clone(prototype)
    params = model.get_params(deep=False)
    if random_state is not None and "random_state" in params and params["random_state"] is None:
        model.set_params(random_state=random_state)
    started = time.perf_counter()
    model.fit(batch, y)
    seconds = time.perf_counter() - started
    try:
        blob = pickle.dumps(model, protocol=5)
    except Exception as exc:
        text = " ".join(str(exc).split())
        raise ClassifierError(
            f"the fitted model cannot be pickled ({type(exc).__name__}: {text})"
        ) from None
    return blob, seconds


def decide(model: bytes, batch: ObservedBatch) -> tuple[np.ndarray, np.ndarray, float]:
    """P(flare) and calls of a pickled fitted model, checked whatever it overrides.

    Returns
    -------
    tuple
        ``(p_flare, action, seconds)``: float64 and int8 arrays of one value per episode,
        and the seconds ``decide`` took.

    Raises
    ------
    ClassifierError
        If the probabilities or actions break the contract.

    """
    fitted: FlareClassifier = pickle.loads(model)
    started = time.perf_counter()
    decision = fitted.decide(batch)
    seconds = time.perf_counter() - started
    who = getattr(fitted, "name", "") or type(fitted).__name__
    p = validate_probabilities(decision.p_flare, len(batch), who)
    action = np.asarray(decision.action)
    if action.shape != (len(batch),):
        raise ClassifierError(f"{who} returned {action.shape} actions for {len(batch)} episodes")
    if not np.isin(action, np.arange(len(ACTION_NAMES))).all():
        raise ClassifierError(f"{who} returned an action that is not continue, stop or defer")
    return np.array(p, dtype=np.float64), action.astype(np.int8), seconds


def fit_and_decide(
    prototype: FlareClassifier, batch: ObservedBatch
) -> tuple[bytes, float, np.ndarray, np.ndarray, float]:
    """Fit a rule on the batch (no labels) and decide on it, in one guarded call.

    Enters the stages ``fit`` and ``predict`` (see
    :func:`boneflare.benchmarks.harness.sandbox.enter`), so a failure names its stage.

    Returns
    -------
    tuple
        ``(model, fit_seconds, p_flare, action, predict_seconds)``, the model pickled.

    """
    enter("fit")
    model, fit_seconds = fit_model(prototype, batch, None)
    enter("predict")
    p, action, predict_seconds = decide(model, batch)
    return model, fit_seconds, p, action, predict_seconds


def closed_loop(
    model: bytes, scenario: Any, patients: int, seed: int, engine: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate a cohort with a pickled fitted model as the decision policy.

    Returns
    -------
    tuple of DataFrame
        The cohort's ``truth`` and ``decisions`` tables.

    """
    from boneflare.simulator.run import simulate

    policy: FlareClassifier = pickle.loads(model)
    closed = simulate(
        scenario, patients, seed, engine=engine, policy=policy, closed_loop=True, progress=False
    )
    return closed.truth, closed.decisions
