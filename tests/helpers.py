"""Small helpers shared by tests (no strategies here: see strategies.py)."""

from __future__ import annotations

import pandas as pd

from boneflare.simulator.tables import CohortTables


def assert_tables_equal(a: CohortTables, b: CohortTables) -> None:
    """Every table identical, bit for bit (values, dtypes, order)."""
    for name in CohortTables.names():
        pd.testing.assert_frame_equal(
            getattr(a, name), getattr(b, name), check_exact=True, obj=name
        )


def tables_equal(a: CohortTables, b: CohortTables) -> bool:
    """Whether every table is identical."""
    try:
        assert_tables_equal(a, b)
    except AssertionError:
        return False
    return True


BUILT_IN_CLASSIFIERS = (
    "recist_naive",
    "soft_tissue_concordance",
    "timing_window",
    "alp_trend",
    "combined_rule",
    "pcwg3_confirm",
    "logistic",
    "gradient_boosting",
    "bayes_oracle",
)
"""The nine classifiers boneflare ships (docs/benchmarks.md)."""
