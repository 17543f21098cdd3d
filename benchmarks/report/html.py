"""The report as one self-contained HTML page: tables, figures, glossary, provenance.

Every figure sits in a ``<figure>`` with a ``<figcaption>`` that says what it shows and
how to read it; images are embedded as ``data:`` URIs, and the page has no script,
font, style sheet or link to fetch, so it opens offline and can be mailed or archived
as one file.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from boneflare.benchmarks.report.formats import (
    DEFERRAL_NOTE,
    board_table,
    columns,
    counts,
    deferral_table,
    difference_table,
    reference_note,
)
from boneflare.benchmarks.report.glossary import info
from boneflare.benchmarks.report.leaderboard import Summary, boards, failure_lines

_STYLE: Final[str] = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222;
       line-height: 1.45; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; vertical-align: top;
         white-space: nowrap; }
td.text { white-space: normal; }
th { background: #f3f3f3; white-space: normal; }  /* long headers wrap; figures do not */
td.text, th.text { text-align: left; }
tr.ceiling td { background: #f7f7f7; font-style: italic; border-top: 2px solid #888; }
figure { margin: 1.5em 0; padding: 0.5em; border: 1px solid #e3e3e3; }
figure img { max-width: 100%; display: block; margin: 0 auto; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.5em; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 0.5em 1em; }
.note { color: #555; font-size: 0.9em; }
code, pre { background: #f5f5f5; }
pre { padding: 0.5em; overflow-x: auto; font-size: 0.8em; }
nav ul { columns: 2; }
"""


@dataclass
class Figure:
    """A figure of the page: section title, caption and embedded image."""

    section: str
    caption: str
    mime: str
    data: bytes
    alt: str


TERMS: Final[tuple[tuple[str, str], ...]] = (
    (
        "episode",
        "A 'worse' bone reading on a follow-up CT: the moment a clinician must call flare "
        "(continue treatment) or progression (stop).",
    ),
    (
        "replicate",
        "One simulated test cohort; every classifier is scored on the same replicates.",
    ),
    (
        "mean ± MCSE",
        "Mean of a metric over replicates and its Monte Carlo standard error, SD/√n: how "
        "precisely the simulation estimates it (not how well the model fits reality).",
    ),
    (
        "95% interval",
        "mean ± t(0.975, n-1) × MCSE over replicates (summary.csv, figures).",
    ),
    (
        "paired difference",
        "Mean over replicates of a classifier's metric minus the reference's on the same "
        "cohort; cohort-to-cohort noise cancels, so its interval is narrow.",
    ),
    (
        "ceiling",
        "A classifier trained on the test scenario's true model (the Bayes oracle): the best "
        "an honest classifier can hope for. Shown apart from the ranking.",
    ),
    (
        "† incomplete",
        "A classifier scored in fewer replicates than planned (it failed in the others).",
    ),
)
"""Terms of the glossary besides the metrics."""


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    text_columns: int = 1,
    row_classes: Sequence[str] | None = None,
) -> str:
    def cls(i: int) -> str:
        return ' class="text"' if i < text_columns else ""

    head = "".join(f"<th{cls(i)}>{html.escape(h)}</th>" for i, h in enumerate(header))
    body = []
    for k, row in enumerate(rows):
        mark = f' class="{row_classes[k]}"' if row_classes and row_classes[k] else ""
        cells = "".join(f"<td{cls(i)}>{html.escape(c)}</td>" for i, c in enumerate(row))
        body.append(f"<tr{mark}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(number: int, figure: Figure) -> str:
    data = base64.b64encode(figure.data).decode("ascii")
    return (
        f'<figure id="figure-{number}"><img alt="{html.escape(figure.alt)}" '
        f'src="data:{figure.mime};base64,{data}">'
        f"<figcaption><b>Figure {number}.</b> {html.escape(figure.caption)}</figcaption>"
        "</figure>"
    )


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Dotted keys and JSON values of a nested mapping."""
    if isinstance(value, dict):
        out = []
        for key, inner in value.items():
            out += _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return out
    return [(prefix, json.dumps(value))]


def _glossary(metrics: Sequence[str]) -> str:
    rows = []
    for name in metrics:
        m = info(name)
        if m.definition == info("").definition:  # not described
            continue
        unit = {"%": "% (stored as a fraction)", "": "none"}.get(m.unit, m.unit)
        rows.append([name, f"{m.header} {m.arrow}".strip(), unit, m.better, m.definition])
    parts = [
        '<h2 id="glossary">Glossary</h2>',
        "<p>Every metric of the run, as named in <code>results.parquet</code>, with the "
        "header, unit and direction used in the tables and figures.</p>",
        _table(["metric", "shown as", "unit", "better", "definition"], rows, text_columns=5),
        _table(["term", "meaning"], [list(t) for t in TERMS], text_columns=2),
    ]
    return "\n".join(parts)


def _provenance(info: dict[str, Any]) -> str:
    exp = info.get("experiment", {})
    versions = info.get("versions", {})
    sessions = info.get("sessions", [])
    rows = [
        ["created", str(info.get("created", "?"))],
        ["status", str(info.get("status", "?"))],
        ["seed", str(exp.get("seed"))],
        ["replicates × patients", f"{exp.get('replicates')} × {exp.get('patients')}"],
        ["engine", str(exp.get("engine"))],
        ["closed loop", str(exp.get("closed_loop"))],
        ["reference", str(exp.get("reference"))],
        ["max training patients", str(exp.get("max_training_patients"))],
        ["grid", json.dumps(exp.get("grid", {}))],
    ]
    rows += [[f"version of {k}", str(v)] for k, v in versions.items()]
    for k, s in enumerate(sessions, start=1):
        command = s.get("command")
        shown = " ".join(command) if command else "(not run from the command line)"
        rows.append([f"session {k} command", shown])
        rows.append(
            [
                f"session {k}",
                f"{s.get('started')} to {s.get('finished')}, {s.get('executor')} "
                f"executor, {s.get('workers')} worker(s), {s.get('units_run')} units run, "
                f"{s.get('units_skipped')} skipped",
            ]
        )
    parts = [
        '<h2 id="provenance">Provenance</h2>',
        _table(["item", "value"], rows, text_columns=2),
    ]
    crow = []
    for c in exp.get("classifiers", []):
        d = c.get("distribution")
        dist = f"{d['name']} {d['version']}" if d else "not from an installed distribution"
        crow.append(
            [
                c["label"],
                c["class"],
                dist,
                json.dumps(c.get("params", {})),
                str(c.get("threshold")),
                str(c.get("training_patients")),
            ]
        )
    parts += [
        "<h3>Classifiers</h3>",
        _table(
            [
                "label",
                "class",
                "distribution and version",
                "parameters",
                "threshold",
                "training patients",
            ],
            crow,
            text_columns=4,
        ),
    ]
    for s in exp.get("scenarios", []):
        resolved = _flatten(s.get("resolved", {}))
        parts.append(
            f"<h3>Scenario {html.escape(s['label'])}</h3><p>From "
            f"<code>{html.escape(str(s.get('source')))}</code>, hash "
            f"<code>{html.escape(str(s.get('hash')))}</code>; every parameter as resolved:</p>"
        )
        parts.append(
            "<details><summary>resolved parameters "
            f"({len(resolved)})</summary>{_table(['parameter', 'value'], resolved, 2)}</details>"
        )
    if exp.get("train_scenario"):
        t = exp["train_scenario"]
        parts.append(
            f"<p>Learned classifiers trained on scenario <code>{html.escape(t['label'])}</code> "
            f"(hash <code>{html.escape(str(t['hash']))}</code>).</p>"
        )
    timings = info.get("timings")
    if timings:
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in timings.get("phases", {}).items())
        parts.append(
            f'<p class="note">Timings of the last session (machine-dependent): wall '
            f"{timings['wall_seconds']:.1f} s with {timings['workers']} worker(s); by phase: "
            f"{html.escape(phases)}.</p>"
        )
    return "\n".join(parts)


def write_html(
    path: Path,
    summary: Summary,
    info: dict[str, Any],
    figures: Sequence[Figure],
    title: str,
    *,
    metrics: Sequence[str] | None = None,
    appendix: Sequence[Figure] = (),
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
    figures : sequence of Figure
        The figures, grouped under their sections in order.
    title : str
        Page title.
    metrics : sequence of str, optional
        Leaderboard columns (default: the default columns).
    appendix : sequence of Figure
        Figures of the appendix (the paper's calibration figures).

    Returns
    -------
    Path
        ``path``.

    """
    chosen = columns(metrics)
    every = list(dict.fromkeys([*chosen, *summary.summary.get("metric", [])]))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<p class="note">Mean ± Monte Carlo standard error across replicates; a metric '
        "undefined in a replicate is excluded, never counted as 0 or 1. ↑: higher is better, "
        '↓: lower is better (see the <a href="#glossary">glossary</a>). ROC and calibration '
        "curves pool the episodes of all replicates.</p>",
    ]
    sections = list(dict.fromkeys(f.section for f in figures))
    toc = ["Leaderboard", *sections, "Failures", "Glossary", "Provenance"]
    if appendix:
        toc.append("Appendix")
    parts.append(
        "<nav><ul>"
        + "".join(f'<li><a href="#{_anchor(t)}">{html.escape(t)}</a></li>' for t in toc)
        + "</ul></nav>"
    )
    if summary.warnings:
        parts.append('<div class="warning"><b>Warning.</b><ul>')
        parts += [f"<li>{html.escape(w)}</li>" for w in summary.warnings]
        parts.append("</ul></div>")
    parts.append('<h2 id="leaderboard">Leaderboard</h2>')
    for board in boards(summary):
        parts.append(f"<h3>{html.escape(board.title)} ({html.escape(counts(board))})</h3>")
        header, rows = board_table(board, chosen)
        classes = ["ceiling" if r[0] == "ceiling" else "" for r in rows]
        parts.append(_table(header, rows, text_columns=2, row_classes=classes))
        incomplete = [c for c in board.order if board.incomplete(c)]
        if incomplete:
            parts.append(
                f'<p class="note">† scored in fewer replicates than planned: '
                f"{html.escape(', '.join(incomplete))}.</p>"
            )
        header, rows = deferral_table(board)
        if rows:
            parts.append(f"<p>{html.escape(DEFERRAL_NOTE)}:</p>")
            parts.append(_table([" ".join(h) for h in header], rows))
        header, rows = difference_table(summary, board, chosen)
        if rows:
            parts.append(
                f"<p>Paired differences against <code>{html.escape(str(summary.reference))}"
                "</code> on the same cohorts (mean [95% interval]"
                f"{html.escape(reference_note(summary, board))}):</p>"
            )
            parts.append(_table(header, rows))
    number = 0
    for section in sections:
        parts.append(f'<h2 id="{_anchor(section)}">{html.escape(section)}</h2>')
        for figure in figures:
            if figure.section == section:
                number += 1
                parts.append(_figure(number, figure))
    parts.append('<h2 id="failures">Failures</h2>')
    lines = failure_lines(summary.failures)
    if lines:
        parts.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>")
    else:
        parts.append("<p>No classifier failed: every planned unit was scored.</p>")
    parts.append(_glossary(every))
    parts.append(_provenance(info))
    if appendix:
        parts.append('<h2 id="appendix">Appendix: the paper\'s calibration figures</h2>')
        for figure in appendix:
            number += 1
            parts.append(_figure(number, figure))
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def _anchor(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
