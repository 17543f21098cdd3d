"""The conformance suite: what every boneflare classifier must do (public API).

In the spirit of scikit-learn's ``check_estimator``: each ``check_*`` function takes a
classifier's name and an instance, runs it on a small simulated sample
(:func:`sample_data`: 600 default-scenario patients to train, 600 others to predict,
fixed seeds, built once) and raises :class:`CheckFailed` saying what is wrong.
:func:`check_classifier` runs them all; :func:`parametrize_with_checks` turns them into
pytest cases; ``boneflare classifiers check`` runs them over registered classifiers.

Every check works on its own deep copy of the instance (never on ``clone``, so that a
broken ``clone`` fails only :func:`check_clone`), and any exception a classifier raises
where it should not fails the check, with the exception named. The checks live in
:mod:`boneflare.benchmarks.conformance_checks` and the sample in
:mod:`boneflare.benchmarks.conformance_sample`; import them from here.

Examples
--------
>>> from boneflare.benchmarks.conformance import check_classifier
>>> from boneflare.classifiers.rules import TimingWindow
>>> results = check_classifier(TimingWindow())  # raises ConformanceError on a failure
>>> all(r.passed for r in results)
True

"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from boneflare.benchmarks.conformance_checks import (
    CheckFailed,
    check_clone,
    check_decide,
    check_deterministic,
    check_empty_batch,
    check_fit_one_class,
    check_fit_returns_self,
    check_metadata,
    check_missing_labs,
    check_no_mutation,
    check_order_invariance,
    check_output,
    check_refuses_future_data,
    check_single_episode,
)
from boneflare.benchmarks.conformance_sample import SampleData, sample_data
from boneflare.classifiers.base import FlareClassifier
from boneflare.simulator.errors import ConformanceError

__all__ = [
    "CheckFailed",
    "CheckResult",
    "ConformanceError",
    "SampleData",
    "all_checks",
    "check_classifier",
    "check_clone",
    "check_decide",
    "check_deterministic",
    "check_empty_batch",
    "check_fit_one_class",
    "check_fit_returns_self",
    "check_metadata",
    "check_missing_labs",
    "check_no_mutation",
    "check_order_invariance",
    "check_output",
    "check_refuses_future_data",
    "check_single_episode",
    "parametrize_with_checks",
    "run_check",
    "sample_data",
]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one classifier."""

    classifier: str
    check: str
    passed: bool
    message: str = ""


Check = Callable[[str, FlareClassifier], None]


def all_checks() -> list[Check]:
    """Return every check, in the order :func:`check_classifier` runs them."""
    return [
        check_metadata,
        check_clone,
        check_fit_returns_self,
        check_output,
        check_decide,
        check_deterministic,
        check_no_mutation,
        check_order_invariance,
        check_single_episode,
        check_empty_batch,
        check_refuses_future_data,
        check_fit_one_class,
        check_missing_labs,
    ]


def _name_of(estimator: FlareClassifier, name: str | None) -> str:
    return name or getattr(estimator, "name", "") or type(estimator).__name__


def run_check(check: Check, estimator: FlareClassifier, name: str | None = None) -> CheckResult:
    """Run one check and return its result (a classifier's exception fails the check)."""
    who = _name_of(estimator, name)
    try:
        check(who, estimator)
    except Exception as exc:  # any exception is a failure of the classifier under test
        text = " ".join(str(exc).split()) or "(no message)"
        if not isinstance(exc, CheckFailed):
            text = f"{type(exc).__name__}: {text}"
        return CheckResult(who, check.__name__, False, text)
    return CheckResult(who, check.__name__, True)


def check_classifier(
    estimator: FlareClassifier,
    name: str | None = None,
    *,
    checks: Iterable[Check] | None = None,
    raise_errors: bool = True,
) -> list[CheckResult]:
    """Run the conformance suite on a classifier instance.

    Parameters
    ----------
    estimator : FlareClassifier
        The classifier, constructed with the parameters to check (unfitted).
    name : str, optional
        Name to check and report it under (default: its ``name`` attribute); the
        registry passes the entry-point name, which must equal ``estimator.name``.
    checks : iterable of callables, optional
        The checks to run (default: :func:`all_checks`).
    raise_errors : bool
        Raise :class:`ConformanceError` when a check fails (default); otherwise return
        the results and let the caller look.

    Returns
    -------
    list of CheckResult
        One per check, in order (every check runs, even after a failure).

    Raises
    ------
    ConformanceError
        With ``raise_errors``, naming the classifier, every failed check and why.

    """
    results = [run_check(c, estimator, name) for c in (checks or all_checks())]
    failed = [r for r in results if not r.passed]
    if failed and raise_errors:
        lines = "; ".join(f"{r.check}: {r.message}" for r in failed)
        raise ConformanceError(f"classifier {results[0].classifier!r} failed {lines}")
    return results


def parametrize_with_checks(estimators: Sequence[FlareClassifier]):
    """Return a pytest ``parametrize`` mark over (estimator, check) pairs.

    Each case has a readable id, ``<name>-<check>``; the test calls ``check(estimator)``::

        @parametrize_with_checks([MyClassifier()])
        def test_conformance(estimator, check):
            check(estimator)

    """
    import pytest

    cases, ids = [], []
    for estimator in estimators:
        who = _name_of(estimator, None)
        for check in all_checks():
            cases.append((estimator, functools.partial(check, who)))
            ids.append(f"{who}-{check.__name__}")
    return pytest.mark.parametrize(("estimator", "check"), cases, ids=ids)
