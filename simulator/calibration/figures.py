"""The paper's figures, computed from a simulated cohort's output tables.

Every function reads the tables a user gets (``patients``, ``labs``, ``episodes``,
``episode_truth``, ``truth``), never the simulator's internal state, so a figure
means the same thing here as in any analysis of written tables.

Definitions (targets.toml, Shi 2021):

* best-response rates are over evaluable patients (best response not NE);
* a *flare patient* has at least one episode whose truth is flare; its observed
  onset is the day of its first flare episode;
* the lab groups of Figure 1 are bone-metastatic patients with five-month labs:
  *flare* (a flare patient), *progression* (best response PD) and *benefit* (CR/PR/SD
  without flare);
* *five-month labs*: a lab draw within ``WINDOW_DAYS`` of day 147 (cycle 8, about five
  months); the % of baseline is taken at the draw nearest day 147;
* a *transient ALP rise*: any draw on days 1-63 above the baseline value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from boneflare.simulator.lazy import lazy_module
from boneflare.simulator.tables import CohortTables

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # a streamed run never needs it (boneflare.simulator.lazy)

FIVE_MONTH_DAY = 147
"""Day of the eighth cycle's draw (7 x 21), the paper's 'five months' (targets.toml)."""
WINDOW_DAYS = 14
"""A draw counts as the five-month draw if within this many days of day 147."""
RISE_WINDOW = (1, 63)
"""Days in which a draw above baseline is a transient rise (targets.toml [large_n.labs])."""
MIN_DRAWS_FOR_CV = 3
"""ALP draws a patient needs to count in the within-patient CV (targets.toml
[large_n.alp_variation])."""
GROUPS = ("flare", "benefit", "progression")
ALP_UPPER_REFERENCE_U_PER_L = 125.0
"""Upper limit of the ALP reference range, 45-125 U/L (Shi 2021, 1.3.2)."""


def best_response_rates(tables: CohortTables) -> dict[str, float]:
    """Objective response, stable and progressive disease rates among evaluable patients."""
    best = tables.truth["best_response"]
    best = best[best != "NE"]
    n = len(best)
    if n == 0:
        return dict.fromkeys(
            ("objective_response_rate", "stable_disease_rate", "progressive_disease_rate"), np.nan
        )
    return {
        "objective_response_rate": float(best.isin(["CR", "PR"]).sum() / n),
        "stable_disease_rate": float((best == "SD").sum() / n),
        "progressive_disease_rate": float((best == "PD").sum() / n),
    }


def flare_onsets(tables: CohortTables) -> pd.Series:
    """Observed onset day (first flare episode) of each flare patient, indexed by patient."""
    labelled = tables.episodes.merge(tables.episode_truth, on="episode_id")
    return labelled.loc[labelled["label"] == "flare"].groupby("patient_id")["day"].min()


def flare_onset_scans(tables: CohortTables) -> pd.Series:
    """Follow-up CT index (1 = first) of each flare patient's first flare episode."""
    labelled = tables.episodes.merge(tables.episode_truth, on="episode_id")
    flares = labelled.loc[labelled["label"] == "flare"].sort_values(["patient_id", "day"])
    return flares.drop_duplicates("patient_id").set_index("patient_id")["scan_index"]


def onset_scan_figures(tables: CohortTables) -> dict[str, float]:
    """Share of observed flare onsets at the second follow-up CT and at the third or later.

    Shi 2021, Table 2: of 7 flares, 5 were first seen at the first follow-up CT (41-45
    days), none at the second and 2 at the third (120 and 125 days).
    """
    scans = flare_onset_scans(tables)
    if scans.empty:
        return {
            "fraction_onset_at_second_ct": np.nan,
            "fraction_onset_at_third_ct_or_later": np.nan,
        }
    return {
        "fraction_onset_at_second_ct": float((scans == 2).mean()),
        "fraction_onset_at_third_ct_or_later": float((scans >= 3).mean()),
    }


def dissociated_response_figures(tables: CohortTables) -> dict[str, float]:
    """Share of patients whose first follow-up CT shows a dissociated bone response.

    A dissociated (mixed) response here is bone progression (an episode whose truth is
    progression) on the first follow-up CT while RECIST does not call the soft tissue
    PD. The denominator is every patient with a first follow-up CT.
    """
    scans = tables.scans
    first = scans.loc[scans["scan_index"] == 1, ["patient_id", "recist_response"]]
    if first.empty:
        return {"fraction_at_first_ct": np.nan}
    labelled = tables.episodes.merge(tables.episode_truth, on="episode_id")
    bone_pd = labelled.loc[
        (labelled["scan_index"] == 1) & (labelled["label"] == "progression"), "patient_id"
    ]
    dissociated = first["patient_id"].isin(bone_pd) & (first["recist_response"] != "PD")
    return {"fraction_at_first_ct": float(dissociated.mean())}


def flare_figures(tables: CohortTables) -> dict[str, float]:
    """Flare incidence among bone-metastatic patients, onset timing, and who flares."""
    patients = tables.patients.set_index("patient_id")
    onsets = flare_onsets(tables)
    bone_ids = patients.index[patients["bone_mets"].to_numpy()]
    best = tables.truth.set_index("patient_id")["best_response"]
    n_flare = len(onsets)
    if n_flare == 0:
        timing = dict.fromkeys(
            (
                "onset_median_days",
                "fraction_onset_within_50_days",
                "fraction_onset_after_180_days",
                "fraction_flares_with_best_response_PD",
                "fraction_flares_with_best_response_SD",
                "fraction_flares_without_baseline_bone_mets",
            ),
            np.nan,
        )
    else:
        timing = {
            "onset_median_days": float(onsets.median()),
            "fraction_onset_within_50_days": float((onsets <= 50).mean()),
            "fraction_onset_after_180_days": float((onsets > 180).mean()),
            "fraction_flares_with_best_response_PD": float(
                (best.reindex(onsets.index) == "PD").mean()
            ),
            "fraction_flares_with_best_response_SD": float(
                (best.reindex(onsets.index) == "SD").mean()
            ),
            "fraction_flares_without_baseline_bone_mets": float(
                (~patients.loc[onsets.index, "bone_mets"]).mean()
            ),
        }
    incidence = onsets.index.isin(bone_ids).sum() / len(bone_ids) if len(bone_ids) else np.nan
    return {"incidence_among_bone_mets": float(incidence), **timing}


def baseline_alp_figures(tables: CohortTables) -> dict[str, float]:
    """Share of bone-metastatic patients whose baseline ALP is above the reference range.

    The upper reference limit is ``ALP_UPPER_REFERENCE_U_PER_L`` (Shi 2021, 1.3.2); a
    patient without a baseline draw is left out.
    """
    panel = lab_panel(tables, "alp")
    baseline = panel["baseline"].dropna()
    share = float((baseline > ALP_UPPER_REFERENCE_U_PER_L).mean()) if len(baseline) else np.nan
    return {"fraction_bone_mets_above_uln": share}


def alp_variation_figures(tables: CohortTables) -> dict[str, float]:
    """Within-patient CV of measured ALP while a patient has no bone disease.

    A patient without bone metastases at baseline keeps the ALP set point until a new
    bone lesion appears (``truth.new_bone_lesion_day``, a latent day, possibly beyond
    the horizon), so its draws before that day vary by measurement alone. The figure is
    Seibel 2002's statistic over those draws: the root mean square, over patients with
    at least ``MIN_DRAWS_FOR_CV`` of them, of each patient's SD (``ddof=1``) over mean.
    """
    patients = tables.patients
    free = patients.loc[~patients["bone_mets"].to_numpy(dtype=bool), ["patient_id"]]
    free = free.merge(tables.truth[["patient_id", "new_bone_lesion_day"]], on="patient_id")
    labs = tables.labs
    alp = labs[labs["analyte"] == "alp"].merge(free, on="patient_id")
    alp = alp[alp["day"].to_numpy() < alp["new_bone_lesion_day"].to_numpy()]
    stats = alp.groupby("patient_id")["value"].agg(["count", "mean", "std"])
    stats = stats[stats["count"] >= MIN_DRAWS_FOR_CV]
    cv = (stats["std"] / stats["mean"]).to_numpy(dtype=float)
    value = float(np.sqrt(np.mean(cv**2))) if cv.size else np.nan
    return {"within_patient_cv_without_bone_disease": value}


def lab_panel(tables: CohortTables, analyte: str) -> pd.DataFrame:
    """Per bone-metastatic patient: baseline value, five-month value and % of baseline."""
    labs = tables.labs
    labs = labs[labs["analyte"] == analyte]
    bone_ids = tables.patients.loc[tables.patients["bone_mets"], "patient_id"]
    labs = labs[labs["patient_id"].isin(bone_ids)]
    baseline = labs[labs["day"] == 0].set_index("patient_id")["value"]
    near = labs.assign(gap=(labs["day"].astype(int) - FIVE_MONTH_DAY).abs())
    near = near[near["gap"] <= WINDOW_DAYS].sort_values(["patient_id", "gap", "day"])
    five = near.drop_duplicates("patient_id").set_index("patient_id")["value"]
    panel = pd.DataFrame({"baseline": baseline.reindex(bone_ids.to_numpy())})
    panel["five_month"] = five.reindex(panel.index)
    panel["percent_of_baseline"] = 100.0 * panel["five_month"] / panel["baseline"]
    return panel


def lab_groups(tables: CohortTables) -> pd.Series:
    """Figure 1 group (flare / benefit / progression) of each bone-metastatic patient."""
    patients = tables.patients
    bone_ids = patients.loc[patients["bone_mets"], "patient_id"].to_numpy()
    best = tables.truth.set_index("patient_id")["best_response"].reindex(bone_ids)
    flare = pd.Index(bone_ids).isin(flare_onsets(tables).index)
    group = np.where(
        flare,
        "flare",
        np.where(
            best.isin(["CR", "PR", "SD"]), "benefit", np.where(best == "PD", "progression", "")
        ),
    )
    return pd.Series(group, index=pd.Index(bone_ids, name="patient_id"), name="group")


def lab_figures(tables: CohortTables) -> dict[str, float]:
    """Median % of baseline at five months per group, transient rises, five-month coverage."""
    groups = lab_groups(tables)
    out: dict[str, float] = {}
    alp = lab_panel(tables, "alp")
    ca = lab_panel(tables, "calcium")
    has_five = alp["five_month"].notna()
    out["fraction_bone_mets_with_5_month_labs"] = float(has_five.mean()) if len(alp) else np.nan
    for analyte, panel in (("alp", alp), ("calcium", ca)):
        for group in GROUPS:
            ids = groups.index[groups.to_numpy() == group]
            values = panel.loc[ids, "percent_of_baseline"].dropna()
            out[f"{analyte}_percent_of_baseline_day147_{group}"] = (
                float(values.median()) if len(values) else np.nan
            )
    out["fraction_flare_with_transient_alp_rise"] = transient_rise_fraction(tables)
    return out


def transient_rise(tables: CohortTables, patient_ids: pd.Index) -> pd.Series:
    """Per patient with a baseline ALP draw: a draw on days 1-63 above that baseline."""
    labs = tables.labs
    labs = labs[(labs["analyte"] == "alp") & labs["patient_id"].isin(patient_ids)]
    baseline = labs[labs["day"] == 0].set_index("patient_id")["value"]
    early = labs[(labs["day"] >= RISE_WINDOW[0]) & (labs["day"] <= RISE_WINDOW[1])]
    above = early["value"].to_numpy() > baseline.reindex(early["patient_id"]).to_numpy()
    risen = early.loc[above, "patient_id"].unique()
    return pd.Series(baseline.index.isin(risen), index=baseline.index)


def transient_rise_fraction(tables: CohortTables) -> float:
    """Share of flare patients with an ALP draw on days 1-63 above their baseline.

    The denominator is every flare patient with a baseline draw (no early draw: no rise).
    """
    risen = transient_rise(tables, flare_onsets(tables).index)
    return float(risen.mean()) if len(risen) else np.nan


def all_figures(tables: CohortTables) -> dict[str, float]:
    """Every [large_n] figure of targets.toml, keyed ``section.name``."""
    figures = {f"best_response.{k}": v for k, v in best_response_rates(tables).items()}
    figures.update({f"flare.{k}": v for k, v in flare_figures(tables).items()})
    figures.update({f"flare.{k}": v for k, v in onset_scan_figures(tables).items()})
    figures.update(
        {f"dissociated_response.{k}": v for k, v in dissociated_response_figures(tables).items()}
    )
    figures.update({f"alp_baseline.{k}": v for k, v in baseline_alp_figures(tables).items()})
    figures.update({f"alp_variation.{k}": v for k, v in alp_variation_figures(tables).items()})
    labs = lab_figures(tables)
    for key, value in labs.items():
        if key.startswith(("alp_percent", "calcium_percent")):
            section, _, group = key.rpartition("_")
            figures[f"{section}.{group}"] = value
        else:
            figures[f"labs.{key}"] = value
    return figures


def progression_free_medians(tables: CohortTables) -> dict[str, float]:
    """Kaplan-Meier median progression-free time per arm (days), from the tables.

    The event is the first follow-up CT whose adjudicated response is PD (RECIST PD or
    a bone progression episode); patients are censored at their last CT. Compared with
    the pivotal trials' medians (targets.toml ``[literature]``) for plausibility.
    """
    scans = tables.scans[tables.scans["scan_index"] > 0]
    labelled = tables.episodes.merge(tables.episode_truth, on="episode_id")
    bone_pd = labelled.loc[labelled["label"] == "progression", ["patient_id", "day"]]
    soft_pd = scans.loc[scans["recist_response"] == "PD", ["patient_id", "day"]]
    first_pd = pd.concat([bone_pd, soft_pd]).groupby("patient_id")["day"].min()
    last_scan = scans.groupby("patient_id")["day"].max()
    arms = tables.patients.set_index("patient_id")["arm"].astype(str)
    out = {}
    for arm, ids in arms.groupby(arms).groups.items():
        event = first_pd.reindex(ids)
        time = event.fillna(last_scan.reindex(ids)).dropna().astype(float)
        observed = event.reindex(time.index).notna().to_numpy()
        out[arm] = kaplan_meier_median(time.to_numpy(), observed)
    return out


def kaplan_meier_median(time: np.ndarray, event: np.ndarray) -> float:
    """Median of the Kaplan-Meier estimate (NaN if the curve never reaches 0.5)."""
    if time.size == 0:
        return np.nan
    order = np.argsort(time, kind="stable")
    time, event = time[order], event[order]
    unique = np.unique(time[event])
    at_risk = time.size - np.searchsorted(time, unique, side="left")
    deaths = np.bincount(np.searchsorted(unique, time[event]), minlength=unique.size)
    survival = np.cumprod(1.0 - deaths / at_risk)
    below = np.nonzero(survival <= 0.5)[0]
    return float(unique[below[0]]) if below.size else np.nan
