"""A self-contained HTML page of a benchmark report (figures embedded as base64 PNG)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from boneflare.benchmarks.report.leaderboard import (
    Summary,
    board_rows,
    difference_rows,
    failure_lines,
    tradeoff_rows,
    warning_line,
)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; margin: 0.5em 0; }
code { background: #f3f3f3; padding: 0 0.2em; }
.note { color: #555; font-size: 0.9em; }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(path.stem.replace("_", " "))
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'


def _provenance(info: dict[str, Any]) -> str:
    exp = info.get("experiment", {})
    versions = info.get("versions", {})
    rows = [
        ["boneflare version", str(versions.get("boneflare", "?"))],
        ["seed", str(exp.get("seed"))],
        ["replicates x patients", f"{exp.get('replicates')} x {exp.get('patients')}"],
        ["engine", str(exp.get("engine"))],
        ["closed loop", str(exp.get("closed_loop"))],
        ["reference", str(exp.get("reference"))],
    ]
    for s in exp.get("scenarios", []):
        rows.append([f"scenario {s['label']}", f"hash {s['hash']} (from {s['source']})"])
    if exp.get("train_scenario"):
        t = exp["train_scenario"]
        rows.append(["training scenario", f"{t['label']} (hash {t['hash']})"])
    for c in exp.get("classifiers", []):
        rows.append([f"classifier {c['label']}", f"{c['class']} {c['params']}"])
    return _table(["", ""], rows)


def write_html(
    path: Path,
    summary: Summary,
    info: dict[str, Any],
    figures: dict[str, list[Path]],
    title: str,
) -> Path:
    """Write the report page to ``path`` and return it.

    Parameters
    ----------
    path : Path
        The HTML file to write.
    summary : Summary
        Aggregated results (:func:`boneflare.benchmarks.report.leaderboard.summarise_run`).
    info : dict
        The run's provenance.
    figures : dict of str to list of Path
        Section title -> PNG files, embedded in that order.
    title : str
        Page title.

    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<p class="note">Mean ± Monte Carlo standard error across replicates; metrics '
        "undefined in a replicate are excluded, never counted as 0 or 1. ROC and "
        "calibration curves pool the episodes of all replicates.</p>",
    ]
    warning = warning_line(summary.warnings)
    if warning:
        parts.append(f'<p class="note">{html.escape(warning)}</p>')
    for scenario, task in summary.scopes():
        name = scenario if task is None else f"{scenario}: {task}"
        parts.append(f"<h2>Leaderboard: {html.escape(name)}</h2>")
        parts.append(_table(*board_rows(summary.board, scenario, task)))
        header, rows = tradeoff_rows(summary.tradeoff, scenario, task)
        if rows:
            parts.append("<p>Deferral at the decision point (mean ± Monte Carlo SE):</p>")
            parts.append(_table(header, rows))
        if summary.differences is not None and len(summary.differences):
            header, rows = difference_rows(summary.differences, scenario, task)
            if rows:
                parts.append(
                    f"<p>Paired differences against <code>{html.escape(str(summary.reference))}"
                    "</code> on the same cohorts (mean [95% interval]):</p>"
                )
                parts.append(_table(header, rows))
    lines = failure_lines(summary.failures)
    if lines:
        parts.append("<h2>Failures</h2><ul>")
        parts += [f"<li>{html.escape(line[2:])}</li>" for line in lines]
        parts.append("</ul>")
    for section, paths in figures.items():
        if paths:
            parts.append(f"<h2>{html.escape(section)}</h2>")
            parts += [_image(p) for p in paths]
    parts.append("<h2>Provenance</h2>")
    parts.append(_provenance(info))
    timings = info.get("timings")
    if timings:
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in timings.get("phases", {}).items())
        parts.append(
            f'<p class="note">Last session: wall {timings["wall_seconds"]:.1f} s with '
            f"{timings['workers']} worker(s); time by phase: {html.escape(phases)}.</p>"
        )
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
