"""The choices of how results are shown, light enough for the command line's parser.

``boneflare --help`` imports this module and nothing heavy; the report modules take
their defaults from here.
"""

from __future__ import annotations

from typing import Final

FORMATS: Final[tuple[str, ...]] = ("table", "markdown", "csv", "json")
"""Choices of ``--format``."""

WIDTH: Final[int] = 120
"""Default width of the text table, in characters."""

SORT_METRIC: Final[str] = "roc_auc"
"""Metric the leaderboard is sorted by unless told otherwise (best first)."""

DEFAULT_COLUMNS: Final[tuple[str, ...]] = (
    "roc_auc",
    "balanced_accuracy",
    "brier",
    "flare_patients_stopped_share",
    "progression_delay_days",
    "effective_days_lost",
)
"""Leaderboard columns by default: discrimination, calibration, and what calls do to patients."""

FIGURE_FORMATS: Final[tuple[str, ...]] = ("png", "svg", "pdf")
"""Choices of ``--figure-format``."""

DPI: Final[int] = 120
"""Default resolution of raster figures (dots per inch)."""
