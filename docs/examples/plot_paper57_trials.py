"""
How wide are the paper's own figures? Replicate 57-patient trials
=================================================================

The paper's figures come from 57 patients, 30 of them with bone metastases: 7 of 30
flared (23.3%) and 25 of 57 responded (CR or PR). The ``paper57`` scenario gives every
consecutive 57 simulated patients the paper's exact make-up (sex, stage, EGFR, arms,
30 with bone metastases), so replicate trials differ only in their outcomes. This
example runs 400 such trials and shows the spread the paper's own counts would have
under the model.
"""

# %%
# Simulate 400 trials of 57
# -------------------------
# Patients 0-56 form trial 0, 57-113 trial 1, and so on.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from boneflare.simulator import load_scenario, simulate
from boneflare.simulator.calibration.figures import flare_onsets

TRIALS, SIZE = 400, 57
tables = simulate(load_scenario("paper57"), TRIALS * SIZE, seed=2021)

patients = tables.patients.set_index("patient_id")
trial = pd.Series(patients.index // SIZE, index=patients.index)
best = tables.truth.set_index("patient_id")["best_response"]
flared = patients.index.isin(flare_onsets(tables).index)

per_trial = pd.DataFrame(
    {
        "bone_mets": patients["bone_mets"].groupby(trial).sum(),
        "flares": pd.Series(flared, index=patients.index).groupby(trial).sum(),
        "responders": best.isin(["CR", "PR"]).groupby(trial).sum(),
    }
)
print("bone-metastatic patients per trial:", sorted(per_trial["bone_mets"].unique().tolist()))
for column, paper in (("flares", 7), ("responders", 25)):
    low, mid, high = np.percentile(per_trial[column], [2.5, 50, 97.5])
    print(
        f"{column:>10}: paper {paper:2d}; simulated median {mid:4.1f}, "
        f"central 95% of trials {low:4.1f} to {high:4.1f}"
    )

# %%
# The figure
# ----------
# Each bar counts trials; the black line is the paper's count.

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for ax, column, paper, label in (
    (axes[0], "flares", 7, "flares among the 30 with bone metastases"),
    (axes[1], "responders", 25, "responders (CR or PR) among 57"),
):
    counts = per_trial[column]
    ax.hist(counts, bins=np.arange(counts.min(), counts.max() + 2) - 0.5, color="tab:blue")
    ax.axvline(paper, color="black", lw=2, label="paper")
    ax.set_xlabel(label)
axes[0].set_ylabel("trials")
axes[0].legend(frameon=False)
fig.tight_layout()
plt.show()
