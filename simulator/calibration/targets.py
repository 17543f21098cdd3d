"""The paper's targets (targets.toml, shipped verbatim) and how a figure is judged against them.

Three kinds of ``[large_n]`` target:

* ``{ value, tol }``: pass when ``|simulated - value| <= tol``;
* ``{ low, high }``: pass when ``low <= simulated <= high``;
* ``ordering = "flare < benefit < 100 < progression"``: pass when the simulated
  medians of the section keep that order.

A check at a modest cohort size widens each tolerance by ``z`` Monte Carlo standard
errors of the simulated figure (computed from the cohort, see :mod:`.check`).
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np


@cache
def load_targets() -> dict[str, Any]:
    """Return the parsed targets.toml shipped with the package (a copy of the paper's)."""
    text = (resources.files("boneflare.simulator.calibration") / "targets.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class Target:
    """One ``[large_n]`` target.

    Attributes
    ----------
    key : str
        ``section.name`` (e.g. ``flare.onset_median_days``), as in :func:`all_figures`.
    kind : str
        ``"value"``, ``"band"`` or ``"ordering"``.
    value, tol, low, high : float
        The target (NaN where not used by the kind).
    order : tuple of str
        For an ordering: the terms, smallest first (a number stands for itself).
    """

    key: str
    kind: str
    value: float = np.nan
    tol: float = np.nan
    low: float = np.nan
    high: float = np.nan
    order: tuple[str, ...] = ()

    def describe(self) -> str:
        """The target in words, e.g. ``0.233 +/- 0.02`` or ``45 to 80``."""
        if self.kind == "value":
            return f"{self.value:g} ± {self.tol:g}"
        if self.kind == "band":
            return f"{self.low:g} to {self.high:g}"
        return " < ".join(self.order)

    def passes(
        self, figures: dict[str, float], se: dict[str, float] | None = None, z: float = 0.0
    ) -> bool:
        """Whether the simulated figure(s) meet the target, tolerances widened by z SE."""
        se = se or {}
        if self.kind == "ordering":
            section = self.key.rsplit(".", 1)[0]
            values = [
                float(t) if _is_number(t) else figures.get(f"{section}.{t}", np.nan)
                for t in self.order
            ]
            return bool(all(a < b for a, b in itertools.pairwise(values)))
        x = figures.get(self.key, np.nan)
        if not np.isfinite(x):
            return False
        slack = z * se.get(self.key, 0.0)
        if self.kind == "value":
            return bool(abs(x - self.value) <= self.tol + slack + 1e-12)
        return bool(self.low - slack <= x <= self.high + slack)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def large_n_targets() -> list[Target]:
    """Every ``[large_n]`` target of targets.toml, in file order."""
    out: list[Target] = []
    for section, entries in load_targets()["large_n"].items():
        for name, spec in entries.items():
            key = f"{section}.{name}"
            if isinstance(spec, str):
                out.append(Target(key, "ordering", order=tuple(s.strip() for s in spec.split("<"))))
            elif "tol" in spec:
                out.append(Target(key, "value", value=float(spec["value"]), tol=float(spec["tol"])))
            else:
                out.append(Target(key, "band", low=float(spec["low"]), high=float(spec["high"])))
    return out
