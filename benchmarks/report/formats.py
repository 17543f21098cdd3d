"""The leaderboard written out: a text table for the terminal, Markdown, CSV and JSON.

The text table fits a terminal (120 columns by default): two header lines give each
column's name, unit and direction (↑ higher is better, ↓ lower is better), names as
long as the built-in ones are shown whole (trailing columns give way first, and are
named below), longer names are shortened in the middle and spelled out below, and the
ceiling sits under the ranking, apart from it. Timings, asked for with ``verbose``,
follow in a table of their own. Markdown is the same content for documents, CSV
and JSON the full summaries for programs; their numbers are those of
:func:`boneflare.benchmarks.aggregate.summarise` on ``results.parquet``, unscaled.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from typing import Any, Final

import pandas as pd

from boneflare.benchmarks.metrics import DEFERRAL_POLICIES, TRADEOFF_METRICS, policy_metric
from boneflare.benchmarks.report.choices import DEFAULT_COLUMNS, FORMATS, WIDTH
from boneflare.benchmarks.report.glossary import METRICS, info
from boneflare.benchmarks.report.leaderboard import (
    DIFFERENCE_METRICS,
    Board,
    Summary,
    boards,
    by_task,
    failure_lines,
)

GAP: Final[str] = "  "
INCOMPLETE: Final[str] = "†"
"""Mark of a classifier scored in fewer replicates than planned."""
MIN_NAME: Final[int] = 12
NAME_KEPT: Final[int] = 24
"""Names up to this long are not shortened while a trailing column can give way (the
longest built-in name, ``soft_tissue_concordance``, has 23 characters)."""


def columns(metrics: Sequence[str] | None, verbose: bool = False) -> list[str]:
    """The metrics to show: those asked for, or the defaults (plus timings if verbose)."""
    if metrics:
        return list(metrics)
    timings = [m.name for m in METRICS.values() if m.timing] if verbose else []
    return [*DEFAULT_COLUMNS, *timings]


def cell(board: Board, classifier: str, metric: str) -> str:
    """``mean ± MCSE`` as displayed; the mean alone with one replicate; ``n/a`` if missing."""
    mean = board.value(classifier, metric, "mean")
    if math.isnan(mean):
        return "n/a"
    shown = info(metric)
    mcse = board.value(classifier, metric, "mcse")
    return shown.show(mean) + ("" if math.isnan(mcse) else " ± " + shown.show(mcse))


def shorten(name: str, width: int) -> str:
    """``name`` cut in the middle to ``width`` characters (an ellipsis marks the cut)."""
    if len(name) <= width:
        return name
    head = (width - 1) // 2
    return name[:head] + "…" + name[len(name) - (width - 1 - head) :]


def _present(board: Board, metrics: Sequence[str]) -> list[str]:
    have = set(board.metrics())
    return [m for m in metrics if m in have]


def counts(board: Board) -> str:
    """``"5 of 5 replicates; 112.4 episodes per cohort, flare share 0.620"``."""
    planned = f" of {board.planned}" if board.planned is not None else ""
    text = f"{board.replicates}{planned} replicates"
    episodes, share = board.prevalence()
    if not math.isnan(episodes):
        text += f"; {episodes:.1f} episodes per cohort, flare share {share:.3f}"
    return text


def _intro(board: Board, sort_by: str) -> str:
    shown = info(sort_by)
    return (
        f"{board.title}: {counts(board)}; mean ± Monte Carlo SE, ranked by "
        f"{shown.header} {shown.arrow}".rstrip()
    )


POLICY_HEADERS: Final[dict[str, str]] = {
    "call": "call",
    "defer_uncertain": "defer unsure",
    "defer_all": "defer all",
}
"""Short column headers of the deferral policies."""

TRADEOFF_SHOWN: Final[tuple[str, ...]] = TRADEOFF_METRICS[:2]
"""Trade-off columns per deferral policy: flare patients stopped, delay before progression."""


def deferral_table(board: Board) -> tuple[list[list[str]], list[list[str]]]:
    """Header lines and rows of the deferral trade-off of one board (empty if not scored).

    One row per classifier; per policy of
    :data:`~boneflare.benchmarks.metrics.DEFERRAL_POLICIES`, the share of flare patients
    stopped and the delay before progression is acted on (mean ± MCSE).
    """
    deferring = [policy_metric(TRADEOFF_SHOWN[0], p) for p in DEFERRAL_POLICIES[1:]]
    if not set(deferring) & set(board.metrics()):
        return [], []
    header = [["classifier"]]
    for policy in DEFERRAL_POLICIES:
        for metric, short in zip(TRADEOFF_SHOWN, ("stopped", "PD delay"), strict=True):
            header.append([POLICY_HEADERS.get(policy, policy), short, _unit_arrow(metric)])
    rows = []
    for c in board.order:
        cells = [
            cell(board, c, policy_metric(m, p)) for p in DEFERRAL_POLICIES for m in TRADEOFF_SHOWN
        ]
        if any(x != "n/a" for x in cells):
            rows.append([c, *cells])
    return header, rows


DEFERRAL_NOTE: Final[str] = (
    "Deferral at the decision point: flare patients stopped (% of patients with a flare "
    "episode) against days of delay before true progression is acted on, for the "
    "single-scan call and when waiting for the next CT (defer unsure: when P(flare) is "
    "near the threshold; defer all: always)"
)


def _name(board: Board, classifier: str) -> str:
    return classifier + (f" {INCOMPLETE}" if board.incomplete(classifier) else "")


def _notes(board: Board, names: Sequence[str]) -> list[str]:
    out = []
    planned = board.planned if board.planned is not None else board.replicates
    for c in names:
        if board.incomplete(c):
            out.append(
                f"{INCOMPLETE} {c}: scored in {board.scored.get(c, 0)} of {planned} replicates"
            )
    return out


# --------------------------------------------------------------------------- text table
def _unit_arrow(metric: str) -> str:
    """``"d/pt ↓"``: the displayed unit and the better direction."""
    shown = info(metric)
    return " ".join(p for p in (shown.unit, shown.arrow) if p)


def _header_lines(metric: str, width: int) -> list[str]:
    lines = textwrap.wrap(info(metric).header, width) or [""]
    unit = _unit_arrow(metric)
    return [*lines, unit] if unit else lines


def _text_table(
    header: Sequence[Sequence[str]], rows: Sequence[Sequence[str]], rules: Sequence[int] = ()
) -> list[str]:
    """Columns padded to a common width; ``header`` holds each column's header lines.

    The first column is left-aligned, the others right-aligned; a dashed rule is drawn
    before each row index in ``rules``.
    """
    widths = [max([len(x) for x in h] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    depth = max(len(h) for h in header)

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return GAP.join(parts).rstrip()

    heads = [[""] * (depth - len(h)) + list(h) for h in header]
    out = [line([h[k] for h in heads]) for k in range(depth)]
    total = sum(widths) + len(GAP) * (len(widths) - 1)
    out.append("-" * total)
    for i, row in enumerate(rows):
        if i in rules:
            out.append("-" * total)
        out.append(line(row))
    return out


def _fit_width(
    header: list[list[str]], rows: list[list[str]], width: int
) -> tuple[list[list[str]], list[list[str]], int]:
    """Drop trailing columns until the table fits ``width``; return how many were dropped."""
    dropped = 0
    while len(header) > 2:
        widths = [
            max([len(x) for x in h] + [len(r[i]) for r in rows]) for i, h in enumerate(header)
        ]
        if sum(widths) + len(GAP) * (len(widths) - 1) <= width:
            break
        header, rows = header[:-1], [r[:-1] for r in rows]
        dropped += 1
    return header, rows, dropped


def _fitted_table(
    header: list[list[str]], rows: list[list[str]], width: int, name_width: int
) -> tuple[list[str], str]:
    """A side table's lines, its names cut to ``name_width`` and its columns to ``width``.

    Also returns what its introduction adds when columns were dropped ("" if none).
    """
    shortened = [[shorten(r[0], name_width), *r[1:]] for r in rows]
    header, shortened, dropped = _fit_width(header, shortened, width)
    more = f"; {dropped} more column(s) with --format markdown" if dropped else ""
    return _text_table(header, shortened), more


def _board_text(board: Board, metrics: Sequence[str], sort_by: str, width: int) -> list[str]:
    present = _present(board, metrics)
    names = board.order
    cells = [[cell(board, c, m) for m in present] for c in names]
    heads = [_header_lines(m, max([len(r[i]) for r in cells] + [8])) for i, m in enumerate(present)]
    widths = [max([len(x) for x in h] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    rank_width = max(len("ceiling"), len(str(len(names))))

    def used(kept_columns: int) -> int:  # the width of all but the names
        return rank_width + sum(widths[:kept_columns]) + len(GAP) * (kept_columns + 1)

    kept = min(NAME_KEPT, max(len(_name(board, c)) for c in names))
    fitting = len(present)
    while fitting > 1 and width - used(fitting) < kept:
        fitting -= 1
    dropped = present[fitting:]
    present, heads = present[:fitting], heads[:fitting]
    cells = [row[:fitting] for row in cells]
    room = max(MIN_NAME, width - used(fitting))
    shown = {c: shorten(_name(board, c), room) for c in names}
    ranks = [str(i + 1) for i in range(len(board.ranked))] + ["ceiling"] * len(board.ceiling)
    # rank and name share the first (left-aligned) column
    header = [[f"{'rank'.ljust(rank_width)}{GAP}classifier"], *heads]
    rows = [
        [f"{rank.ljust(rank_width)}{GAP}{shown[c]}", *row]
        for rank, c, row in zip(ranks, names, cells, strict=True)
    ]
    rules = [len(board.ranked)] if board.ceiling else []
    lines = [*textwrap.wrap(_intro(board, sort_by), width), "", *_text_table(header, rows, rules)]
    notes = _notes(board, names)
    if dropped:
        needed = used(len(widths)) + kept
        notes.append(
            f"{len(dropped)} more column(s) ({', '.join(info(m).label for m in dropped)}) "
            f"with --width {needed} or --format markdown"
        )
    cut = [c for c in names if shown[c] != _name(board, c)]
    notes += [f"{shown[c]} = {c}" for c in cut]
    if board.ceiling:
        notes.append(
            "ceiling: trained on the test scenario's true model, shown as the best an honest "
            "classifier could do, not ranked"
        )
    for note in notes:
        lines += textwrap.wrap(note, width, subsequent_indent="  ")
    return lines


TIMING_NOTE: Final[str] = (
    "Time on this machine, mean ± Monte Carlo SE over replicates (fit: a learned model's "
    "fit, once per replicate; predict: its calls on one test cohort)"
)


def _timing_text(board: Board, timings: Sequence[str], width: int) -> list[str]:
    """The timing columns of one board as a table of their own (empty if none)."""
    present = _present(board, timings)
    if not present:
        return []
    header = [["classifier"], *(_header_lines(m, 8) for m in present)]
    rows = [[c, *(cell(board, c, m) for m in present)] for c in board.order]
    table, more = _fitted_table(header, rows, width, 30)
    return ["", *textwrap.wrap(f"{TIMING_NOTE}{more}:", width), *table]


def _differences(summary: Summary, board: Board, metrics: Sequence[str]) -> tuple[list, list]:
    """Header (one line per column) and rows of paired differences for one board."""
    diffs = summary.differences
    if diffs is None or diffs.empty:
        return [], []
    part = diffs[(diffs["task"] == board.task) & (diffs["scenario"].astype(str) == board.scenario)]
    wanted = [m for m in metrics if m in DIFFERENCE_METRICS] or list(DIFFERENCE_METRICS)
    present = [m for m in wanted if (part["metric"] == m).any()]
    if not present:
        return [], []
    indexed = part.assign(classifier=part["classifier"].astype(str)).set_index(
        ["classifier", "metric"]
    )
    rows = []
    for classifier in board.order:
        if classifier == summary.reference:
            continue
        row = [classifier]
        for m in present:
            try:
                r = indexed.loc[(classifier, m)]
            except KeyError:
                row.append("n/a")
                continue
            shown = info(m)
            if math.isnan(r["mean"]):
                row.append("n/a")
            elif math.isnan(r["ci_low"]):
                row.append(shown.show(r["mean"]))
            else:
                low, high = shown.show(r["ci_low"]), shown.show(r["ci_high"])
                row.append(f"{shown.show(r['mean'])} [{low}, {high}]")
        rows.append(row)
    header = [[f"Δ {info(m).header}", _unit_arrow(m)] for m in present]
    return [["", "classifier"], *header], rows


def reference_note(summary: Summary, board: Board) -> str:
    """``"; the reference failed in k of n replicates, ..."`` when it did, else ``""``."""
    reference = summary.reference
    if reference is None or board.planned is None or reference not in board.scored:
        return ""
    scored, planned = board.scored[reference], board.planned
    if scored >= planned:
        return ""
    return (
        f"; the reference failed in {planned - scored} of {planned} replicates, so only "
        f"the {scored} where it was scored are paired"
    )


def to_table(
    summary: Summary,
    metrics: Sequence[str] | None = None,
    *,
    title: str = "Leaderboard",
    width: int = WIDTH,
    verbose: bool = False,
) -> str:
    """Return the leaderboard as a plain-text table that fits ``width`` columns.

    Parameters
    ----------
    summary : Summary
        From :func:`boneflare.benchmarks.report.leaderboard.summarise_run`.
    metrics : sequence of str, optional
        Columns (default :data:`~boneflare.benchmarks.report.glossary.DEFAULT_COLUMNS`).
    title : str
        First line.
    width : int
        Width to fit: trailing columns give way before names as long as the built-in
        ones are shortened (a note names them), longer names are shortened, and
        columns of the other tables are dropped from the right when they do not fit.
    verbose : bool
        Add the timings to the default columns; the text shows them (and any timing
        asked for in ``metrics`` beside other metrics) in a table of their own.

    Returns
    -------
    str
        The text, ending in a newline.

    """
    chosen = columns(metrics, verbose)
    timings = [m for m in chosen if info(m).timing]
    ranked = [m for m in chosen if m not in timings]
    if not ranked:  # only timings asked for: they are the leaderboard
        ranked, timings = timings, []
    out = [title, ""]
    for board in boards(summary):
        out += _board_text(board, ranked, summary.sort_by, width)
        out += _timing_text(board, timings, width)
        header, rows = deferral_table(board)
        if rows:
            table, more = _fitted_table(header, rows, width, 26)
            out += ["", *textwrap.wrap(f"{DEFERRAL_NOTE}{more}:", width), *table]
        header, rows = _differences(summary, board, chosen)
        if rows:
            table, more = _fitted_table(header, rows, width, 30)
            intro = (
                f"Paired differences against {summary.reference} on the same cohorts "
                f"(mean [95% interval]{more}{reference_note(summary, board)}):"
            )
            out += ["", *textwrap.wrap(intro, width), *table]
        out.append("")
    out += _trailer(summary, width)
    return "\n".join(out).rstrip() + "\n"


def _trailer(summary: Summary, width: int) -> list[str]:
    out = []
    for warning in summary.warnings:
        out += textwrap.wrap(f"WARNING: {warning}", width, subsequent_indent="  ")
    lines = failure_lines(summary.failures)
    if lines:
        out += ["Failures:"]
        for line in lines:
            out += textwrap.wrap(f"- {line}", width, subsequent_indent="  ")
    return out


# --------------------------------------------------------------------------- Markdown
def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table with columns padded to a common width (readable as plain text)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return [line, rule, *body]


def header_text(metric: str) -> str:
    """One-line header: ``"days lost (d/pt) ↓"``."""
    shown = info(metric)
    return f"{shown.label} {shown.arrow}".rstrip()


def board_table(board: Board, metrics: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one board (rank, classifier, metrics), the ceiling last."""
    present = _present(board, metrics)
    header = ["rank", "classifier", *(header_text(m) for m in present)]
    rows = [
        [str(i + 1), _name(board, c), *(cell(board, c, m) for m in present)]
        for i, c in enumerate(board.ranked)
    ]
    rows += [
        ["ceiling", _name(board, c), *(cell(board, c, m) for m in present)] for c in board.ceiling
    ]
    return header, rows


def difference_table(
    summary: Summary, board: Board, metrics: Sequence[str]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the paired differences of one board (empty if none)."""
    header, rows = _differences(summary, board, metrics)
    return [" ".join(p for p in h if p) for h in header], rows


def to_markdown(
    summary: Summary,
    metrics: Sequence[str] | None = None,
    *,
    title: str = "Leaderboard",
    verbose: bool = False,
) -> str:
    """Return the leaderboard, paired differences, warnings and failures as Markdown."""
    chosen = columns(metrics, verbose)
    shown = info(summary.sort_by)
    out = [
        f"# {title}",
        "",
        "Mean ± Monte Carlo standard error across replicates; values undefined in a "
        f"replicate are excluded. Ranked by {shown.header} ({shown.better}); the ceiling is "
        "shown apart from the ranking.",
    ]
    for board in boards(summary):
        out += ["", f"## {board.title} ({counts(board)})", ""]
        out += _md_table(*board_table(board, chosen))
        notes = _notes(board, board.order)
        if notes:
            out += ["", *notes]
        header, rows = deferral_table(board)
        if rows:
            flat = [" ".join(h) for h in header]
            out += ["", f"{DEFERRAL_NOTE}:", "", *_md_table(flat, rows)]
        header, rows = difference_table(summary, board, chosen)
        if rows:
            out += [
                "",
                f"Paired differences against {summary.reference} (mean [95% interval]"
                f"{reference_note(summary, board)}):",
                "",
                *_md_table(header, rows),
            ]
    if summary.warnings:
        out += ["", "## Warnings", "", *(f"- {w}" for w in summary.warnings)]
    lines = failure_lines(summary.failures)
    if lines:
        out += ["", "## Failures", "", *(f"- {line}" for line in lines)]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- CSV, JSON
STAT_COLUMNS: Final[tuple[str, ...]] = (
    "n",
    "n_missing",
    "mean",
    "sd",
    "mcse",
    "ci_low",
    "ci_high",
)


def to_frame(summary: Summary, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """The summary as one long table: task, scenario, classifier, role, metric, statistics."""
    frame = summary.summary.copy()
    if frame.empty:
        return pd.DataFrame(
            columns=["task", "scenario", "classifier", "role", "metric", *STAT_COLUMNS]
        )
    if metrics:
        frame = frame[frame["metric"].isin(metrics)]
    role = frame["classifier"].astype(str).isin(summary.ceilings)
    frame.insert(3, "role", role.map({True: "ceiling", False: "ranked"}))
    parts = [p.assign(task=t) for t, p in by_task(frame)]
    frame = pd.concat(parts, ignore_index=True) if parts else frame
    return frame[["task", "scenario", "classifier", "role", "metric", *STAT_COLUMNS]]


def to_csv(summary: Summary, metrics: Sequence[str] | None = None) -> str:
    """The long summary (:func:`to_frame`) as CSV text, full precision."""
    return to_frame(summary, metrics).to_csv(index=False)


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def to_json(
    summary: Summary, metrics: Sequence[str] | None = None, *, run: str | None = None
) -> str:
    """The leaderboard as JSON: per task, scenario and classifier, every metric's statistics.

    The numbers are the unscaled summaries (a share is a fraction, a time in seconds);
    a missing value is ``null``.
    """
    tasks = []
    by_key: dict[str, list[dict[str, Any]]] = {}
    for board in boards(summary):
        wanted = list(metrics) if metrics else board.metrics()
        entries = []
        for i, c in enumerate(board.order):
            ceiling = c in board.ceiling
            values = {}
            for m in wanted:
                if (c, m) not in board.stats.index:
                    continue
                row = board.stats.loc[(c, m)]
                values[m] = {k: _number(row[k]) for k in STAT_COLUMNS}
                values[m]["direction"] = info(m).direction
            entries.append(
                {
                    "classifier": c,
                    "rank": None if ceiling else i + 1,
                    "ceiling": ceiling,
                    "replicates_scored": board.scored.get(c, 0),
                    "complete": not board.incomplete(c),
                    "metrics": values,
                }
            )
        by_key.setdefault(board.task, []).append(
            {"scenario": board.scenario, "classifiers": entries}
        )
    for task, scenarios in by_key.items():
        tasks.append({"task": task or None, "scenarios": scenarios})
    payload = {
        "run": run,
        "sort_by": summary.sort_by,
        "replicates_planned": summary.planned,
        "reference": summary.reference,
        "statistics": "mean, sd, mcse = sd/sqrt(n), ci = mean ± t(0.975, n-1) mcse over replicates",
        "tasks": tasks,
        "warnings": list(summary.warnings),
        "failures": failure_lines(summary.failures),
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def render(
    summary: Summary,
    fmt: str,
    metrics: Sequence[str] | None = None,
    *,
    title: str = "Leaderboard",
    width: int = WIDTH,
    verbose: bool = False,
    run: str | None = None,
) -> str:
    """The leaderboard in one of :data:`FORMATS`."""
    if fmt == "table":
        return to_table(summary, metrics, title=title, width=width, verbose=verbose)
    if fmt == "markdown":
        return to_markdown(summary, metrics, title=title, verbose=verbose)
    if fmt == "csv":
        return to_csv(summary, metrics)
    if fmt == "json":
        return to_json(summary, metrics, run=run)
    raise ValueError(f"unknown format {fmt!r}: known are {', '.join(FORMATS)}")
