"""The benchmark with the nine built-in classifiers (small cohorts, capped training)."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import BUILT_IN_CLASSIFIERS
from sklearn.metrics import brier_score_loss, roc_auc_score

from boneflare.benchmarks.harness import BenchmarkConfig, Execution, run_benchmark
from boneflare.classifiers.oracle import BayesOracle
from boneflare.classifiers.registry import names

BUILTINS = set(BUILT_IN_CLASSIFIERS)

pytestmark = pytest.mark.skipif(
    not BUILTINS <= set(names()), reason="the built-in classifiers are not installed"
)


class SmallOracle(BayesOracle):
    """The Bayes oracle with a training cohort small enough for a test (same label)."""

    training_patients = 1500


CONFIG = BenchmarkConfig(
    classifiers=[*sorted(BUILTINS - {"bayes_oracle"}), SmallOracle],
    replicates=2,
    patients=300,
    seed=4,
    max_training_patients=1000,
)


def _comparable(results: pd.DataFrame) -> pd.DataFrame:
    keep = ~results["metric"].isin(["fit_seconds", "predict_seconds"])
    return results[keep].reset_index(drop=True)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_benchmark(CONFIG, tmp_path_factory.mktemp("builtins") / "run")


def test_every_builtin_completes_and_agrees_with_scikit_learn(run):
    assert run.failures.empty, run.failures.to_string()
    assert BUILTINS <= set(run.results["classifier"])
    assert run.plan.reference == "recist_naive"
    keys = ["task", "classifier", "replicate"]
    wide = run.results.pivot_table(index=keys, columns="metric", values="value")
    groups = run.predictions.groupby(keys, observed=True)
    assert len(groups) == len(wide) == 2 * len(BUILTINS) * CONFIG.replicates
    for key, rows in groups:
        y, p = rows["y"].to_numpy(), rows["p_flare"].to_numpy()
        assert wide.loc[key, "roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
        assert wide.loc[key, "brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_learned_builtins_train_on_capped_cohorts_of_their_own_but_the_oracle_uncapped(run):
    learned = {e.label for e in run.plan.classifiers if e.learned}
    assert {"logistic", "gradient_boosting", "bayes_oracle"} <= learned
    assert {j.classifier for j in run.plan.jobs} == learned
    sizes = {j.classifier: j.patients for j in run.plan.jobs}
    assert sizes.pop("bayes_oracle") == SmallOracle.training_patients > CONFIG.max_training_patients
    assert all(n == CONFIG.max_training_patients for n in sizes.values())


def test_a_local_pool_gives_the_same_results_with_the_builtins(run, tmp_path):
    pooled = run_benchmark(CONFIG, tmp_path / "pooled", execution=Execution(workers=2))
    pd.testing.assert_frame_equal(_comparable(pooled.results), _comparable(run.results))
    pd.testing.assert_frame_equal(pooled.predictions, run.predictions)


def test_closed_loop_agrees_with_the_open_loop_for_deferring_and_learned_builtins(tmp_path):
    config = BenchmarkConfig(
        classifiers=["pcwg3_confirm", "alp_trend", "logistic"],
        replicates=1,
        patients=150,
        seed=9,
        max_training_patients=1000,
    )
    opened = run_benchmark(config, tmp_path / "open")
    closed = run_benchmark(
        BenchmarkConfig(**{**config.__dict__, "closed_loop": True}), tmp_path / "closed"
    )
    pd.testing.assert_frame_equal(_comparable(closed.results), _comparable(opened.results))


def test_the_quick_default_benchmark_prints_the_leaderboard_of_every_builtin(tmp_path, capsys):
    from boneflare.benchmarks.cli import main
    from boneflare.benchmarks.commands.benchmark import QUICK

    out = tmp_path / "quick"
    assert main(["benchmark", "--quick", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    n = QUICK["replicates"]
    headline = text.index(f"## paper: decision_point ({n} replicates;")
    assert headline < text.index(f"## paper: all_episodes ({n} replicates;")
    board = [line for line in text.splitlines() if line.startswith("| ")]
    assert BUILTINS <= {line.split("|")[1].strip() for line in board}
    assert "Paired differences against recist_naive" in text
