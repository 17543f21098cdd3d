"""Per-cohort classification metrics for flare-versus-progression classifiers.

Every function here is pure numpy; nothing calls scikit-learn, which serves
only as the reference implementation in the test-suite. The definitions follow
scikit-learn's (``roc_auc_score``, ``recall_score``, ``balanced_accuracy_score``,
``brier_score_loss``, ``log_loss``), with one deliberate difference: a metric that is
undefined for the input is returned as ``float('nan')`` rather than raising, warning, or
being replaced by 0 or 1.

Label convention: ``1`` = bone flare (the "positive" class), ``0`` = true
progression.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFERRAL_POLICIES",
    "METRIC_DIRECTIONS",
    "TRADEOFF_METRICS",
    "MetricDirection",
    "classification_metrics",
    "policy_metric",
]

MetricDirection = Literal["higher", "lower", "none"]

DEFERRAL_POLICIES: Final[tuple[str, ...]] = ("call", "defer_uncertain", "defer_all")
"""What a policy does at the decision point (docs/results.md, "Deferral").

``call``: the classifier's own single-scan call. ``defer_uncertain``: defer to the next
CT when the classifier's P(flare) is near its threshold, else its call. ``defer_all``:
defer every decision point to the next CT (PCWG3-style confirmation).
"""

TRADEOFF_METRICS: Final[tuple[str, ...]] = (
    "flare_patients_stopped_share",
    "progression_delay_days",
    "episodes_deferred_share",
)
"""Consequence metrics of the deferral trade-off, computed for every policy."""


def policy_metric(metric: str, policy: str) -> str:
    """Name of ``metric`` under a deferral policy (``call`` keeps the plain name).

    Examples
    --------
    >>> policy_metric("progression_delay_days", "defer_all")
    'progression_delay_days:defer_all'

    """
    return metric if policy == "call" else f"{metric}:{policy}"


METRIC_DIRECTIONS: Final[dict[str, MetricDirection]] = {
    # Classification metrics produced by :func:`classification_metrics`.
    "roc_auc": "higher",
    "sensitivity_flare": "higher",
    "specificity": "higher",
    "balanced_accuracy": "higher",
    "brier": "lower",
    "log_loss": "lower",
    "n_episodes": "none",
    "n_flare": "none",
    # Clinical-consequence metrics produced elsewhere in the benchmark.
    "flare_patients_stopped_share": "lower",
    "effective_days_lost": "lower",
    "progression_delay_days": "lower",
    "episodes_deferred_share": "none",
    # Cost metrics.
    "fit_seconds": "lower",
    "predict_seconds": "lower",
    # The deferral trade-off at the decision point, per policy (call: the plain names).
    "flare_patients_stopped_share:defer_uncertain": "lower",
    "progression_delay_days:defer_uncertain": "lower",
    "episodes_deferred_share:defer_uncertain": "none",
    "flare_patients_stopped_share:defer_all": "lower",
    "progression_delay_days:defer_all": "lower",
    "episodes_deferred_share:defer_all": "none",
}
"""Which direction is better for each metric name.

``"higher"`` or ``"lower"`` is better; ``"none"`` marks descriptive or neutral
quantities (counts, the share of episodes deferred) that must not be ranked.
"""

_NAN: Final[float] = float("nan")


def _validate(
    y_flare: ArrayLike, p_flare: ArrayLike, threshold: float
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Check and convert the inputs of :func:`classification_metrics`.

    Parameters
    ----------
    y_flare : array_like
        True labels, 1 = flare, 0 = progression.
    p_flare : array_like
        Predicted probability of flare.
    threshold : float
        Decision threshold.

    Returns
    -------
    y : numpy.ndarray of int8
        Labels as a 1-D integer array.
    p : numpy.ndarray of float64
        Probabilities as a 1-D float64 array.

    Raises
    ------
    ValueError
        If any input is malformed; the message is a single line naming the
        problem.

    """
    y_raw = np.asarray(y_flare)
    if y_raw.ndim != 1:
        raise ValueError(f"y_flare must be 1-D, got an array with {y_raw.ndim} dimension(s)")
    if y_raw.dtype == np.bool_:
        y_raw = y_raw.astype(np.int8)
    if y_raw.size and not (
        np.issubdtype(y_raw.dtype, np.integer) or np.issubdtype(y_raw.dtype, np.floating)
    ):
        raise ValueError(f"y_flare must be numeric 0/1 labels, got dtype {y_raw.dtype}")
    if y_raw.size and not np.all((y_raw == 0) | (y_raw == 1)):
        bad = np.unique(y_raw[~((y_raw == 0) | (y_raw == 1))])[:5].tolist()
        raise ValueError(f"y_flare must contain only 0 and 1, found {bad}")

    try:
        p = np.asarray(p_flare, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"p_flare must be numeric probabilities ({exc})") from None
    if p.ndim != 1:
        raise ValueError(f"p_flare must be 1-D, got an array with {p.ndim} dimension(s)")
    if y_raw.shape[0] != p.shape[0]:
        raise ValueError(f"y_flare and p_flare differ in length: {y_raw.shape[0]} != {p.shape[0]}")
    if not np.all(np.isfinite(p)):
        raise ValueError("p_flare contains NaN or infinite values")
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        raise ValueError(f"p_flare must lie in [0, 1], found values in [{p.min()!r}, {p.max()!r}]")

    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
        raise ValueError(f"threshold must be a real number, got {type(threshold).__name__}")
    if not (np.isfinite(threshold) and 0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold must be a finite number in [0, 1], got {threshold!r}")

    return y_raw.astype(np.int8), p


def _average_ranks(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks 1..n of ``x``, tied values sharing their average rank.

    As ``scipy.stats.rankdata(x, method="average")``, value for value (every rank is a
    whole or half number, exact in floating point), without its per-call overhead.
    """
    order = np.argsort(x, kind="mergesort")
    ordered = x[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], x.size]
    group = np.repeat(np.arange(starts.size), ends - starts)
    ranks = np.empty(x.size)
    ranks[order] = ((starts + ends + 1) / 2.0)[group]
    return ranks


def _roc_auc(y: NDArray[np.int8], p: NDArray[np.float64]) -> float:
    """Area under the ROC curve by the rank (Mann-Whitney U) formula.

    Parameters
    ----------
    y : numpy.ndarray
        Labels, 1 = positive (flare).
    p : numpy.ndarray
        Scores; larger means more likely positive.

    Returns
    -------
    float
        ``(R1 - n1 (n1 + 1) / 2) / (n1 n0)`` where ``R1`` is the sum of the
        average ranks of the positives; tied scores get their average rank,
        which counts each positive-negative tie as 1/2. This equals the
        trapezoidal area computed by scikit-learn's ``roc_auc_score``. NaN if
        either class is absent.

    """
    n1 = int(np.count_nonzero(y == 1))
    n0 = int(y.shape[0] - n1)
    if n1 == 0 or n0 == 0:
        return _NAN
    ranks = _average_ranks(p)
    rank_sum_pos = float(ranks[y == 1].sum())
    u_statistic = rank_sum_pos - n1 * (n1 + 1) / 2.0
    return u_statistic / (n1 * n0)


def classification_metrics(
    y_flare: ArrayLike, p_flare: ArrayLike, threshold: float = 0.5
) -> dict[str, float]:
    """Score one classifier's flare probabilities on one cohort.

    Parameters
    ----------
    y_flare : array_like of shape (n_episodes,)
        True labels: 1 = bone flare, 0 = true progression. Booleans, integers or
        floats equal to 0/1 are accepted.
    p_flare : array_like of shape (n_episodes,)
        Predicted probability of flare, finite and within [0, 1]. Converted to
        float64.
    threshold : float, default 0.5
        An episode is *called* flare when ``p_flare >= threshold`` and
        progression otherwise. Must lie in [0, 1].

    Returns
    -------
    dict of str to float
        ``roc_auc``
            Area under the ROC curve, as scikit-learn ``roc_auc_score``,
            computed with the Mann-Whitney rank formula (ties get average
            ranks). NaN unless both classes are present.
        ``sensitivity_flare``
            Share of flare episodes called flare (recall of class 1, as
            scikit-learn ``recall_score``). NaN when there is no flare episode.
        ``specificity``
            Share of progression episodes called progression (recall of
            class 0). NaN when there is no progression episode.
        ``balanced_accuracy``
            Mean of sensitivity and specificity, as scikit-learn
            ``balanced_accuracy_score`` (``adjusted=False``). NaN unless both
            classes are present (scikit-learn would instead silently average
            over the single class present).
        ``brier``
            Mean squared difference between ``p_flare`` and ``y_flare``, as
            scikit-learn ``brier_score_loss`` for a binary target. NaN only for
            empty input.
        ``log_loss``
            Mean negative log-likelihood (natural log), as scikit-learn
            ``log_loss(y, p, labels=[0, 1])``: following scikit-learn
            (``sklearn.metrics._classification._log_loss``) both ``p`` and
            ``1 - p`` are clipped to ``[eps, 1 - eps]`` with
            ``eps = np.finfo(np.float64).eps`` before taking logarithms, so a
            confidently wrong 0 or 1 costs ``-log(eps)`` (about 36.04) rather
            than infinity. NaN only for empty input.
        ``n_episodes``
            Number of episodes (0.0 for empty input).
        ``n_flare``
            Number of flare episodes.

    Raises
    ------
    ValueError
        If the inputs differ in length, are not 1-D, if ``p_flare`` has values
        outside [0, 1] or non-finite values, if ``y_flare`` has values other
        than 0 and 1, or if ``threshold`` is not a number in [0, 1].

    Notes
    -----
    Undefined metrics are NaN, never 0 or 1, so that aggregation across
    replicates can exclude them instead of biasing the mean
    (see :func:`boneflare.benchmarks.aggregate.summarise`).

    References
    ----------
    scikit-learn developers, ``sklearn.metrics`` (``roc_auc_score``,
    ``recall_score``, ``balanced_accuracy_score``, ``brier_score_loss``,
    ``log_loss``), https://scikit-learn.org/stable/modules/model_evaluation.html.

    Hanley JA, McNeil BJ. The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 1982;143:29-36
    (equivalence of the AUC and the Mann-Whitney statistic).

    Examples
    --------
    >>> m = classification_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> m["roc_auc"], m["sensitivity_flare"], m["specificity"]
    (0.75, 0.5, 1.0)

    """
    y, p = _validate(y_flare, p_flare, threshold)
    n = int(y.shape[0])
    is_flare = y == 1
    n_flare = int(np.count_nonzero(is_flare))
    n_prog = n - n_flare

    called_flare = p >= threshold
    sensitivity = float(np.mean(called_flare[is_flare])) if n_flare else _NAN
    specificity = float(np.mean(~called_flare[~is_flare])) if n_prog else _NAN
    balanced = (sensitivity + specificity) / 2.0 if (n_flare and n_prog) else _NAN

    if n:
        brier = float(np.mean((y - p) ** 2))
        eps = np.finfo(p.dtype).eps
        p_pos = np.clip(p, eps, 1.0 - eps)
        p_neg = np.clip(1.0 - p, eps, 1.0 - eps)
        log_loss = float(-np.mean(np.where(is_flare, np.log(p_pos), np.log(p_neg))))
    else:
        brier = _NAN
        log_loss = _NAN

    return {
        "roc_auc": _roc_auc(y, p),
        "sensitivity_flare": sensitivity,
        "specificity": specificity,
        "balanced_accuracy": balanced,
        "brier": brier,
        "log_loss": log_loss,
        "n_episodes": float(n),
        "n_flare": float(n_flare),
    }
