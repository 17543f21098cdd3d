"""The checks of the conformance suite, one function each: ``check_x(name, estimator)``.

Each check runs the classifier on the sample cohorts of
:func:`~boneflare.benchmarks.conformance_sample.sample_data` and raises :class:`CheckFailed`
saying what is wrong. Checks use deep copies of the instance and of the data, so they
can run in any order. Public through :mod:`boneflare.benchmarks.conformance`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone

from boneflare.benchmarks.conformance_sample import sample_data
from boneflare.classifiers.base import FlareClassifier
from boneflare.simulator.observed import ACTION_NAMES, FutureDataError, ObservedBatch

SINGLE_EPISODES = 8
"""Episodes predicted one at a time in :func:`check_single_episode`."""
ATOL = 1e-9
"""Tolerance when comparing probabilities computed in different batches or orders."""
MAX_DESCRIPTION = 120
"""Longest one-line description (it must fit a line of ``boneflare classifiers list``)."""
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
"""What a registry name may look like (usable on a command line without quoting)."""


class CheckFailed(AssertionError):  # noqa: N818 (reads as "check failed: ...")
    """A classifier failed one conformance check (the message says why)."""


# ------------------------------------------------------------------------ helpers
def _copy_batch(batch: ObservedBatch) -> ObservedBatch:
    return replace(
        batch,
        episodes=batch.episodes.copy(deep=True),
        patients=batch.patients.copy(deep=True),
        labs=batch.labs.copy(deep=True),
        scans=batch.scans.copy(deep=True),
    )


def _train() -> tuple[ObservedBatch, np.ndarray]:
    data = sample_data()
    return _copy_batch(data.train), data.y_train.copy()


def _test() -> ObservedBatch:
    return _copy_batch(sample_data().test)


_FITTED: dict[tuple[type, str], FlareClassifier] = {}
"""Classifiers fitted on the training sample, by (class, parameters): checks get copies."""


def _fit(
    estimator: FlareClassifier, y: np.ndarray | None = None, *, reuse: bool = True
) -> FlareClassifier:
    """A deep copy of ``estimator`` fitted on the training sample (or on labels ``y``).

    With ``reuse``, a fit on the training sample is done once per class and parameters
    and every call gets a deep copy of it (checks that test fitting itself pass
    ``reuse=False``).
    """
    key = None
    if y is None and reuse:
        try:
            key = (type(estimator), _params(estimator))
        except Exception:  # unhashable parameters: fit every time
            key = None
        if key in _FITTED:
            return copy.deepcopy(_FITTED[key])
    model = copy.deepcopy(estimator)
    batch, labels = _train()
    model.fit(batch, labels if y is None else y)
    if key is not None:
        _FITTED[key] = copy.deepcopy(model)
    return model


def _probabilities(model: FlareClassifier, batch: ObservedBatch, what: str) -> np.ndarray:
    """``predict_proba`` on ``batch``, checked: ndarray of floats, right shape, in [0, 1]."""
    p = model.predict_proba(batch)
    if not isinstance(p, np.ndarray):
        raise CheckFailed(f"{what}: predict_proba returned {type(p).__name__}, not an ndarray")
    if p.shape != (len(batch),):
        raise CheckFailed(f"{what}: shape {p.shape} for {len(batch)} episodes")
    if not np.issubdtype(p.dtype, np.floating):
        raise CheckFailed(f"{what}: dtype {p.dtype}, not float")
    if not np.isfinite(p).all():
        raise CheckFailed(f"{what}: {int((~np.isfinite(p)).sum())} NaN or infinite values")
    if ((p < 0) | (p > 1)).any():
        raise CheckFailed(f"{what}: values outside [0, 1] (from {p.min():g} to {p.max():g})")
    return p


def _params(estimator: FlareClassifier) -> str:
    return joblib.hash(estimator.get_params(deep=True))


def _same_frames(before: ObservedBatch, after: ObservedBatch, what: str) -> None:
    for part in ("episodes", "patients", "labs", "scans"):
        try:
            pd.testing.assert_frame_equal(getattr(before, part), getattr(after, part))
        except AssertionError:
            raise CheckFailed(f"{what} changed the batch's {part} table") from None


def _future_batch(batch: ObservedBatch, part: str) -> ObservedBatch:
    """``batch`` with its first ``part`` row moved to the day after its decision day."""
    frame = getattr(batch, part).copy(deep=True)
    decision = batch.episodes.set_index("episode_id")["day"]
    first = frame.index[0]
    late = int(decision[frame.at[first, "episode_id"]]) + 1
    frame["day"] = frame["day"].astype(np.int64)
    frame.at[first, "day"] = late
    return replace(batch, **{part: frame})


# ------------------------------------------------------------------------ checks
def check_metadata(name: str, estimator: FlareClassifier) -> None:
    """Check the class attributes a registry and a benchmark rely on.

    A usable ``name`` (equal to the registered one), a one-line ``description``,
    boolean ``learned`` and ``trains_on_test_scenario``, ``threshold`` in [0, 1], a
    positive integer ``training_patients``.
    """
    if not isinstance(estimator, FlareClassifier):
        raise CheckFailed(f"{type(estimator).__name__} is not a FlareClassifier")
    own = estimator.name
    if not isinstance(own, str) or not NAME_PATTERN.fullmatch(own):
        raise CheckFailed(f"name {own!r} is not a word of letters, digits, '_', '.' or '-'")
    if own != name:
        raise CheckFailed(f"registered as {name!r} but its name attribute is {own!r}")
    text = estimator.description
    if not isinstance(text, str) or not text.strip() or "\n" in text:
        raise CheckFailed("description must be one non-empty line")
    if len(text) > MAX_DESCRIPTION:
        raise CheckFailed(f"description is {len(text)} characters long (at most {MAX_DESCRIPTION})")
    for flag in ("learned", "trains_on_test_scenario"):
        if not isinstance(getattr(estimator, flag), bool):
            raise CheckFailed(f"{flag} must be a bool")
    threshold = estimator.threshold
    if not isinstance(threshold, int | float) or not 0.0 <= float(threshold) <= 1.0:
        raise CheckFailed(f"threshold {threshold!r} is not a number in [0, 1]")
    size = estimator.training_patients
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise CheckFailed(f"training_patients {size!r} is not a positive integer")


def check_clone(name: str, estimator: FlareClassifier) -> None:
    """Check the scikit-learn estimator contract: parameters, ``clone``, ``set_params``.

    ``__init__`` stores its parameters unchanged and nothing else; ``clone`` and
    ``set_params`` round-trip; a clone of a fitted classifier is unfitted and refits to
    the same answers.
    """
    params = estimator.get_params(deep=False)
    rebuilt = type(estimator)(**params)
    extra = sorted(set(vars(rebuilt)) - set(params))
    if extra:
        raise CheckFailed(f"__init__ sets attributes that are not parameters: {', '.join(extra)}")
    stored = rebuilt.get_params(deep=False)
    changed = sorted(k for k, v in params.items() if stored[k] is not v)
    if changed:
        raise CheckFailed(f"__init__ does not store parameters unchanged: {', '.join(changed)}")
    twin = clone(estimator)
    if type(twin) is not type(estimator) or _params(twin) != _params(estimator):
        raise CheckFailed("clone gives a different class or different parameters")
    if twin.set_params(**params) is not twin or _params(twin) != _params(estimator):
        raise CheckFailed("set_params does not return self with the same parameters")
    fitted = _fit(estimator, reuse=False)
    fresh = clone(fitted)
    learned = sorted(k for k in vars(fresh) if k.endswith("_") and not k.startswith("_"))
    if learned:
        raise CheckFailed(f"a clone of a fitted classifier keeps {', '.join(learned)}")
    test = _test()
    p = _probabilities(fitted, test, "fitted original")
    q = _probabilities(_fit(fresh, reuse=False), test, "refitted clone")
    if not np.allclose(p, q, rtol=0.0, atol=ATOL):
        raise CheckFailed("a refitted clone predicts differently from the original")


def check_fit_returns_self(name: str, estimator: FlareClassifier) -> None:
    """``fit`` returns the classifier itself."""
    model = copy.deepcopy(estimator)
    batch, y = _train()
    out = model.fit(batch, y)
    if out is not model:
        raise CheckFailed(f"fit returned {type(out).__name__}, not self")


def check_output(name: str, estimator: FlareClassifier) -> None:
    """``predict_proba`` returns one finite float in [0, 1] per episode."""
    _probabilities(_fit(estimator), _test(), "predict_proba on the test sample")


def check_decide(name: str, estimator: FlareClassifier) -> None:
    """``decide`` returns ``predict_proba``'s probabilities and one valid action per episode."""
    model = _fit(estimator)
    test = _test()
    p = _probabilities(model, test, "predict_proba")
    decision = model.decide(test)
    got = np.asarray(decision.p_flare, dtype=float)
    if got.shape != p.shape or not np.allclose(got, p, rtol=0.0, atol=ATOL):
        raise CheckFailed("decide's p_flare differs from predict_proba")
    action = np.asarray(decision.action)
    if action.shape != p.shape:
        raise CheckFailed(f"decide returned {action.shape} actions for {len(test)} episodes")
    if not np.issubdtype(action.dtype, np.integer):
        raise CheckFailed(f"decide's actions have dtype {action.dtype}, not integer")
    if not np.isin(action, np.arange(len(ACTION_NAMES))).all():
        raise CheckFailed("decide returned an action that is not continue, stop or defer")


def check_deterministic(name: str, estimator: FlareClassifier) -> None:
    """Check determinism: the same parameters and data give the same probabilities.

    Two fits give identical probabilities, and predicting twice gives the same answer
    (no hidden global random state: seeds come from a ``random_state`` parameter).
    """
    test = _test()
    first = _fit(estimator, reuse=False)
    p = _probabilities(first, test, "first fit")
    q = _probabilities(_fit(estimator, reuse=False), test, "second fit")
    if not np.array_equal(p, q):
        raise CheckFailed("two fits with the same parameters and data predict differently")
    if not np.array_equal(p, _probabilities(first, test, "second predict")):
        raise CheckFailed("predicting the same batch twice gives different answers")


def check_no_mutation(name: str, estimator: FlareClassifier) -> None:
    """Check that nothing is mutated: inputs, parameters, fitted state.

    Neither ``fit`` nor ``predict_proba`` changes its inputs or the parameters, and
    ``predict_proba`` changes nothing in the fitted classifier.
    """
    model = copy.deepcopy(estimator)
    params = _params(model)
    batch, y = _train()
    kept, kept_y = _copy_batch(batch), y.copy()
    model.fit(batch, y)
    _same_frames(kept, batch, "fit")
    if not np.array_equal(kept_y, y):
        raise CheckFailed("fit changed the labels")
    if _params(model) != params:
        raise CheckFailed("fit changed the parameters")
    test = _test()
    kept = _copy_batch(test)
    state = joblib.hash(vars(model))
    model.predict_proba(test)
    _same_frames(kept, test, "predict_proba")
    if _params(model) != params:
        raise CheckFailed("predict_proba changed the parameters")
    if joblib.hash(vars(model)) != state:
        raise CheckFailed("predict_proba changed the fitted classifier's attributes")


def check_order_invariance(name: str, estimator: FlareClassifier) -> None:
    """Shuffling the episodes of a batch shuffles the probabilities the same way."""
    model = _fit(estimator)
    test = _test()
    p = _probabilities(model, test, "in order")
    order = np.random.default_rng(0).permutation(len(test))
    q = _probabilities(model, test.take(order), "shuffled")
    if not np.allclose(q, p[order], rtol=0.0, atol=ATOL):
        moved = int((~np.isclose(q, p[order], rtol=0.0, atol=ATOL)).sum())
        raise CheckFailed(f"{moved} episodes get another probability once the batch is shuffled")


def check_single_episode(name: str, estimator: FlareClassifier) -> None:
    """Check a batch of one episode: it gets its probability from the whole batch.

    An answer must not depend on the other episodes of the batch (the reference engine
    asks one patient at a time, the batched engine many).
    """
    model = _fit(estimator)
    test = _test()
    p = _probabilities(model, test, "whole batch")
    for i in np.linspace(0, len(test) - 1, SINGLE_EPISODES).astype(int):
        q = _probabilities(model, test.take([i]), "one episode")
        if not np.isclose(q[0], p[i], rtol=0.0, atol=ATOL):
            raise CheckFailed(
                f"episode {int(test.episode_ids[i])} alone gets {q[0]:.6g}, in the batch {p[i]:.6g}"
            )


def check_empty_batch(name: str, estimator: FlareClassifier) -> None:
    """A batch without episodes gives empty probabilities and actions."""
    model = _fit(estimator)
    empty = _test().take(np.arange(0))
    _probabilities(model, empty, "empty batch")
    decision = model.decide(empty)
    if np.asarray(decision.action).shape != (0,):
        raise CheckFailed("decide on an empty batch returned actions")


def check_refuses_future_data(name: str, estimator: FlareClassifier) -> None:
    """Check that data dated after the decision day is refused.

    A batch holding a lab value or a CT dated after its decision day makes
    ``predict_proba`` and ``fit`` raise :class:`~boneflare.simulator.observed.FutureDataError`.
    """
    model = _fit(estimator)
    test = _test()
    for part, what in (("labs", "a lab value"), ("scans", "a CT")):
        late = _future_batch(test, part)
        for method in ("predict_proba", "fit"):
            args = (late,) if method == "predict_proba" else (late, np.zeros(len(late), np.int8))
            try:
                getattr(copy.deepcopy(model), method)(*args)
            except FutureDataError:
                continue
            except Exception as exc:
                raise CheckFailed(
                    f"{method} raised {type(exc).__name__} instead of FutureDataError "
                    f"on {what} dated after the decision day"
                ) from None
            raise CheckFailed(f"{method} accepted {what} dated after the decision day")


def check_fit_one_class(name: str, estimator: FlareClassifier) -> None:
    """Check fitting on one class only (all flare, or all progression).

    Fitting works and the probabilities are valid afterwards.
    """
    n = len(sample_data().train)
    for label, what in ((0, "progression"), (1, "flare")):
        model = _fit(estimator, np.full(n, label, dtype=np.int8))
        _probabilities(model, _test(), f"after fitting on {what} episodes only")


def check_missing_labs(name: str, estimator: FlareClassifier) -> None:
    """Episodes without any lab value (missed draws) still get valid probabilities."""
    model = _fit(estimator)
    test = _test()
    some = test.episode_ids[::2]
    half = replace(test, labs=test.labs[~test.labs["episode_id"].isin(some)].reset_index(drop=True))
    _probabilities(model, half, "without labs for half of the episodes")
    none = replace(test, labs=test.labs.iloc[:0].copy())
    _probabilities(model, none, "without any lab value")
