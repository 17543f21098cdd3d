"""The calibration report: simulated against the paper, in Markdown with PNG figures.

Figures:

* ``targets.png``: every ``[large_n]`` target with its tolerance and the simulated value;
* ``figure1_alp_calcium.png``: median % of baseline ALP and calcium per group by cycle
  over five months, interquartile bands (the paper's Figure 1);
* ``figure7_alp_paths.png``: ALP paths of simulated flare patients, the observed flare
  day marked (the paper's Figure 7);
* ``flare_onsets.png``: the distribution of observed flare onset with the paper's seven
  onsets overlaid.

The paper's tests (Student's t between flare and benefit groups, one-way ANOVA across
the three groups, at five months) are repeated on simulated 57-patient trials to say how
often the paper's significance pattern would be reproduced.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from boneflare.simulator.calibration.check import check_tables, to_markdown
from boneflare.simulator.calibration.figures import (
    FIVE_MONTH_DAY,
    GROUPS,
    flare_onsets,
    lab_groups,
    lab_panel,
)
from boneflare.simulator.calibration.ppc import observed_figures, place, trial_figures
from boneflare.simulator.calibration.ppc import to_markdown as ppc_markdown
from boneflare.simulator.calibration.targets import large_n_targets, load_targets
from boneflare.simulator.cohort import PAPER57_TRIAL_SIZE
from boneflare.simulator.scenarios.schema import Scenario
from boneflare.simulator.tables import CohortTables

CYCLE_DAYS = 21
SIGNIFICANCE = 0.05
COLORS = {"flare": "#d95f02", "benefit": "#1b9e77", "progression": "#7570b3"}


def percent_by_cycle(tables: CohortTables, analyte: str) -> pd.DataFrame:
    """% of baseline per patient and cycle (0-7) for bone-metastatic patients with 5-month labs.

    Columns: ``patient_id, cycle, percent, group``.
    """
    panel = lab_panel(tables, analyte)
    ids = panel.index[panel["five_month"].notna()]
    labs = tables.labs[(tables.labs["analyte"] == analyte) & tables.labs["patient_id"].isin(ids)]
    cycle = np.rint(labs["day"].to_numpy(float) / CYCLE_DAYS).astype(int)
    frame = pd.DataFrame(
        {
            "patient_id": labs["patient_id"].to_numpy(),
            "cycle": cycle,
            "value": labs["value"].to_numpy(),
        }
    )
    frame = frame[frame["cycle"] <= FIVE_MONTH_DAY // CYCLE_DAYS]
    frame = frame.drop_duplicates(["patient_id", "cycle"])
    baseline = panel.loc[ids, "baseline"]
    frame["percent"] = 100 * frame["value"] / baseline.reindex(frame["patient_id"]).to_numpy()
    frame["group"] = lab_groups(tables).reindex(frame["patient_id"]).to_numpy()
    return frame[frame["group"].isin(GROUPS)]


def group_tests(tables: CohortTables, trial_size: int = PAPER57_TRIAL_SIZE) -> pd.DataFrame:
    """Per simulated trial: the paper's t-test and ANOVA p-values at five months."""
    alp = lab_panel(tables, "alp")
    ca = lab_panel(tables, "calcium")
    groups = lab_groups(tables)
    rows = []
    trial = pd.Series(groups.index // trial_size, index=groups.index)
    for t, ids in trial.groupby(trial).groups.items():
        row = {"trial": t}
        for analyte, panel in (("alp", alp), ("calcium", ca)):
            pct = panel.loc[ids, "percent_of_baseline"]
            g = groups.loc[ids]
            samples = [pct[(g == name).to_numpy()].dropna().to_numpy() for name in GROUPS]
            ok = all(len(s) >= 2 for s in samples)
            row[f"{analyte}_anova_p"] = stats.f_oneway(*samples).pvalue if ok else np.nan
            row[f"{analyte}_t_flare_vs_benefit_p"] = (
                stats.ttest_ind(samples[0], samples[1]).pvalue if ok else np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def reproduction_rates(tests: pd.DataFrame) -> dict[str, float]:
    """How often simulated trials reproduce the paper's pattern of significance."""
    valid = tests.dropna()
    if valid.empty:
        return {"trials_testable": 0.0}
    alp_sig = valid["alp_anova_p"] < SIGNIFICANCE
    t_sig = valid["alp_t_flare_vs_benefit_p"] < SIGNIFICANCE
    ca_ns = valid["calcium_anova_p"] >= SIGNIFICANCE
    return {
        "trials_testable": float(len(valid)),
        "alp_anova_significant": float(alp_sig.mean()),
        "alp_flare_vs_benefit_significant": float(t_sig.mean()),
        "calcium_anova_not_significant": float(ca_ns.mean()),
        "whole_pattern": float((alp_sig & t_sig & ca_ns).mean()),
    }


def _plot_targets(result: pd.DataFrame, path: Path) -> None:
    import matplotlib.pyplot as plt

    targets = {t.key: t for t in large_n_targets() if t.kind != "ordering"}
    rows = result[result["target"].isin(list(targets))].reset_index(drop=True)
    fig, axes = plt.subplots(len(rows), 1, figsize=(7, 0.55 * len(rows) + 0.6))
    for ax, r in zip(np.atleast_1d(axes), rows.to_dict("records"), strict=True):
        t = targets[r["target"]]
        lo, hi = (t.value - t.tol, t.value + t.tol) if t.kind == "value" else (t.low, t.high)
        span = max(hi - lo, 1e-3)
        ax.axvspan(lo, hi, color="#c7e9c0")
        if t.kind == "value":
            ax.axvline(t.value, color="#31a354")
        ax.plot([r["simulated"]], [0], "o", color="black" if r["pass"] else "red")
        ax.set_xlim(lo - span, hi + span)
        ax.set_yticks([])
        ax.set_ylabel(r["target"], rotation=0, ha="right", va="center", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle("Simulated (dot) against the paper's targets (green band)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_figure1(tables: CohortTables) -> Figure:
    """The paper's Figure 1, simulated: median % of baseline ALP and calcium by cycle.

    One line per group (flare, benefit, progression) with its interquartile band, for
    bone-metastatic patients with five-month labs (:func:`percent_by_cycle`).
    """
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    for ax, analyte, label in ((axes[0], "alp", "ALP"), (axes[1], "calcium", "Calcium")):
        frame = percent_by_cycle(tables, analyte)
        for group in GROUPS:
            q = (
                frame[frame["group"] == group]
                .groupby("cycle")["percent"]
                .quantile([0.25, 0.5, 0.75])
                .unstack()
            )
            ax.plot(q.index, q[0.5], marker="o", color=COLORS[group], label=group)
            ax.fill_between(q.index, q[0.25], q[0.75], color=COLORS[group], alpha=0.15)
        ax.axhline(100, color="grey", lw=0.8)
        ax.set_xlabel("cycle (21 days)")
        ax.set_ylabel(f"{label}, median % of baseline")
        ax.set_title(f"{label} by group (IQR bands)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _plot_figure1(tables: CohortTables, path: Path) -> None:
    draw_figure1(tables).savefig(path, dpi=110)


def draw_figure7(tables: CohortTables, n: int = 12) -> Figure:
    """The paper's Figure 7, simulated: ALP paths of the first ``n`` flare patients.

    A triangle marks the draw nearest to the day the flare was first seen on CT.
    """
    onsets = flare_onsets(tables)
    chosen = onsets.index[:n]
    labs = tables.labs[(tables.labs["analyte"] == "alp") & tables.labs["patient_id"].isin(chosen)]
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for pid, rows in labs.groupby("patient_id"):
        (line,) = ax.plot(rows["day"], rows["value"], lw=1)
        onset = onsets.loc[pid]
        near = rows.iloc[(rows["day"] - onset).abs().argsort()[:1]]
        ax.plot(near["day"], near["value"], "^", color=line.get_color())
    ax.set_xlabel("day")
    ax.set_ylabel("ALP (U/L)")
    ax.set_title(f"ALP of {len(chosen)} simulated flare patients (triangle: flare seen)")
    fig.tight_layout()
    return fig


def _plot_figure7(tables: CohortTables, path: Path, n: int = 12) -> None:
    draw_figure7(tables, n).savefig(path, dpi=110)


def _plot_onsets(tables: CohortTables, path: Path) -> None:
    import matplotlib.pyplot as plt

    onsets = flare_onsets(tables)
    paper = load_targets()["observed"]["flare"]["onset_days"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(
        onsets,
        bins=np.arange(0, 370, 7),
        density=True,
        color="#9ecae1",
        label="simulated (first flare episode)",
    )
    for i, day in enumerate(paper):
        ax.axvline(day, color="#d95f02", lw=1.5, label="paper's seven onsets" if i == 0 else None)
    ax.set_xlabel("day of observed flare onset")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(large: CohortTables, trials: CohortTables, folder: str | Path, title: str) -> Path:
    """Write ``report.md`` and its PNG figures into ``folder``; return the Markdown path.

    Parameters
    ----------
    large : CohortTables
        A large cohort of the scenario (targets and figures).
    trials : CohortTables
        Consecutive 57-patient trials of the ``paper57`` design (PPC and tests).
    """
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    check = check_tables(large)
    ppc = place(observed_figures(), trial_figures(trials))
    rates = reproduction_rates(group_tests(trials))
    _plot_targets(check, folder / "targets.png")
    _plot_figure1(large, folder / "figure1_alp_calcium.png")
    _plot_figure7(large, folder / "figure7_alp_paths.png")
    _plot_onsets(large, folder / "flare_onsets.png")
    n_trials = len(trials.patients) // PAPER57_TRIAL_SIZE
    lines = [
        f"# Calibration report: {title}",
        "",
        f"Large cohort: {len(large.patients):,} patients. Trials: {n_trials:,} of 57 patients.",
        "",
        "![targets](targets.png)",
        "",
        to_markdown(check, "Targets at large N").replace("# ", "## ", 1),
        "## The paper's Figure 1, simulated",
        "",
        "![figure 1](figure1_alp_calcium.png)",
        "",
        "How often a simulated 57-patient trial reproduces the paper's tests at five months "
        f"(P < {SIGNIFICANCE}):",
        "",
        "| pattern | share of trials |",
        "| --- | ---: |",
        *[
            f"| {k} | {v:.0f} |" if k == "trials_testable" else f"| {k} | {v:.3f} |"
            for k, v in rates.items()
        ],
        "",
        "## The paper's Figure 7, simulated",
        "",
        "![figure 7](figure7_alp_paths.png)",
        "",
        "## Observed flare onset",
        "",
        "![onsets](flare_onsets.png)",
        "",
        ppc_markdown(ppc, "Posterior predictive check of the 57 real patients").replace(
            "# ", "## ", 1
        ),
    ]
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    return path


def trial_scenario(scenario: Scenario) -> Scenario:
    """The same scenario in the ``paper57`` design: consecutive trials of the paper's make-up."""
    from boneflare.simulator.scenarios import scenario_to_dict
    from boneflare.simulator.scenarios.loader import scenario_from_dict

    raw = scenario_to_dict(scenario)
    raw["cohort"]["design"] = "paper57"
    return scenario_from_dict(raw)


def calibration_report(
    scenario: Scenario,
    folder: str | Path,
    *,
    patients: int = 200_000,
    replicates: int = 1000,
    seed: int = 1,
    workers: int = 1,
) -> Path:
    """Simulate a large cohort and many 57-patient trials; write the calibration report.

    Parameters
    ----------
    scenario : Scenario
        The scenario to report on; its trials use the ``paper57`` design
        (:func:`trial_scenario`).
    folder : str or Path
        Folder of ``report.md`` and its figures.
    patients : int
        Size of the large cohort (seed ``seed``).
    replicates : int
        Number of 57-patient trials (seed ``seed + 1``).
    seed, workers : int
        Seed of the large cohort; worker processes (tables do not depend on them).

    Returns
    -------
    Path
        The path of ``report.md``.

    """
    from boneflare.simulator.run import simulate

    large = simulate(scenario, patients, seed, workers=workers)
    trials = simulate(
        trial_scenario(scenario), replicates * PAPER57_TRIAL_SIZE, seed + 1, workers=workers
    )
    return write_report(large, trials, folder, scenario.name)
