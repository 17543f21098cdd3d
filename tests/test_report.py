"""``boneflare report``: leaderboard (Markdown, self-contained HTML) and figures of a run."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from test_harness_plugins import DeferTest, EarlyTest, LearnedTest, NaiveTest, RaisesTest

from boneflare.benchmarks.aggregate import summarise
from boneflare.benchmarks.cli import main
from boneflare.benchmarks.harness import BenchmarkConfig, run_benchmark
from boneflare.benchmarks.metrics import DEFERRAL_POLICIES
from boneflare.benchmarks.report import write_report
from boneflare.benchmarks.report.leaderboard import leaderboard_markdown, summarise_run
from boneflare.simulator.errors import BoneflareError

CLASSIFIERS = [NaiveTest, EarlyTest, DeferTest, LearnedTest, RaisesTest]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    config = BenchmarkConfig(
        classifiers=CLASSIFIERS,
        grid=["ct.interval_days=42,56"],
        replicates=3,
        patients=200,
        seed=2,
        reference="naive_test",
    )
    return run_benchmark(config, tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="module")
def report(run):
    return write_report(run.path)


def test_report_folder_holds_leaderboard_tables_and_every_figure(run, report):
    names = {p.name for p in report.iterdir()}
    assert {"leaderboard.md", "index.html", "summary.csv", "differences.csv"} <= names
    for point in run.plan.points:
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", point.label).strip("_")
        for kind in ("roc", "calibration", "distributions", "consequences"):
            assert f"{kind}_{slug}.png" in names
    assert "sweep_ct.interval_days.png" in names
    for png in report.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_is_self_contained(report):
    page = (report / "index.html").read_text()
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == len(list(report.glob("*.png")))
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing fetched from elsewhere
    assert "early_test" in page
    assert "raises_test failed in predict" in page


def test_leaderboard_shows_mean_and_mcse_from_the_aggregation(run, report):
    text = (report / "leaderboard.md").read_text()
    summary = summarise(run.results)
    row = summary[
        (summary["scenario"] == run.plan.points[0].label)
        & (summary["classifier"] == "early_test")
        & (summary["metric"] == "roc_auc")
    ].iloc[0]
    assert f"{row['mean']:.3f} ± {row['mcse']:.3f}" in text
    assert "Paired differences against naive_test" in text
    assert "## Failures" in text
    stored = pd.read_csv(report / "summary.csv")
    assert len(stored) == len(summary)


def test_leaderboard_is_sorted_best_first_and_marks_missing_values():
    results = pd.DataFrame(
        {
            "scenario": "s",
            "classifier": ["a", "a", "b", "b"],
            "replicate": [0, 1, 0, 1],
            "metric": "roc_auc",
            "value": [0.6, 0.7, 0.9, float("nan")],
        }
    )
    text = leaderboard_markdown(summarise_run(results, pd.DataFrame(), None))
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[1].startswith("| b ") and "0.900" in lines[1]  # one value: no MCSE
    assert lines[2].startswith("| a ") and "0.650 ± 0.050" in lines[2]


def test_report_command_writes_the_report(tmp_path, capsys):
    small = run_benchmark(
        BenchmarkConfig(classifiers=[EarlyTest], replicates=2, patients=100), tmp_path / "run"
    )
    out = tmp_path / "elsewhere"
    assert main(["report", str(small.path), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert (out / "index.html").is_file()


def test_report_of_a_folder_without_a_finished_run_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(BoneflareError, match="holds no benchmark run"):
        write_report(tmp_path)
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "holds no benchmark run" in capsys.readouterr().err


def test_leaderboard_puts_the_decision_point_first_with_its_prevalence(run, report):
    text = (report / "leaderboard.md").read_text()
    label = run.plan.points[0].label
    assert text.index(f"## {label}: decision_point") < text.index(f"## {label}: all_episodes")
    summary = summarise(run.results)
    counts = summary[
        (summary["scenario"] == label)
        & (summary["task"] == "decision_point")
        & (summary["classifier"] == "early_test")
    ].set_index("metric")["mean"]
    share = counts["n_flare"] / counts["n_episodes"]
    assert f"{counts['n_episodes']:.1f} episodes per cohort, flare share {share:.3f}" in text
    assert "Deferral at the decision point" in text
    tradeoff = pd.read_csv(report / "tradeoff.csv")
    assert set(tradeoff["task"]) == {"decision_point"}
    assert set(tradeoff["policy"]) == set(DEFERRAL_POLICIES)
    assert len(tradeoff) == len(run.plan.points) * 4 * len(DEFERRAL_POLICIES)  # 4 completed


def test_one_line_names_a_classifier_that_beats_the_oracle():
    rows = [
        ("s", "decision_point", name, r, "roc_auc", value + 0.001 * (r % 2))
        for r in range(6)
        for name, value in (("bayes_oracle", 0.8), ("lucky", 0.9), ("honest", 0.7))
    ]
    results = pd.DataFrame(
        rows, columns=["scenario", "task", "classifier", "replicate", "metric", "value"]
    )
    text = leaderboard_markdown(summarise_run(results, pd.DataFrame(), None))
    warnings = [line for line in text.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert "lucky on s/decision_point" in warnings[0]
    assert "honest" not in warnings[0]


def test_the_headline_table_lists_decision_point_aucs_best_first(run):
    from boneflare.benchmarks.report.headline import headline_table, main

    text = headline_table(run.results)
    summary = summarise(run.results)
    label = run.plan.points[0].label
    aucs = summary[
        (summary["scenario"] == label)
        & (summary["task"] == "decision_point")
        & (summary["metric"] == "roc_auc")
    ].sort_values("mean", ascending=False)
    section = text.split(f"## {label}: decision_point (3 replicates; ")[1].split("## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == aucs["classifier"].tolist()
    best = aucs.iloc[0]
    assert f"{best['mean']:.3f} ± {best['mcse']:.3f}" in rows[0]
    assert main([str(run.path)]) == 0
    assert main([]) == 2
