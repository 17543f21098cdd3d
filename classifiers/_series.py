"""Per-episode reductions of long observed tables, vectorised (no Python loop per episode).

Lab and scan rows of a batch are long: many rows per episode. :class:`EpisodeSeries`
sorts the rows of one kind (one analyte, or the scans) by episode position and day,
and reduces them per episode with numpy (``bincount``, ``reduceat``, ``searchsorted``).
Episodes without rows get NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class EpisodeSeries:
    """Rows of one kind, sorted by (episode position, day, order), with per-episode bounds.

    Attributes
    ----------
    pos : ndarray of int
        Position of each row's episode in the batch (sorted ascending).
    day : ndarray of float
        Day of each row.
    n : int
        Number of episodes in the batch.
    start, stop : ndarray of int
        Row range ``start[e]:stop[e]`` of episode ``e`` (empty when it has no rows).
    order : ndarray of int
        Positions, in the original frame, of the kept rows in sorted order.

    """

    pos: np.ndarray
    day: np.ndarray
    n: int
    start: np.ndarray
    stop: np.ndarray
    order: np.ndarray

    @staticmethod
    def build(
        episode_index: pd.Index, frame: pd.DataFrame, tiebreak: str | None = None
    ) -> EpisodeSeries:
        """Sort the rows of ``frame`` by episode position (in ``episode_index``) and day.

        Rows of episodes that are not in ``episode_index`` are dropped. ``tiebreak`` names
        a column that orders rows of the same day (e.g. ``scan_index``).
        """
        pos = episode_index.get_indexer(frame["episode_id"].to_numpy())
        day = frame["day"].to_numpy(dtype=float)
        keys = [day, pos]
        if tiebreak is not None:
            keys.insert(0, frame[tiebreak].to_numpy(dtype=float))
        if _in_order(keys[::-1]):  # as observed batches are built: no sort needed
            order = np.arange(len(pos))
        else:
            order = np.lexsort(keys)
            order = order[pos[order] >= 0]
        pos, day = pos[order], day[order]
        n = len(episode_index)
        grid = np.arange(n)
        return EpisodeSeries(
            pos=pos,
            day=day,
            n=n,
            start=np.searchsorted(pos, grid, side="left"),
            stop=np.searchsorted(pos, grid, side="right"),
            order=order,
        )

    def values(self, column: pd.Series | np.ndarray) -> np.ndarray:
        """Return a column of the original frame in this series' row order, as floats."""
        return np.asarray(column, dtype=float)[self.order]

    @property
    def count(self) -> np.ndarray:
        """Number of rows per episode."""
        return self.stop - self.start

    def first(self, values: np.ndarray) -> np.ndarray:
        """Value of each episode's earliest row (NaN without rows)."""
        return self._at(values, self.start, self.count > 0)

    def last(self, values: np.ndarray) -> np.ndarray:
        """Value of each episode's latest row (NaN without rows)."""
        return self._at(values, self.stop - 1, self.count > 0)

    def previous(self, values: np.ndarray) -> np.ndarray:
        """Value of each episode's second-latest row (NaN with fewer than two rows)."""
        return self._at(values, self.stop - 2, self.count > 1)

    def _at(self, values: np.ndarray, rows: np.ndarray, has: np.ndarray) -> np.ndarray:
        out = np.full(self.n, np.nan)
        out[has] = values[rows[has]]
        return out

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, mask: np.ndarray | None = None):
        """Reduce ``values`` per episode with ``ufunc`` (e.g. ``np.fmax``), NaN without rows.

        With ``mask``, only the rows where it is true take part.
        """
        out = np.full(self.n, np.nan)
        if mask is not None:
            values = np.where(mask, values, np.nan)
        has = self.count > 0
        if has.any():
            out[has] = ufunc.reduceat(values, self.start[has])
        return out

    def total(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` per episode (0 without rows)."""
        return np.bincount(self.pos, weights=values, minlength=self.n)

    def slope(self, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Least-squares slope of ``y`` on ``x`` per episode (NaN without two distinct x)."""
        w = np.ones_like(x) if mask is None else mask.astype(float)
        x0, y0 = np.where(w > 0, x, 0.0), np.where(w > 0, y, 0.0)
        n = self.total(w)
        sx, sy = self.total(x0), self.total(y0)
        sxx, sxy = self.total(x0 * x0), self.total(x0 * y0)
        den = n * sxx - sx * sx
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (n * sxy - sx * sy) / den
        return np.where((n >= 2) & (den > 1e-9 * np.maximum(n * sxx, 1.0)), slope, np.nan)

    def per_row(self, per_episode: np.ndarray) -> np.ndarray:
        """Broadcast a per-episode array to this series' rows."""
        return per_episode[self.pos]

    def locf(self, values: np.ndarray, at_day: np.ndarray) -> np.ndarray:
        """Last value on or before ``at_day[e]`` per episode (NaN when there is none).

        ``at_day`` may also be 2-D, ``(n, k)``: ``k`` days per episode, answered at once.
        """
        at_day = np.asarray(at_day, dtype=float)
        span = (np.nanmax(self.day) + 1.0) if self.day.size else 1.0
        offset = max(float(span), float(np.nanmax(at_day, initial=0.0)) + 1.0) + 1.0
        keys = self.pos * offset + self.day
        episode = np.arange(self.n).reshape((self.n,) + (1,) * (at_day.ndim - 1))
        episode = np.broadcast_to(episode, at_day.shape)
        idx = np.searchsorted(keys, episode * offset + at_day, side="right") - 1
        ok = (idx >= 0) & np.isfinite(at_day)
        ok[ok] = self.pos[idx[ok]] == episode[ok]
        out = np.full(at_day.shape, np.nan)
        out[ok] = values[idx[ok]]
        return out


def _in_order(keys: list[np.ndarray]) -> bool:
    """Whether rows are already sorted by ``keys`` (most significant first).

    Also requires finite keys and a non-negative first key (no dropped rows): then
    ``np.lexsort`` would keep every row where it is.
    """
    first = keys[0]
    if first.size == 0 or (first < 0).any() or not all(np.isfinite(k).all() for k in keys):
        return first.size == 0
    undecided = np.ones(first.size - 1, dtype=bool)
    for key in keys:
        step = np.diff(key)
        if (undecided & (step < 0)).any():
            return False
        undecided &= step == 0
    return True
