"""The public API: the root namespace, the user's own method from Python and the CLI.

A rule written in a test module (as in a notebook), the same rule as
``module:Class[param=value]`` from the command line, and a scikit-learn pipeline
through the adapter, each benchmarked next to a built-in.
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import boneflare
from boneflare.benchmarks.conformance import check_classifier
from boneflare.benchmarks.harness.entries import resolve_classifiers
from boneflare.simulator.errors import BoneflareError

SMALL = {"replicates": 2, "patients": 150, "workers": 1, "max_training_patients": 300}


class EarlyRule(boneflare.FlareClassifier):
    """Flare when the worse reading comes within ``window_days`` of the first dose."""

    name = "early_rule"

    def __init__(self, window_days: float = 84.0):
        self.window_days = window_days

    def _predict_proba(self, batch):
        return np.where(batch.episodes["day"].to_numpy() <= self.window_days, 0.8, 0.2)


def test_every_public_name_imports_lazily_and_is_documented():
    code = textwrap.dedent(
        """
        import sys, boneflare
        before = {m for m in ("sklearn", "pandas", "pyarrow") if m in sys.modules}
        missing = [n for n in boneflare.__all__ if not getattr(boneflare, n, None)]
        undocumented = [
            n for n in boneflare.__all__
            if n != "__version__" and not (getattr(boneflare, n).__doc__ or "").strip()
        ]
        print(sorted(before), missing, undocumented, sorted(dir(boneflare)) == sorted(
            boneflare.__all__))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] [] [] True"
    with pytest.raises(AttributeError):
        boneflare.no_such_name  # noqa: B018


def test_simulate_and_simulate_patient_take_a_preset_name_or_a_path(tmp_path):
    by_name = boneflare.simulate("paper", 200, seed=4)
    by_object = boneflare.simulate(boneflare.load_scenario("paper"), 200, seed=4)
    pd.testing.assert_frame_equal(by_name.labs, by_object.labs)
    path = tmp_path / "slow_ct.toml"
    path.write_text('extends = "paper"\nname = "slow_ct"\n[ct]\ninterval_days = 84\n')
    assert len(boneflare.simulate(path, 50, seed=1).patients) == 50
    one = boneflare.simulate_patient("paper", 123, seed=4)
    in_cohort = by_name.labs[by_name.labs["patient_id"] == 123].reset_index(drop=True)
    pd.testing.assert_frame_equal(one.labs.reset_index(drop=True), in_cohort)
    with pytest.raises(BoneflareError, match="scenario"):
        boneflare.simulate(42, 10)


def test_run_benchmark_then_load_run_then_leaderboard(tmp_path):
    pipeline = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    run = boneflare.run_benchmark(
        {
            "recist_naive": "recist_naive",
            "early_rule[window_days=60]": EarlyRule(window_days=60),
            "my_pipeline": boneflare.SklearnAdapter(pipeline),
        },
        "paper",
        seed=3,
        out=tmp_path / "run",
        **SMALL,
    )
    assert set(run.results["classifier"]) == {
        "recist_naive",
        "early_rule[window_days=60]",
        "my_pipeline",
    }
    assert run.failures.empty
    again = boneflare.load_run(tmp_path / "run")
    pd.testing.assert_frame_equal(run.results, again.results)
    pd.testing.assert_frame_equal(run.predictions, again.predictions)
    assert again.provenance == run.provenance
    board = again.leaderboard(task=None)
    assert set(board["classifier"]) == set(run.results["classifier"])
    assert board["roc_auc_mean"].is_monotonic_decreasing
    assert again.reference == "recist_naive"
    described = {c["label"]: c for c in again.provenance["experiment"]["classifiers"]}
    assert described["early_rule[window_days=60]"]["params"] == {"window_days": 60}
    assert described["my_pipeline"]["class"] == "boneflare.classifiers.adapter:SklearnAdapter"
    assert described["recist_naive"]["distribution"]["name"] == "boneflare"
    assert described["early_rule[window_days=60]"]["distribution"] is None  # not installed
    assert set(again.results["task"]) == {"decision_point", "all_episodes"}
    headline = again.leaderboard()
    assert headline.equals(again.leaderboard(task="decision_point"))
    assert not headline.equals(again.leaderboard(task="all_episodes"))
    with pytest.raises(BoneflareError, match="unknown task"):
        again.leaderboard(task="every_scan")


def test_instances_of_one_class_are_told_apart_by_their_parameters():
    entries = resolve_classifiers([EarlyRule(), EarlyRule(window_days=60), "timing_window"])
    labels = [e.label for e in entries]
    assert labels == ["early_rule", "early_rule[window_days=60]", "timing_window"]
    texts = resolve_classifiers("timing_window[window_days=60],all")
    assert texts[0].label == "timing_window[window_days=60]"
    assert texts[0].prototype.window_days == 60
    assert {"timing_window", "bayes_oracle"} <= {e.label for e in texts[1:]}
    with pytest.raises(BoneflareError, match="given twice"):
        resolve_classifiers([EarlyRule(), EarlyRule()])


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("timing_window[windw_days=60]", "no parameter 'windw_days'"),
        ('timing_window[window_days="sixty"]', "parameter 'window_days'"),
        ("timing_window[window_days=sixty]", "parameter 'window_days'"),
        ("timing_window[window_days=60", "must end with ']'"),
        ("no_such_module_xyz:Rule", "cannot import 'no_such_module_xyz'"),
        ("json:JSONDecoder", "not a FlareClassifier"),
    ],
)
def test_bad_specs_are_refused_naming_the_problem(spec, needle):
    with pytest.raises(BoneflareError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        resolve_classifiers(spec)


def test_the_sklearn_adapter_passes_the_conformance_suite():
    adapter = boneflare.SklearnAdapter(
        make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    )
    results = check_classifier(adapter)
    assert results and all(r.passed for r in results)


def test_grouped_folds_never_split_a_patient(paper_cohort):
    batch = boneflare.observed_batch(paper_cohort)
    y = boneflare.episode_labels(paper_cohort)
    assert len(y) == len(batch) == len(paper_cohort.episodes)
    fold = boneflare.patient_folds(batch, 5, seed=2)
    frame = pd.DataFrame({"patient": batch.episodes["patient_id"].to_numpy(), "fold": fold})
    assert frame.groupby("patient")["fold"].nunique().max() == 1
    assert sorted(np.unique(fold)) == [0, 1, 2, 3, 4]
    per_fold = frame.drop_duplicates("patient")["fold"].value_counts()
    assert per_fold.max() - per_fold.min() <= 1
    table = boneflare.episode_features(batch)
    assert len(table) == len(batch) and not ({"label", "truth"} & set(table.columns))
    with pytest.raises(BoneflareError, match="folds"):
        boneflare.patient_folds(batch, 1)
    first = boneflare.observed_batch(paper_cohort, "decision_point")
    y_first = boneflare.episode_labels(paper_cohort, "decision_point")
    assert 0 < len(first) == len(y_first) < len(batch)
    assert first.episodes["patient_id"].is_unique
    assert set(first.episodes["episode_id"]) <= set(batch.episodes["episode_id"])


def test_cross_validate_scores_every_fold():
    scores = boneflare.cross_validate(
        EarlyRule(), "paper", patients=600, folds=3, seed=5, task="all_episodes"
    )
    assert list(scores["fold"]) == [0, 1, 2]
    assert (scores["roc_auc"].between(0, 1)).all()
    assert scores["test_episodes"].sum() == scores["train_episodes"].sum() / 2


RULE_MODULE = '''
import numpy as np
from boneflare import FlareClassifier


class EarlyRule(FlareClassifier):
    """Flare when the worse reading comes within window_days of the first dose."""

    name = "early_rule"

    def __init__(self, window_days: float = 84.0):
        self.window_days = window_days

    def _predict_proba(self, batch):
        return np.where(batch.episodes["day"].to_numpy() <= self.window_days, 0.8, 0.2)
'''


def _boneflare_command() -> list[str]:
    """The installed console script (it does not put the working directory on sys.path)."""
    script = Path(sys.executable).with_name("boneflare")
    found = str(script) if script.is_file() else shutil.which("boneflare")
    assert found, "the boneflare console script is not installed"
    return [found]


def test_module_class_with_parameters_from_the_command_line(tmp_path):
    (tmp_path / "my_rules.py").write_text(RULE_MODULE)
    specs = "my_rules:EarlyRule[window_days=60],my_rules:EarlyRule[window_days=120],timing_window"
    args = ["benchmark", "--classifiers", specs, "--replicates", "2", "--patients", "150"]
    args += ["--workers", "1", "--no-progress", "--out", "run"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        _boneflare_command() + args, cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    labels = ["my_rules:EarlyRule[window_days=60]", "my_rules:EarlyRule[window_days=120]"]
    for label in labels:
        assert label in result.stdout  # the printed leaderboard
    run = boneflare.load_run(tmp_path / "run")
    assert set(run.results["classifier"]) == {*labels, "timing_window"}
    assert set(run.leaderboard()["classifier"]) == {*labels, "timing_window"}
    described = {c["label"]: c for c in run.provenance["experiment"]["classifiers"]}
    assert described[labels[0]]["class"] == "my_rules:EarlyRule"
    assert described[labels[1]]["params"] == {"window_days": 120}
    first = run.predictions[run.predictions["classifier"] == labels[0]]
    second = run.predictions[run.predictions["classifier"] == labels[1]]
    assert not np.array_equal(first["p_flare"].to_numpy(), second["p_flare"].to_numpy())


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("timing_window[windw_days=60]", "'windw_days'"),
        ("timing_window[window_days=true]", "'window_days'"),
        ("my_missing_module:Rule", "my_missing_module"),
    ],
)
def test_bad_spec_on_the_command_line_exits_2_with_one_line(tmp_path, spec, needle):
    args = ["benchmark", "--classifiers", spec, "--out", str(tmp_path / "run")]
    result = subprocess.run(
        [sys.executable, "-m", "boneflare", *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert not (tmp_path / "run").exists()


def test_public_helpers_have_numpy_docstrings():
    for name in ("run_benchmark", "load_run", "cross_validate", "patient_folds"):
        doc = inspect.getdoc(getattr(boneflare, name))
        assert "Returns" in doc or "Raises" in doc, name


def test_user_errors_are_value_errors_and_come_from_one_module():
    from boneflare.simulator import errors
    from boneflare.simulator.validation import check_choice, check_count, check_seed

    for name in ("ScenarioError", "GridError", "ClassifierSpecError", "UnknownClassifierError"):
        assert issubclass(getattr(errors, name), (errors.InputError, ValueError))
    assert issubclass(errors.InputError, boneflare.BoneflareError)
    with pytest.raises(ValueError, match="patients must be a positive integer, got 0"):
        boneflare.simulate("paper", 0)
    with pytest.raises(ValueError, match="unknown scenario"):
        boneflare.load_scenario("no_such_preset")
    assert check_count("folds", 3, minimum=2) == 3 and check_seed(0) == 0
    with pytest.raises(errors.InputError, match="folds must be an integer of at least 2"):
        check_count("folds", 1, minimum=2)
    with pytest.raises(errors.InputError, match="seed must be a non-negative integer"):
        check_seed(True)
    with pytest.raises(errors.InputError, match="unknown engine 'warp': known are a, b"):
        check_choice("engine", "warp", ["a", "b"])


def test_classifiers_check_takes_a_spec_with_parameters(capsys):
    from boneflare.benchmarks.cli import main

    assert main(["classifiers", "check", "timing_window[window_days=60]"]) == 0
    assert "timing_window[window_days=60]: ok (" in capsys.readouterr().out
