"""What every metric of a run means: short header, unit, direction and definition.

One table, read by the leaderboard (column headers), the figures (axis labels) and the
HTML glossary, so a metric is named and explained the same way everywhere. Directions
come from :data:`boneflare.benchmarks.metrics.METRIC_DIRECTIONS`; a metric that is not
described here (a newer one) is shown under its own name, with its known direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from boneflare.benchmarks.metrics import METRIC_DIRECTIONS

ARROWS: Final[dict[str, str]] = {"higher": "↑", "lower": "↓", "none": ""}
"""Header mark of each direction (higher is better: ↑)."""


@dataclass(frozen=True)
class MetricInfo:
    """How one metric is shown.

    Attributes
    ----------
    name : str
        Column name in ``results.parquet``.
    header : str
        Short name for table headers and figure titles.
    unit : str
        Unit as displayed (after ``scale``), e.g. ``"%"`` or ``"days"``; empty for a
        unitless score.
    definition : str
        One sentence: what the number is, and over whom.
    fmt : str
        Format of a displayed value (mean and Monte Carlo SE alike).
    scale : float
        Display factor: a stored share of 0.064 is shown as 6.4 %.
    timing : bool
        A machine-dependent timing (shown only on request).

    """

    name: str
    header: str
    unit: str
    definition: str
    fmt: str = "{:.3f}"
    scale: float = 1.0
    timing: bool = False

    @property
    def direction(self) -> str:
        """``"higher"``, ``"lower"`` or ``"none"`` (neutral or unknown)."""
        return METRIC_DIRECTIONS.get(self.name, "none")

    @property
    def arrow(self) -> str:
        """``↑`` if higher is better, ``↓`` if lower is better, else empty."""
        return ARROWS.get(self.direction, "")

    @property
    def label(self) -> str:
        """Header with unit, for axes: ``"days lost (days per patient)"``."""
        return f"{self.header} ({self.unit})" if self.unit else self.header

    @property
    def better(self) -> str:
        """``"higher is better"``, ``"lower is better"`` or ``"neutral"``."""
        return {"higher": "higher is better", "lower": "lower is better"}.get(
            self.direction, "neutral"
        )

    def show(self, value: float) -> str:
        """A stored value as displayed (scaled and formatted)."""
        return self.fmt.format(value * self.scale)


_DESCRIBED: Final[tuple[MetricInfo, ...]] = (
    MetricInfo(
        "roc_auc",
        "ROC AUC",
        "",
        "Area under the ROC curve of P(flare) over the scored episodes of one cohort: the "
        "chance that a random flare episode gets a higher P(flare) than a random "
        "progression episode (0.5 is chance, 1 perfect).",
    ),
    MetricInfo(
        "sensitivity_flare",
        "sens. flare",
        "%",
        "Share of flare episodes called flare, i.e. kept on treatment.",
        "{:.1f}",
        100.0,
    ),
    MetricInfo(
        "specificity",
        "specificity",
        "%",
        "Share of progression episodes called progression.",
        "{:.1f}",
        100.0,
    ),
    MetricInfo(
        "balanced_accuracy",
        "bal. acc.",
        "",
        "Mean of sensitivity for flare and specificity, as a fraction (0.5 is chance).",
    ),
    MetricInfo(
        "brier",
        "Brier",
        "",
        "Mean squared difference between P(flare) and the label (1 flare, 0 progression).",
    ),
    MetricInfo(
        "log_loss",
        "log loss",
        "nats",
        "Mean negative natural log of the probability given to the true label "
        "(probabilities clipped as scikit-learn does).",
    ),
    MetricInfo(
        "n_episodes",
        "episodes",
        "per cohort",
        "Scored episodes in one cohort.",
        "{:.0f}",
    ),
    MetricInfo(
        "n_flare",
        "flare episodes",
        "per cohort",
        "Scored flare episodes in one cohort.",
        "{:.0f}",
    ),
    MetricInfo(
        "flare_patients_stopped_share",
        "flare pts stopped",
        "%",
        "Of the patients with a flare episode, the share whose working treatment was stopped.",
        "{:.1f}",
        100.0,
    ),
    MetricInfo(
        "effective_days_lost",
        "days lost",
        "d/pt",
        "Days of effective treatment lost, averaged over every patient with an episode "
        "(0 for a patient not stopped while treatment worked).",
        "{:.1f}",
    ),
    MetricInfo(
        "progression_delay_days",
        "PD delay",
        "d/pt",
        "Days from the first true-progression episode to the stop (or to the end of "
        "follow-up), averaged over patients with such an episode not stopped before it.",
        "{:.1f}",
    ),
    MetricInfo(
        "episodes_deferred_share",
        "deferred",
        "%",
        "Share of the calls that deferred the decision to the next CT.",
        "{:.1f}",
        100.0,
    ),
    MetricInfo(
        "fit_seconds",
        "fit",
        "ms",
        "Time in fit (a learned model's one fit, repeated in every replicate).",
        "{:.0f}",
        1000.0,
        timing=True,
    ),
    MetricInfo(
        "predict_seconds",
        "predict",
        "ms",
        "Time in decide on one test cohort.",
        "{:.0f}",
        1000.0,
        timing=True,
    ),
)

METRICS: Final[dict[str, MetricInfo]] = {m.name: m for m in _DESCRIBED}
"""Every described metric, by name, in display order."""


POLICIES: Final[dict[str, str]] = {
    "defer_uncertain": "deferring uncertain calls to the next CT",
    "defer_all": "deferring every decision point to the next CT",
}
"""Deferral policies of :data:`boneflare.benchmarks.metrics.DEFERRAL_POLICIES` (besides
the single-scan ``call``), as a metric name's suffix ``<metric>:<policy>`` means them."""


def info(metric: str) -> MetricInfo:
    """The display information of ``metric`` (a plain stand-in for an undescribed one).

    A metric under a deferral policy (``progression_delay_days:defer_all``) is shown as
    its base metric with the policy named.
    """
    found = METRICS.get(metric)
    if found is not None:
        return found
    base, _, policy = metric.partition(":")
    if base in METRICS and policy:
        m = METRICS[base]
        how = POLICIES.get(policy, policy)
        return MetricInfo(
            metric,
            f"{m.header} ({policy.replace('_', ' ')})",
            m.unit,
            f"{m.definition} Under the policy of {how} at the decision point.",
            m.fmt,
            m.scale,
        )
    return MetricInfo(metric, metric.replace("_", " "), "", "(not described)")
