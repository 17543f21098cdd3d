"""
The CT schedule and what it hides: comparing scenarios
======================================================

A flare is only seen at a CT, so the scan schedule shapes what a clinician (and a
classifier) gets to see. This example simulates the same 20,000 patients (same seed)
under five shipped presets: the default ``paper`` (CT every 6 weeks), CT every 8 and
12 weeks, noisier labs with more missed draws, and no flare at all.
"""

# %%
# Simulate each preset
# --------------------
# With one seed, every preset draws the same random numbers for the same patient
# (common random numbers), so differences come from the parameters, not from chance.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from boneflare.simulator import load_scenario, simulate
from boneflare.simulator.calibration.figures import flare_onsets

PRESETS = ["paper", "ct_every_8_weeks", "ct_every_12_weeks", "noisy_labs", "no_flare"]

rows, onsets = {}, {}
for name in PRESETS:
    tables = simulate(load_scenario(name), 20_000, seed=2021)
    bone = tables.patients.loc[tables.patients["bone_mets"], "patient_id"]
    labels = tables.episodes.merge(tables.episode_truth, on="episode_id")["label"]
    seen = flare_onsets(tables)
    onsets[name] = seen.to_numpy()
    rows[name] = {
        "episodes": len(labels),
        "flare_share": (labels == "flare").mean(),
        "flare_seen_in_bone_mets": seen.index.isin(bone).sum() / len(bone),
        "median_onset": np.median(seen) if len(seen) else np.nan,
        "lab_values": len(tables.labs),
    }

summary = pd.DataFrame.from_dict(rows, orient="index")
print(summary.to_string(float_format="{:.3f}".format))

# %%
# The figure
# ----------
# Left: the share of "worse" bone readings that are flares. Right: when flares are
# first seen; a sparser schedule sees them later.

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
axes[0].barh(summary.index, summary["flare_share"], color="tab:orange")
axes[0].invert_yaxis()
axes[0].set_xlabel('share of "worse" readings that are flares')
for name in PRESETS[:3]:
    days = np.sort(onsets[name])
    axes[1].step(days, np.arange(1, days.size + 1) / days.size, where="post", label=name)
axes[1].set_xlim(0, 300)
axes[1].set_xlabel("day a flare is first seen")
axes[1].set_ylabel("cumulative share of flare patients")
axes[1].legend(frameon=False)
fig.tight_layout()
plt.show()
