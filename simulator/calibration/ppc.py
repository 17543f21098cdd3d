"""``calibrate ppc``: where the paper's 57 real patients fall among simulated trials.

Many 57-patient trials of the ``paper57`` design are simulated; every ``[observed]``
figure of targets.toml is computed per trial from the output tables; the paper's value
is then placed in the simulated distribution: central 95% interval, mid-percentile
(``P(sim < obs) + P(sim = obs) / 2``, fair for counts), and a flag when outside.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from boneflare.simulator.calibration.figures import flare_onsets, lab_panel, transient_rise
from boneflare.simulator.calibration.targets import load_targets
from boneflare.simulator.cohort import PAPER57_TRIAL_SIZE
from boneflare.simulator.run import simulate
from boneflare.simulator.scenarios.schema import ARMS, Scenario
from boneflare.simulator.tables import CohortTables
from boneflare.simulator.vocabulary import RECIST_RESPONSES

RESPONSES = RECIST_RESPONSES


def observed_figures() -> dict[str, float]:
    """The paper's figures (targets.toml ``[observed]``), named as by :func:`trial_figures`."""
    obs = load_targets()["observed"]
    f = obs["flare"]
    out: dict[str, float] = {
        "flares": f["flares"],
        "flare_onset_median_days": f["onset_median_days"],
        "flare_onsets_within_50_days": f["within_50_days"],
        "bone_mets_with_5_month_labs": obs["labs"]["bone_mets_with_5_month_labs"],
        "flares_with_transient_alp_rise": obs["labs"]["flare_patients_with_transient_alp_rise"],
    }
    for arm in (*ARMS, "total"):
        for r in RESPONSES:
            out[f"best_response.{arm}.{r}"] = obs["best_response"][arm][r]
    for arm, n in f["by_arm"].items():
        out[f"flares_by_arm.{arm}"] = n
    for r, n in f["by_best_response"].items():
        out[f"flares_by_best_response.{r}"] = n
    return {k: float(v) for k, v in out.items()}


def trial_figures(tables: CohortTables, trial_size: int = PAPER57_TRIAL_SIZE) -> pd.DataFrame:
    """Every observed figure per simulated trial (rows: trial index)."""
    patients = tables.patients.set_index("patient_id")
    trial = pd.Series(patients.index // trial_size, index=patients.index)
    trials = pd.RangeIndex(int(trial.max()) + 1, name="trial")
    best = tables.truth.set_index("patient_id")["best_response"].astype(str)
    arm = patients["arm"].astype(str)
    onsets = flare_onsets(tables)
    flare_ids = onsets.index[patients.loc[onsets.index, "bone_mets"].to_numpy()]
    onsets = onsets.loc[flare_ids]

    def per_trial(mask: pd.Series) -> pd.Series:
        return mask.groupby(trial.loc[mask.index]).sum().reindex(trials, fill_value=0)

    out = pd.DataFrame(index=trials)
    is_flare = pd.Series(patients.index.isin(flare_ids), index=patients.index)
    out["flares"] = per_trial(is_flare)
    by_trial = onsets.groupby(trial.loc[onsets.index])
    out["flare_onset_median_days"] = by_trial.median().reindex(trials)
    out["flare_onsets_within_50_days"] = (
        (onsets <= 50).groupby(trial.loc[onsets.index]).sum().reindex(trials, fill_value=0)
    )
    panel = lab_panel(tables, "alp")
    out["bone_mets_with_5_month_labs"] = per_trial(panel["five_month"].notna())
    risen = transient_rise(tables, flare_ids).reindex(flare_ids, fill_value=False)
    out["flares_with_transient_alp_rise"] = per_trial(risen)
    for a in (*ARMS, "total"):
        in_arm = arm == a if a != "total" else pd.Series(True, index=arm.index)
        for r in RESPONSES:
            out[f"best_response.{a}.{r}"] = per_trial(in_arm & (best == r))
    for a in ARMS:
        out[f"flares_by_arm.{a}"] = per_trial(is_flare & (arm == a))
    for r in ("PR", "SD", "PD"):
        out[f"flares_by_best_response.{r}"] = per_trial(is_flare & (best == r))
    return out


def place(observed: dict[str, float], simulated: pd.DataFrame) -> pd.DataFrame:
    """Place each observed figure in its simulated distribution."""
    rows = []
    for key, obs in observed.items():
        sim = simulated[key].dropna().to_numpy(dtype=float)
        lo, hi = np.quantile(sim, [0.025, 0.975]) if sim.size else (np.nan, np.nan)
        percentile = (np.mean(sim < obs) + 0.5 * np.mean(sim == obs)) if sim.size else np.nan
        rows.append(
            {
                "figure": key,
                "observed": obs,
                "simulated_median": float(np.median(sim)) if sim.size else np.nan,
                "interval_low": lo,
                "interval_high": hi,
                "percentile": 100.0 * percentile,
                "trials": int(sim.size),
                "inside": bool(lo <= obs <= hi) if sim.size else False,
            }
        )
    return pd.DataFrame(rows)


def run_ppc(scenario: Scenario, replicates: int, seed: int, workers: int = 1) -> pd.DataFrame:
    """Simulate ``replicates`` trials of the scenario (``paper57`` design) and place the paper."""
    if scenario.cohort.design != "paper57":
        from boneflare.simulator.errors import BoneflareError

        raise BoneflareError(
            f"ppc needs a scenario with cohort.design = 'paper57', got {scenario.cohort.design!r}"
        )
    tables = simulate(scenario, replicates * PAPER57_TRIAL_SIZE, seed, workers=workers)
    return place(observed_figures(), trial_figures(tables))


def to_markdown(result: pd.DataFrame, title: str) -> str:
    """Render a posterior predictive check as a Markdown table."""
    lines = [
        f"# {title}",
        "",
        "| figure | paper | simulated median | 95% interval | percentile | inside |",
        "| --- | ---: | ---: | :---: | ---: | :---: |",
    ]
    for r in result.to_dict("records"):
        lines.append(
            f"| {r['figure']} | {r['observed']:g} | {r['simulated_median']:g} | "
            f"{r['interval_low']:g} to {r['interval_high']:g} | {r['percentile']:.0f} | "
            f"{'yes' if r['inside'] else 'NO'} |"
        )
    lines += [
        "",
        f"{int(result['inside'].sum())} of {len(result)} paper figures inside "
        "their simulated 95% interval.",
    ]
    return "\n".join(lines) + "\n"


def write_ppc(result: pd.DataFrame, folder: str | Path, title: str) -> list[Path]:
    """Write the check as ``ppc.csv`` and ``ppc.md`` into ``folder``; return their paths."""
    from boneflare.simulator.calibration.check import write_table

    return write_table(result, folder, "ppc", to_markdown(result, title))
