"""``boneflare report``: leaderboard (text, Markdown, CSV, JSON), figures, self-contained HTML."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from helpers import BUILT_IN_CLASSIFIERS
from test_harness_plugins import DeferTest, EarlyTest, LearnedTest, NaiveTest, RaisesTest

from boneflare.benchmarks.aggregate import summarise
from boneflare.benchmarks.cli import main
from boneflare.benchmarks.harness import BenchmarkConfig, run_benchmark
from boneflare.benchmarks.metrics import DEFERRAL_POLICIES
from boneflare.benchmarks.report import write_report
from boneflare.benchmarks.report.formats import to_csv, to_json, to_markdown, to_table
from boneflare.benchmarks.report.leaderboard import summarise_run
from boneflare.simulator.errors import BoneflareError


class CeilingTest(LearnedTest):
    """A learned classifier trained on the test scenario: the run's ceiling."""

    name = "ceiling_test"
    trains_on_test_scenario = True


CLASSIFIERS = [NaiveTest, EarlyTest, DeferTest, LearnedTest, CeilingTest, RaisesTest]


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
    return write_report(run.path, appendix_patients=300)


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", label).strip("_")


def test_report_folder_holds_leaderboards_tables_and_every_figure(run, report):
    names = {p.name for p in report.iterdir()}
    expected = {"leaderboard.md", "leaderboard.json", "index.html", "summary.csv"}
    assert expected | {"differences.csv"} <= names
    for point in run.plan.points:
        for kind in ("roc", "calibration", "distributions", "consequences"):
            for task in ("decision_point", "all_episodes"):
                assert f"{kind}_{_slug(point.label)}_{task}.png" in names
    assert {"tradeoff.csv"} <= names
    assert "sweep_ct.interval_days.png" in names
    assert {"appendix_figure1.png", "appendix_figure7.png"} <= names
    for png in report.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_is_self_contained_and_every_image_is_a_captioned_figure(run, report):
    page = (report / "index.html").read_text()
    figures = re.findall(r"<figure[^>]*>(.*?)</figure>", page, flags=re.S)
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == len(list(report.glob("*.png"))) == len(figures)
    assert all(src.startswith("data:image/png;base64,") for src in images)
    for body in figures:
        caption = re.search(r"<figcaption>(.*?)</figcaption>", body, flags=re.S)
        assert caption and len(caption.group(1)) > 80  # says what it shows and how to read it
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # nothing fetched from elsewhere
    assert "raises_test failed in predict" in page
    for section in ("Glossary", "Provenance", "Failures", "Appendix"):
        assert f">{section}" in page
    # the glossary gives unit and direction; provenance the resolved scenario and versions
    assert "flare_patients_stopped_share" in page and "lower is better" in page
    assert "ct.interval_days" in page and "version of boneflare" in page
    assert "not from an installed distribution" in page  # the test classes
    assert "ceiling_test" in page and 'class="ceiling"' in page


def test_json_and_csv_agree_with_results_parquet(run, report):
    stored = pd.read_parquet(run.path / "results.parquet")
    keys = ["task", "scenario", "classifier", "metric"]
    grouped = stored.groupby(keys)["value"]
    expected = pd.DataFrame(
        {"mean": grouped.mean(), "sd": grouped.std(), "n": grouped.count()}
    ).reset_index()
    expected["mcse"] = expected["sd"] / np.sqrt(expected["n"])
    payload = json.loads((report / "leaderboard.json").read_text())
    found = {}
    for task in payload["tasks"]:
        for scenario in task["scenarios"]:
            for entry in scenario["classifiers"]:
                for metric, stats in entry["metrics"].items():
                    key = (task["task"], scenario["scenario"], entry["classifier"], metric)
                    found[key] = stats
    assert len(found) == len(expected)
    csv = pd.read_csv(report / "summary.csv")
    assert len(csv) == len(expected)
    merged = expected.merge(csv, on=keys, suffixes=("", "_csv"))
    assert len(merged) == len(expected)
    for row in merged.itertuples():
        stats = found[(row.task, row.scenario, row.classifier, row.metric)]
        for key in ("mean", "mcse"):
            want = getattr(row, key)
            if math.isnan(want):
                assert stats[key] is None and math.isnan(getattr(row, f"{key}_csv"))
            else:
                assert stats[key] == pytest.approx(want, rel=1e-9, abs=1e-12)
                assert getattr(row, f"{key}_csv") == pytest.approx(want, rel=1e-9, abs=1e-12)
        if stats["ci_low"] is not None:
            assert stats["ci_low"] <= stats["mean"] <= stats["ci_high"]


def test_ceiling_is_apart_from_the_ranking_and_never_ranked(run, report):
    payload = json.loads((report / "leaderboard.json").read_text())
    entries = payload["tasks"][0]["scenarios"][0]["classifiers"]
    ceiling = [e for e in entries if e["ceiling"]]
    assert [e["classifier"] for e in ceiling] == ["ceiling_test"]
    assert ceiling[0]["rank"] is None and entries[-1]["classifier"] == "ceiling_test"
    ranks = [e["rank"] for e in entries if not e["ceiling"]]
    assert ranks == list(range(1, len(ranks) + 1))
    markdown = (report / "leaderboard.md").read_text()
    assert re.search(r"\| ceiling +\| ceiling_test ", markdown)


def _results(classifiers, replicates=4, seed=0, missing=()):
    """Long results of made-up classifiers: ROC AUC rising with the list's order."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, name in enumerate(classifiers):
        for r in range(replicates):
            if (name, r) in missing:
                continue
            for metric, base in (
                ("roc_auc", 0.6 + 0.03 * k),
                ("balanced_accuracy", 0.55 + 0.03 * k),
                ("brier", 0.25 - 0.01 * k),
                ("flare_patients_stopped_share", 0.9 - 0.05 * k),
                ("progression_delay_days", 10.0 + 3 * k),
                ("effective_days_lost", 60.0 - 4 * k),
                ("fit_seconds", 0.5),
            ):
                rows.append((name, r, metric, base + rng.normal(0, 0.01)))
    frame = pd.DataFrame(rows, columns=["classifier", "replicate", "metric", "value"])
    frame.insert(0, "scenario", "paper")
    return frame


BUILTINS = list(BUILT_IN_CLASSIFIERS)
LONG = [
    "flare_lab.models.sequence:TransformerFlareClassifier[depth=6,heads=8,dropout=0.1]",
    "acme_radiology_plugins.bone:BoneScanIndexRule[window_days=84,threshold=0.35]",
]


def test_printed_table_fits_120_columns_with_the_builtins_and_long_plugin_names():
    summary = summarise_run(
        _results(BUILTINS + LONG), pd.DataFrame(), "recist_naive", ceilings=["bayes_oracle"]
    )
    text = to_table(summary)
    widths = [len(line) for line in text.splitlines()]
    assert max(widths) <= 120
    for name in BUILTINS:
        assert name in text
    rows = [line for line in text.splitlines() if re.match(r"^(\d+|ceiling) ", line)]
    assert len(rows) == len(BUILTINS + LONG)
    assert sum("…" in line for line in rows) == 2  # long names shortened in the table
    for name in LONG:
        assert f"= {name}" in text  # and spelled out in full under it
    header = text.split("-----")[0]
    assert "↑" in header and "↓" in header and "d/pt" in header and "%" in header
    assert "ms" not in header  # timings only on request


def test_verbose_timings_follow_in_their_own_table_and_keep_the_names_whole():
    summary = summarise_run(
        _results(BUILTINS), pd.DataFrame(), "recist_naive", ceilings=["bayes_oracle"]
    )
    text = to_table(summary, verbose=True)
    assert max(len(line) for line in text.splitlines()) <= 120
    board, timing = text.split("Time on this machine")[:2]
    assert "ms" not in board.split("-----")[0]  # the ranked table is the same as without
    assert "…" not in board and "more column" not in board
    timing_header = timing.split("-----")[0]
    assert "fit" in timing_header and "ms ↓" in timing_header
    for name in BUILTINS:
        assert re.search(rf"^{name} +\d+ ± \d+", timing, re.MULTILINE), name


def test_a_narrow_table_drops_trailing_columns_before_shortening_builtin_names():
    summary = summarise_run(
        _results(BUILTINS), pd.DataFrame(), "recist_naive", ceilings=["bayes_oracle"]
    )
    text = to_table(summary, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    rows = [line for line in text.splitlines() if re.match(r"^(\d+|ceiling) +\S+ +\d", line)]
    assert len(rows) == len(BUILTINS) and not any("…" in line for line in rows)
    for name in BUILTINS:
        assert any(line.split()[1] == name for line in rows)
    note = " ".join(text.split("3 more column(s)")[1].split("\n")[:2])
    assert "flare pts stopped (%), PD delay (d/pt), days lost (d/pt)" in note
    wide = int(re.search(r"--width (\d+)", note).group(1))
    widened = to_table(summary, width=wide)
    assert "more column(s) (" not in widened
    assert max(len(line) for line in widened.split("Paired")[0].splitlines()) <= wide


def test_metrics_and_sort_order_are_chosen():
    results = _results(["a", "b", "c"])
    summary = summarise_run(results, pd.DataFrame(), None, sort_by="progression_delay_days")
    text = to_table(summary, ["progression_delay_days", "brier"])
    rows = [line.split() for line in text.splitlines() if re.match(r"^\d+ ", line)]
    assert [r[1] for r in rows] == ["a", "b", "c"]  # lowest delay first
    assert "ROC AUC" not in text and "Brier" in text and "PD delay" in text
    assert json.loads(to_json(summary, ["brier"]))["tasks"][0]["scenarios"][0]["classifiers"][0][
        "metrics"
    ].keys() == {"brier"}
    assert set(pd.read_csv(pd.io.common.StringIO(to_csv(summary, ["brier"])))["metric"]) == {
        "brier"
    }


def test_incomplete_classifiers_are_marked_and_ranked_after_the_complete_ones():
    results = _results(["b", "a"], missing={("a", 3)})  # "a" has the higher AUC
    summary = summarise_run(results, pd.DataFrame(), None, planned=4)
    text = to_table(summary)
    assert "a †" in text and "a: scored in 3 of 4 replicates" in text
    assert "b †" not in text
    rows = [line.split()[1] for line in text.splitlines() if re.match(r"^\d+ ", line)]
    assert rows == ["b", "a"]  # its mean is over other cohorts: not comparable
    payload = json.loads(to_json(summary))
    complete = {
        e["classifier"]: e["complete"] for e in payload["tasks"][0]["scenarios"][0]["classifiers"]
    }
    assert complete == {"a": False, "b": True}


def test_a_replicate_with_a_recorded_failure_is_not_counted_as_scored():
    results = _results(["a", "b"])
    failures = pd.DataFrame(
        {
            "scenario": ["paper"],
            "classifier": ["b"],
            "replicate": [2],
            "unit": ["u2"],
            "stage": ["metrics"],
            "message": ["ValueError: boom"],
        }
    )
    summary = summarise_run(results, failures, None, planned=4)
    assert "b: scored in 3 of 4 replicates" in to_table(summary)


def test_a_classifier_beating_the_ceiling_beyond_monte_carlo_error_is_named():
    results = _results(["oracle", "lucky"])  # "lucky" has the higher AUC
    summary = summarise_run(results, pd.DataFrame(), None, ceilings=["oracle"])
    assert len(summary.warnings) == 1
    assert summary.warnings[0].startswith("lucky beats the ceiling oracle on ROC AUC")
    assert "WARNING: lucky beats the ceiling" in to_table(summary)
    assert "## Warnings" in to_markdown(summary)
    fair = summarise_run(_results(["lucky", "oracle"]), pd.DataFrame(), None, ceilings=["oracle"])
    assert fair.warnings == []


def test_tasks_are_reported_separately_the_decision_point_first():
    one = _results(["a", "b"])
    both = pd.concat(
        [one.assign(task="all_episodes"), one.assign(task="decision_point")], ignore_index=True
    )
    summary = summarise_run(both, pd.DataFrame(), None)
    text = to_table(summary)
    assert text.index("paper, decision_point") < text.index("paper, all_episodes")
    payload = json.loads(to_json(summary))
    assert [t["task"] for t in payload["tasks"]] == ["decision_point", "all_episodes"]
    csv = pd.read_csv(pd.io.common.StringIO(to_csv(summary)))
    assert csv["task"].iloc[0] == "decision_point"


def test_report_command_prints_each_format_to_stdout(run, capsys):
    for fmt in ("table", "markdown", "csv", "json"):
        assert main(["report", str(run.path), "--format", fmt]) == 0
        text = capsys.readouterr().out
        assert "early_test" in text
    assert json.loads(text)["reference"] == "naive_test"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--metrics", "roc_auc,nonsense"], "unknown metric 'nonsense'"),
        (["--sort-by", "episodes_deferred_share"], "neutral and cannot rank"),
        (["--figure-format", "gif"], "invalid choice"),
        (["--dpi", "5"], "must be from 30 to 1200"),
        (["--width", "0"], "must be from 40 to 1000, got 0"),
        (["--width", "wide"], "not an integer: 'wide'"),
    ],
)
def test_bad_presentation_options_are_one_line_and_exit_2(run, capsys, option, message):
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(run.path), *option])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_report_command_writes_vector_figures(tmp_path, capsys):
    small = run_benchmark(
        BenchmarkConfig(classifiers=[EarlyTest, NaiveTest], replicates=2, patients=100),
        tmp_path / "run",
    )
    out = tmp_path / "elsewhere"
    assert main(["report", str(small.path), "--out", str(out), "--figure-format", "svg"]) == 0
    assert str(out) in capsys.readouterr().out
    assert list(out.glob("roc_*.svg")) and not list(out.glob("*.png"))
    page = (out / "index.html").read_text()
    assert "data:image/svg+xml;base64," in page
    assert main(["report", str(small.path), "--out", str(out), "--figure-format", "pdf"]) == 0
    assert list(out.glob("roc_*.pdf")) and not list(out.glob("*.svg"))
    assert "data:image/png;base64," in (out / "index.html").read_text()


def test_report_of_a_folder_without_a_finished_run_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(BoneflareError, match="holds no benchmark run"):
        write_report(tmp_path)
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "holds no benchmark run" in capsys.readouterr().err


def test_leaderboard_puts_the_decision_point_first_with_its_prevalence(run, report):
    text = (report / "leaderboard.md").read_text()
    label = run.plan.points[0].label
    assert text.index(f"## {label}, decision_point") < text.index(f"## {label}, all_episodes")
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
    scored = run.results[run.results["value"].notna()]
    completed = scored["classifier"].nunique()  # one that never scored has no trade-off
    assert len(tradeoff) == len(run.plan.points) * completed * len(DEFERRAL_POLICIES)


def test_the_warning_names_the_classifier_that_beats_the_oracle_in_its_task():
    rows = [
        ("s", "decision_point", name, r, "roc_auc", value + 0.001 * (r % 2))
        for r in range(6)
        for name, value in (("bayes_oracle", 0.8), ("lucky", 0.9), ("honest", 0.7))
    ]
    results = pd.DataFrame(
        rows, columns=["scenario", "task", "classifier", "replicate", "metric", "value"]
    )
    summary = summarise_run(results, pd.DataFrame(), None, ceilings=["bayes_oracle"])
    text = to_markdown(summary)
    warnings = [line for line in text.splitlines() if "beats the ceiling" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("- lucky beats the ceiling bayes_oracle on ROC AUC")
    assert "in s, decision_point" in warnings[0]


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


def _texts(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()] if legend is not None else []


def test_each_figure_is_built_as_its_question_needs(run):
    from boneflare.benchmarks.harness import RunStore
    from boneflare.benchmarks.report import draw_figures
    from boneflare.benchmarks.report.leaderboard import run_summary

    store = RunStore(run.path)
    tables, info = store.load(), store.read_provenance()
    drawn = {d.stem: d for d in draw_figures(tables, run_summary(tables, info), info)}
    label = _slug(run.plan.points[0].label)
    scored = sorted(run.results.loc[run.results["value"].notna(), "classifier"].unique())

    roc = drawn[f"roc_{label}_decision_point"].figure
    whole, corner = roc.axes
    assert whole.get_xlabel().startswith("1 - specificity")
    assert whole.get_ylabel().startswith("sensitivity for flare")
    assert corner.get_xlim()[1] == pytest.approx(0.3)  # the corner, enlarged
    entries = _texts(roc.legends[0])
    assert sorted(e.split()[0] for e in entries) == scored
    assert all(re.search(r"AUC \d\.\d{3} ± \d\.\d{3}", e) for e in entries)
    assert "episodes" in roc.get_suptitle() and "replicates" in roc.get_suptitle()

    calibration = drawn[f"calibration_{label}_decision_point"].figure
    titles = [ax.get_title() for ax in calibration.axes if ax.get_title()]
    assert sorted(t.split("\n")[0].split(" (")[0] for t in titles) == scored
    strips = [ax for ax in calibration.axes if ax.get_ylabel() == "episodes"]
    assert strips and all(ax.get_yscale() == "log" for ax in strips)
    assert all(ax.get_xlabel() == "predicted P(flare)" for ax in calibration.axes[1::2])

    distributions = drawn[f"distributions_{label}_decision_point"].figure
    panels = [ax for ax in distributions.axes if ax.get_visible()]
    assert {ax.get_title().split(":")[0] for ax in panels} >= {"ROC AUC", "Brier", "log loss"}
    assert all(("better" in ax.get_xlabel()) for ax in panels)
    order = [t.get_text() for t in panels[0].get_yticklabels()]
    assert order[-1] == "ceiling_test"  # the ceiling at the bottom, apart from the ranking
    assert "diamond: mean" in _texts(distributions.legends[0])

    consequences = drawn[f"consequences_{label}_decision_point"].figure
    ax = consequences.axes[0]
    assert "flare patients stopped (%" in ax.get_xlabel()
    assert "days per patient" in ax.get_ylabel()
    keys = _texts(consequences.legends[0])
    assert {"ceiling_test (ceiling)", "hollow: defer every call to next CT"} <= set(keys)
    assert "95% interval" in consequences.get_suptitle()

    sweep = drawn["sweep_ct.interval_days"].figure
    shown = [ax for ax in sweep.axes if ax.get_visible()]
    assert sorted(ax.get_title() for ax in shown) == [c for c in scored if c != "ceiling_test"]
    dashed = [line for line in shown[0].get_lines() if line.get_linestyle() == "--"]
    assert dashed  # the ceiling as a reference line in every panel
    assert shown[-1].get_xlabel() == "ct.interval_days"
