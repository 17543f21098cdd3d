"""``calibrate fit``: estimate the free parameters by simulated method of moments.

The objective is a weighted sum of squared standardised distances between simulated
figures and their targets: every ``[large_n]`` target of the paper (scaled by its
tolerance, or by the half-width of its band), plus two anchors the paper's targets do
not pin down: each arm's median progression-free time against its pivotal trial
(targets.toml ``[literature]``, scaled to 15% on the log scale) and the pooled share of
complete responses (Table 1: 1 of 57). Each evaluation simulates the same patients
(common random numbers: one seed, draws independent of the parameters), so the
objective changes smoothly except where figures are counts of discrete scan days.
Parameters are optimised on a log or logit scale with Nelder-Mead (scipy), which needs
no gradients and is deterministic: the same seed gives the same fitted file.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from boneflare.simulator.calibration.figures import all_figures, progression_free_medians
from boneflare.simulator.calibration.targets import large_n_targets, load_targets
from boneflare.simulator.run import simulate
from boneflare.simulator.scenarios.loader import scenario_from_dict, scenario_to_dict
from boneflare.simulator.scenarios.schema import ARMS, Scenario
from boneflare.simulator.tables import CohortTables

DAYS_PER_MONTH = 365.25 / 12
PFS_LOG_SCALE = 0.15
"""Scale of the PFS anchors on the log scale (a 15% miss costs as much as one tolerance)."""
CR_SHARE = 1 / 57
"""Pooled complete responses in the paper (Table 1: 1 of 57)."""
CR_SCALE = 0.005
"""Scale of the CR anchor: a miss of half a percentage point costs one unit."""
INNER_FRACTION = 0.9
"""A paper target's figure is kept within this share of its tolerance (or half band) ..."""
OUTSIDE_WEIGHT = 100.0
"""... by this weight on the squared excess beyond it (a target must pass, not only be near)."""


@dataclass(frozen=True)
class FreeParameter:
    """A scenario parameter the fit may move, and the scale it moves on.

    Attributes
    ----------
    names : tuple of str
        Dotted parameter names set together to one value (e.g. a rate shared by arms).
    scale : str
        ``"log"`` (positive) or ``"logit"`` (in (0, 1)).
    """

    names: tuple[str, ...]
    scale: str = "log"

    @property
    def label(self) -> str:
        """A readable name."""
        return (
            self.names[0]
            if len(self.names) == 1
            else self.names[0].replace(self.names[0].split(".")[1], "*")
        )

    def to_free(self, value: float) -> float:
        """Map a parameter value to the unconstrained scale."""
        if self.scale == "logit":
            v = min(max(value, 1e-6), 1 - 1e-6)
            return math.log(v / (1 - v))
        return math.log(max(value, 1e-12))

    def from_free(self, x: float) -> float:
        """Map back from the unconstrained scale."""
        if self.scale == "logit":
            return 1.0 / (1.0 + math.exp(-x))
        return math.exp(x)


def _all_arms(field: str) -> tuple[str, ...]:
    return tuple(f"arms.{a}.{field}" for a in ARMS)


DEFAULT_FREE: tuple[FreeParameter, ...] = (
    FreeParameter(_all_arms("decay_median_per_day")),
    FreeParameter(_all_arms("nonresponder_fraction"), "logit"),
    *(FreeParameter((f"arms.{a}.growth_median_per_day",)) for a in ARMS),
    FreeParameter(("soft_tissue.cr_below_mm",)),
    FreeParameter(("flare.propensity",), "logit"),
    FreeParameter(("flare.response_scale_per_day",)),
    FreeParameter(("flare.onset_median_days",)),
    FreeParameter(("flare.onset_log_sd",)),
    FreeParameter(("alp.bone_excess_median_u_per_l",)),
    FreeParameter(("alp.healing_surge_ratio",)),
    FreeParameter(("bone.decay_ratio",)),
    FreeParameter(("dropout.hazard_per_day",)),
)
"""What ``calibrate fit`` estimates by default (see docs/model.md)."""


@dataclass(frozen=True)
class FitTarget:
    """A figure the fit pulls toward a value, with the scale of one unit of misfit."""

    key: str
    value: float
    scale: float
    log: bool = False
    must_pass: bool = False

    def cost(self, figures: dict[str, float]) -> float:
        """Squared standardised distance (a large constant when the figure is missing).

        A target that must pass (a paper target, whose scale is its tolerance or half
        band) adds ``OUTSIDE_WEIGHT`` times the squared excess of the standardised
        distance beyond ``INNER_FRACTION``, so the fit keeps every figure inside.
        """
        x = figures.get(self.key, np.nan)
        if not np.isfinite(x) or (self.log and x <= 0):
            return 25.0
        d = math.log(x / self.value) if self.log else x - self.value
        z = abs(d / self.scale)
        outside = max(0.0, z - INNER_FRACTION) if self.must_pass else 0.0
        return z**2 + OUTSIDE_WEIGHT * outside**2


def paper_fit_targets() -> list[FitTarget]:
    """The paper's ``[large_n]`` targets plus the PFS and CR anchors, as fit targets."""
    out = []
    for t in large_n_targets():
        if t.kind == "value":
            out.append(FitTarget(t.key, t.value, max(t.tol, 0.01), must_pass=True))
        elif t.kind == "band":
            middle, half = 0.5 * (t.low + t.high), 0.5 * (t.high - t.low)
            out.append(FitTarget(t.key, middle, half, must_pass=True))
    for arm, months in load_targets()["literature"]["median_pfs_months"].items():
        out.append(
            FitTarget(f"pfs_median_days.{arm}", months * DAYS_PER_MONTH, PFS_LOG_SCALE, log=True)
        )
    out.append(FitTarget("best_response.complete_response_share", CR_SHARE, CR_SCALE))
    return out


def fit_figures(tables: CohortTables) -> dict[str, float]:
    """Every figure the fit may target: paper figures, PFS medians, CR share."""
    figures = all_figures(tables)
    for arm, days in progression_free_medians(tables).items():
        figures[f"pfs_median_days.{arm}"] = days
    best = tables.truth["best_response"]
    evaluable = best[best != "NE"]
    figures["best_response.complete_response_share"] = float((evaluable == "CR").mean())
    return figures


def with_values(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """Return the scenario with dotted parameters replaced (validated)."""
    raw = scenario_to_dict(scenario)
    for name, value in values.items():
        node = raw
        *path, leaf = name.split(".")
        for part in path:
            node = node[part]
        node[leaf] = float(value)
    return scenario_from_dict(raw)


def _get(scenario: Scenario, name: str) -> float:
    node = scenario
    for part in name.split("."):
        node = getattr(node, part)
    return float(node)


@dataclass
class FitResult:
    """The outcome of a fit."""

    scenario: Scenario
    objective: float
    start_objective: float
    evaluations: int
    values: dict[str, float]
    figures: dict[str, float]


def fit(
    start: Scenario,
    *,
    free: tuple[FreeParameter, ...] = DEFAULT_FREE,
    targets: list[FitTarget] | None = None,
    patients: int = 40_000,
    seed: int = 1,
    max_evaluations: int = 600,
    workers: int = 1,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Move the free parameters of ``start`` until the simulated figures meet the targets.

    Parameters
    ----------
    start : Scenario
        Starting values of every parameter (fixed ones stay as they are).
    free : tuple of FreeParameter
        What to estimate.
    targets : list of FitTarget, optional
        Defaults to :func:`paper_fit_targets`.
    patients, seed : int
        Size and seed of the cohort simulated at every evaluation (the same patients
        every time: common random numbers).
    max_evaluations : int
        Budget of objective evaluations for Nelder-Mead.
    workers : int
        Worker processes per simulation.
    progress : callable, optional
        Called as ``progress(evaluation, best_objective)``.
    """
    targets = paper_fit_targets() if targets is None else targets
    x0 = np.array([p.to_free(_get(start, p.names[0])) for p in free])
    best = {"value": math.inf, "x": x0}
    count = {"n": 0}

    def scenario_at(x: np.ndarray) -> Scenario:
        values = {name: p.from_free(v) for p, v in zip(free, x, strict=True) for name in p.names}
        return with_values(start, values)

    def objective(x: np.ndarray) -> float:
        count["n"] += 1
        try:
            scenario = scenario_at(x)
        except Exception:  # a step out of a parameter's allowed range
            return 1e6
        figures = fit_figures(simulate(scenario, patients, seed, workers=workers))
        value = float(sum(t.cost(figures) for t in targets))
        if value < best["value"]:
            best.update(value=value, x=x.copy())
        if progress is not None:
            progress(count["n"], best["value"])
        return value

    start_value = objective(x0)
    optimize.minimize(
        objective,
        x0,
        method="Nelder-Mead",
        options={
            "maxfev": max_evaluations,
            "xatol": 1e-3,
            "fatol": 1e-3,
            "initial_simplex": _simplex(x0),
        },
    )
    scenario = scenario_at(best["x"])
    figures = fit_figures(simulate(scenario, patients, seed, workers=workers))
    values = {p.label: p.from_free(v) for p, v in zip(free, best["x"], strict=True)}
    return FitResult(scenario, best["value"], start_value, count["n"], values, figures)


def _simplex(x0: np.ndarray, step: float = 0.15) -> np.ndarray:
    """A starting simplex of +15% steps on the free scale (deterministic)."""
    simplex = np.tile(x0, (x0.size + 1, 1))
    for i in range(x0.size):
        simplex[i + 1, i] += step
    return simplex


def rounded(scenario: Scenario, free: tuple[FreeParameter, ...], digits: int = 4) -> Scenario:
    """Round the fitted values to ``digits`` significant digits for a readable file."""
    values = {}
    for p in free:
        for name in p.names:
            v = _get(scenario, name)
            values[name] = float(f"{v:.{digits}g}")
    return dataclasses.replace(with_values(scenario, values))
