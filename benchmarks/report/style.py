"""What every figure of a report shares: a colour and marker per classifier, and saving.

Figures are built as :class:`matplotlib.figure.Figure` objects and saved with the Agg
(or vector) canvas: no pyplot, no global backend switch, nothing to close, safe on a
headless cluster node. A figure function returns :class:`Drawn` items (the figure, a
file stem and the caption that says how to read it); :func:`save` writes them in the
chosen format, and :func:`embeddable` gives what the HTML page embeds.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from boneflare.benchmarks.report.choices import DPI, FIGURE_FORMATS

if TYPE_CHECKING:
    from matplotlib.figure import Figure


PALETTE: Final[tuple[str, ...]] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""Matplotlib's ten qualitative colours (tab10), one per classifier in run order."""

MARKERS: Final[tuple[str, ...]] = ("o", "s", "^", "D", "v", "P", "X")
"""Markers cycled with the colours (7 and 10 are coprime: 70 distinct pairs)."""

CEILING_COLOR: Final[str] = "#000000"
CEILING_MARKER: Final[str] = "*"


@dataclass(frozen=True)
class Look:
    """How one classifier is drawn in every figure."""

    color: str
    marker: str
    ceiling: bool = False

    @property
    def linewidth(self) -> float:
        """Line width: the ceiling is drawn heavier, on top."""
        return 2.2 if self.ceiling else 1.4

    @property
    def zorder(self) -> float:
        """Drawing order: the ceiling above the others."""
        return 5.0 if self.ceiling else 3.0


def looks(classifiers: Sequence[str], ceilings: Sequence[str] = ()) -> dict[str, Look]:
    """A fixed colour and marker per classifier, in run order; the ceiling in black (★).

    Parameters
    ----------
    classifiers : sequence of str
        Every classifier of the run, in the run's order (the same in every figure).
    ceilings : sequence of str
        Classifiers drawn as the ceiling.

    Returns
    -------
    dict of str to Look
        One entry per classifier.

    """
    out: dict[str, Look] = {}
    k = 0
    for name in classifiers:
        if name in ceilings:
            out[name] = Look(CEILING_COLOR, CEILING_MARKER, ceiling=True)
            continue
        out[name] = Look(PALETTE[k % len(PALETTE)], MARKERS[k % len(MARKERS)])
        k += 1
    return out


@dataclass
class Drawn:
    """A drawn figure, its file stem and its caption."""

    stem: str
    figure: Figure
    caption: str
    title: str = ""


def slug(text: str) -> str:
    """A file-name-safe version of a label."""
    keep = [c if c.isalnum() or c in "-_." else "_" for c in text]
    return "".join(keep).strip("_") or "figure"


def new_figure(width: float, height: float) -> Figure:
    """An empty figure (inches) with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save(drawn: Drawn, folder: Path, fmt: str = "png", dpi: int = DPI) -> Path:
    """Write ``drawn`` into ``folder`` as ``<stem>.<fmt>``; return the path."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}: known are {', '.join(FIGURE_FORMATS)}")
    path = folder / f"{drawn.stem}.{fmt}"
    drawn.figure.savefig(path, format=fmt, dpi=dpi)
    return path


def embeddable(drawn: Drawn, path: Path, dpi: int = DPI) -> tuple[str, bytes]:
    """MIME type and bytes for the HTML page: the file itself, or a PNG for a PDF."""
    if path.suffix == ".svg":
        return "image/svg+xml", path.read_bytes()
    if path.suffix == ".png":
        return "image/png", path.read_bytes()
    buffer = io.BytesIO()
    drawn.figure.savefig(buffer, format="png", dpi=dpi)
    return "image/png", buffer.getvalue()
