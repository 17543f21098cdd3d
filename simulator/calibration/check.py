"""``calibrate check``: whether a scenario reproduces every ``[large_n]`` target of the paper.

The figures are computed from the output tables (:mod:`.figures`). Each comes with
its Monte Carlo standard error, estimated by batch means: the cohort is split into
``batches`` disjoint groups of patients, the figure computed in each, and the
standard error of the whole-cohort figure taken as ``sd(batch figures) / sqrt(batches)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from boneflare.simulator.calibration.figures import all_figures
from boneflare.simulator.calibration.targets import large_n_targets
from boneflare.simulator.run import simulate
from boneflare.simulator.scenarios.schema import Scenario
from boneflare.simulator.tables import CohortTables

BATCHES = 10
"""Batch-means groups for the Monte Carlo standard error."""


def subset(tables: CohortTables, patient_ids: np.ndarray) -> CohortTables:
    """Return the tables restricted to some patients (episodes and their truth included)."""
    keep = pd.Index(patient_ids)
    parts = {}
    for name, frame in tables.items():
        if "patient_id" in frame.columns:
            parts[name] = frame[frame["patient_id"].isin(keep)]
        else:  # episode_truth: follow the kept episodes
            parts[name] = frame
    kept_episodes = parts["episodes"]["episode_id"]
    parts["episode_truth"] = tables.episode_truth[
        tables.episode_truth["episode_id"].isin(kept_episodes)
    ]
    return CohortTables(**parts)


def monte_carlo_se(tables: CohortTables, batches: int = BATCHES) -> dict[str, float]:
    """Batch-means standard error of every figure of :func:`all_figures`."""
    ids = tables.patients["patient_id"].to_numpy()
    per_batch = [all_figures(subset(tables, ids[ids % batches == b])) for b in range(batches)]
    keys = per_batch[0].keys()
    out = {}
    for key in keys:
        values = np.array([f[key] for f in per_batch], dtype=float)
        values = values[np.isfinite(values)]
        out[key] = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else np.nan
    return out


def check_tables(tables: CohortTables, z: float = 0.0, batches: int = BATCHES) -> pd.DataFrame:
    """Judge a simulated cohort against every target.

    Returns
    -------
    DataFrame
        One row per target: ``target`` (key), ``wanted`` (in words), ``simulated``,
        ``mc_se``, ``allowed_slack`` (``z * mc_se``) and ``pass``.
    """
    figures = all_figures(tables)
    se = monte_carlo_se(tables, batches)
    rows = []
    for t in large_n_targets():
        simulated = figures.get(t.key, np.nan) if t.kind != "ordering" else np.nan
        rows.append(
            {
                "target": t.key,
                "wanted": t.describe(),
                "simulated": simulated,
                "mc_se": se.get(t.key, np.nan),
                "allowed_slack": z * se.get(t.key, 0.0) if t.kind != "ordering" else 0.0,
                "pass": t.passes(figures, se, z),
            }
        )
    return pd.DataFrame(rows)


def run_check(
    scenario: Scenario, patients: int, seed: int, z: float = 0.0, workers: int = 1
) -> pd.DataFrame:
    """Simulate ``patients`` patients and judge them against every target."""
    return check_tables(simulate(scenario, patients, seed, workers=workers), z)


def to_markdown(result: pd.DataFrame, title: str) -> str:
    """Render a check as a Markdown table."""
    lines = [
        f"# {title}",
        "",
        "| target | wanted | simulated | MC s.e. | pass |",
        "| --- | --- | ---: | ---: | :---: |",
    ]
    for r in result.to_dict("records"):
        sim = "" if not np.isfinite(r["simulated"]) else f"{r['simulated']:.4g}"
        se = "" if not np.isfinite(r["mc_se"]) else f"{r['mc_se']:.2g}"
        ok = "yes" if r["pass"] else "NO"
        lines.append(f"| {r['target']} | {r['wanted']} | {sim} | {se} | {ok} |")
    passed = int(result["pass"].sum())
    lines += ["", f"{passed} of {len(result)} targets met."]
    return "\n".join(lines) + "\n"


def write_check(result: pd.DataFrame, folder: str | Path, title: str) -> list[Path]:
    """Write the check as ``calibration_check.csv`` and ``.md`` into ``folder``."""
    return write_table(result, folder, "calibration_check", to_markdown(result, title))


def write_table(frame: pd.DataFrame, folder: str | Path, stem: str, markdown: str) -> list[Path]:
    """Write ``frame`` as ``<stem>.csv`` and its ``markdown`` as ``<stem>.md`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv, md = folder / f"{stem}.csv", folder / f"{stem}.md"
    frame.to_csv(csv, index=False)
    md.write_text(markdown)
    return [csv, md]
