"""
Benchmark my own rule
=====================

You have an idea for telling a bone flare from true progression: a rule, or a model.
This example benchmarks it against built-in classifiers in three ways, none of which
needs a package or an installation:

1. a rule written here (as in a notebook), passed to :func:`boneflare.run_benchmark`;
2. the same rule in a plain module, named ``module:Class[param=value]`` on the command
   line, at two settings of its parameter;
3. a scikit-learn pipeline, through :class:`boneflare.SklearnAdapter`, with
   cross-validation grouped by patient.

The runs are small (three cohorts of 300 patients) so that the example is quick; a
real comparison uses the default sizes (``boneflare benchmark`` without ``--quick``).
"""

# %%
# A rule in a notebook
# --------------------
# A classifier subclasses :class:`boneflare.FlareClassifier`, stores its parameters in
# ``__init__`` and returns P(flare) per episode from what a clinician sees on the
# decision day (an :class:`boneflare.ObservedBatch`). This one trusts a falling ALP:
# an episode whose latest ALP is at least ``drop_pct`` % below baseline is probably a
# flare (the paper's Figure 1: ALP falls in the flare and benefit groups and rises with
# progression).

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

import boneflare

RULE = '''
import numpy as np
from scipy.special import expit

from boneflare import FlareClassifier, episode_features


class AlpDrop(FlareClassifier):
    """Flare when the latest ALP is at least drop_pct % below baseline."""

    name = "alp_drop"
    description = "flare when ALP has fallen by drop_pct % or more"

    def __init__(self, drop_pct: float = 10.0):
        self.drop_pct = drop_pct

    def _predict_proba(self, batch):
        change = episode_features(batch)["alp_pct_baseline"].to_numpy() - 100.0
        margin = np.nan_to_num(-change - self.drop_pct, nan=-self.drop_pct)
        return expit(margin / 5.0)
'''
namespace: dict = {"__name__": "__main__"}
exec(RULE, namespace)  # the same source as the module of part 2; in a notebook, a cell
AlpDrop = namespace["AlpDrop"]

SIZES = {"replicates": 3, "patients": 300, "workers": 1, "seed": 11, "progress": False}
BUILT_INS = ["recist_naive", "timing_window", "alp_trend", "combined_rule"]


def show(board, columns=("roc_auc", "sensitivity_flare", "specificity")):
    """Print a leaderboard: mean and Monte Carlo SE of a few metrics."""
    for _, row in board.iterrows():
        cells = "  ".join(f"{c} {row[f'{c}_mean']:.3f} ± {row[f'{c}_mcse']:.3f}" for c in columns)
        print(f"  {row['classifier']:<38} {cells}")


# ``run.leaderboard()`` ranks the classifiers on the headline task, the decision point
# (one episode per patient: the first 'worse' bone reading while the soft tissue has
# not progressed); ``run.leaderboard(task="all_episodes")`` gives the other task.
work = Path(tempfile.mkdtemp(prefix="boneflare-example-"))
run = boneflare.run_benchmark([*BUILT_INS, AlpDrop()], out=work / "notebook", **SIZES)
print("1. a rule defined in the notebook")
show(run.leaderboard())

# %%
# ``alp_drop`` and the built-in ``alp_trend`` have the same ROC AUC: both rank episodes
# by the latest ALP as % of baseline, and differ only in where they cut (their
# sensitivity and specificity).
#
# The same rule from the command line
# -----------------------------------
# Saved as ``my_rules.py`` in the working directory, the rule is named
# ``my_rules:AlpDrop`` and any parameter of ``__init__`` is set in brackets. Two
# settings run side by side, each named by its parameters in every table. The run is
# read back from its folder with :func:`boneflare.load_run`.

(work / "my_rules.py").write_text(RULE)
specs = "recist_naive,my_rules:AlpDrop[drop_pct=5],my_rules:AlpDrop[drop_pct=25]"
command = [sys.executable, "-m", "boneflare", "benchmark", "--classifiers", specs]
command += ["--replicates", "3", "--patients", "300", "--seed", "11", "--workers", "1"]
command += ["--no-progress", "--out", "cli"]
subprocess.run(command, cwd=work, check=True, capture_output=True)
# (in a terminal: boneflare benchmark --classifiers 'recist_naive,my_rules:AlpDrop[...]' ...)
print("2. module:Class[param=value] from the command line")
cli_run = boneflare.load_run(work / "cli")
show(cli_run.leaderboard())
described = {c["label"]: c for c in cli_run.provenance["experiment"]["classifiers"]}
print("  provenance of one entry:", described["my_rules:AlpDrop[drop_pct=25]"]["params"])

# %%
# A scikit-learn pipeline
# -----------------------
# :class:`boneflare.SklearnAdapter` turns any scikit-learn classifier or pipeline into
# a classifier on the episode feature table (:func:`boneflare.episode_features`: one
# row per episode, observed data only, NaN where information is missing, which
# histogram boosting handles natively). Cross-validation keeps all episodes of a
# patient in one fold (decision-point episodes by default); then the model joins the
# benchmark, trained on its own simulated cohort.

model = boneflare.SklearnAdapter(HistGradientBoostingClassifier(max_iter=100, random_state=0))
folds = boneflare.cross_validate(model, "paper", patients=1500, folds=4, seed=3)
print("3. a scikit-learn pipeline through the adapter")
print(
    f"  grouped 4-fold cross-validation: ROC AUC {folds['roc_auc'].mean():.3f} "
    f"(folds {', '.join(f'{v:.3f}' for v in folds['roc_auc'])})"
)
learned = boneflare.run_benchmark(
    {"recist_naive": "recist_naive", "boosting_pipeline": model, "alp_drop": AlpDrop()},
    out=work / "pipeline",
    max_training_patients=1500,
    **SIZES,
)
show(learned.leaderboard())
print(f"  every classifier scored on {learned.results['replicate'].nunique()} shared cohorts")
assert np.isfinite(learned.results["value"].dropna()).all()
shutil.rmtree(work)  # the three run folders
