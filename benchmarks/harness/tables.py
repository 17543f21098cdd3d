"""The three long tables of a benchmark run: their columns, Arrow types and row order.

Units build their tables directly as Arrow tables in these schemas (cheap to build, to
send back from a worker and to write); the store concatenates, sorts and writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from boneflare.simulator.observed import ACTION_NAMES, TASKS

TABLES = ("results", "predictions", "failures")
"""Table names, also their file names (``<name>.parquet``)."""


def parquet_bytes(table: pa.Table, *, unit_file: bool = False) -> bytes:
    """A table as the bytes of a Parquet file, dictionary-encoding its text columns only.

    Dictionary encoding of the numeric columns (Parquet's default) is mostly wasted on
    values such as ``p_flare`` and doubled the time of writing a run's predictions
    (3.2 million rows in the default benchmark: 1.04 s against 0.58 s, for files 14%
    larger). A ``unit_file`` (one unit's table, read back only by a resume or the final
    consolidation) has no column statistics; the run's final tables keep them for the
    columns readers select by (:data:`STATISTICS`).
    """
    text = [
        f.name
        for f in table.schema
        if not (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
    ]
    statistics: bool | list[str] = False
    if not unit_file:
        statistics = [name for name in STATISTICS if name in table.schema.names]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, use_dictionary=text, write_statistics=statistics)
    return sink.getvalue().to_pybytes()


STATISTICS = ("scenario", "task", "classifier", "replicate", "metric")
"""Columns of a run's final tables whose Parquet statistics are written (readers select
rows by them)."""


SCHEMAS: dict[str, pa.Schema] = {
    "results": pa.schema(
        [
            ("scenario", pa.string()),
            ("task", pa.string()),
            ("classifier", pa.string()),
            ("replicate", pa.int32()),
            ("metric", pa.string()),
            ("value", pa.float64()),
        ]
    ),
    "predictions": pa.schema(
        [
            ("scenario", pa.string()),
            ("task", pa.string()),
            ("classifier", pa.string()),
            ("replicate", pa.int32()),
            ("episode_id", pa.int64()),
            ("patient_id", pa.int64()),
            ("day", pa.int16()),
            ("y", pa.int8()),
            ("p_flare", pa.float64()),
            ("action", pa.dictionary(pa.int8(), pa.string())),
        ]
    ),
    "failures": pa.schema(
        [
            ("scenario", pa.string()),
            ("classifier", pa.string()),
            ("replicate", pa.int32()),
            ("unit", pa.string()),
            ("stage", pa.string()),
            ("message", pa.string()),
        ]
    ),
}
"""Column types of the three long tables, as stored."""


def results_table(
    scenario: str, replicate: int, rows: list[tuple[str, str, str, float]]
) -> pa.Table:
    """Long results of one unit from ``(task, classifier, metric, value)`` rows."""
    n = len(rows)
    return pa.table(
        {
            "scenario": pa.repeat(pa.scalar(scenario, pa.string()), n),
            "task": pa.array([r[0] for r in rows], pa.string()),
            "classifier": pa.array([r[1] for r in rows], pa.string()),
            "replicate": pa.array(np.full(n, replicate, dtype=np.int32)),
            "metric": pa.array([r[2] for r in rows], pa.string()),
            "value": pa.array([r[3] for r in rows], pa.float64()),
        },
        schema=SCHEMAS["results"],
    )


def failures_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Failure records as a table."""
    return pa.Table.from_pylist(rows, schema=SCHEMAS["failures"])


def predictions_table(
    scenario: str,
    task: str,
    replicate: int,
    classifiers: list[str],
    episodes: dict[str, np.ndarray],
    y: np.ndarray,
    p_flare: np.ndarray,
    action: np.ndarray,
) -> pa.Table:
    """Predictions of several classifiers on the same episodes, classifier after classifier.

    Parameters
    ----------
    scenario : str
        The unit's scenario label.
    task : str
        The scored task these episodes belong to (one of ``TASKS``).
    replicate : int
        The unit's replicate.
    classifiers : list of str
        One label per block of ``len(y)`` rows of ``p_flare`` and ``action``.
    episodes : dict of str to ndarray
        ``episode_id``, ``patient_id`` and ``day`` of the episodes.
    y : ndarray
        Label per episode (1 flare, 0 progression).
    p_flare, action : ndarray
        Concatenated per classifier.

    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}: known are {', '.join(TASKS)}")
    k, n = len(classifiers), len(y)
    return pa.table(
        {
            "scenario": pa.repeat(pa.scalar(scenario, pa.string()), k * n),
            "task": pa.repeat(pa.scalar(task, pa.string()), k * n),
            "classifier": pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(k, dtype=np.int32), n)),
                pa.array(classifiers, pa.string()),
            ).cast(pa.string()),
            "replicate": pa.array(np.full(k * n, replicate, dtype=np.int32)),
            "episode_id": pa.array(np.tile(episodes["episode_id"], k).astype(np.int64)),
            "patient_id": pa.array(np.tile(episodes["patient_id"], k).astype(np.int64)),
            "day": pa.array(np.tile(episodes["day"], k).astype(np.int16)),
            "y": pa.array(np.tile(y, k).astype(np.int8)),
            "p_flare": pa.array(np.asarray(p_flare, dtype=np.float64)),
            "action": pa.DictionaryArray.from_arrays(
                pa.array(np.asarray(action, dtype=np.int8)), pa.array(list(ACTION_NAMES))
            ),
        },
        schema=SCHEMAS["predictions"],
    )


def complete_results(
    results: pd.DataFrame, units: Sequence[tuple[str, int]], classifiers: Sequence[str]
) -> pd.DataFrame:
    """Give every planned classifier a row per metric in every planned unit (NaN if unscored).

    A classifier that failed in a unit (or whose training failed) has no metric rows
    there; a NaN row stands for each, so that every metric's ``n + n_missing`` equals
    the replicates planned and a failed replicate counts as missing.

    Parameters
    ----------
    results : DataFrame
        The long results of the units, in the plan's order.
    units : sequence of (str, int)
        Every planned unit's scenario label and replicate, in the plan's order.
    classifiers : sequence of str
        Every classifier of the plan, in its order.

    Returns
    -------
    DataFrame
        ``results`` with the missing rows added, ordered by unit, task, classifier (plan
        order) and metric (in the order a scenario's metrics first appear in a task).

    """
    columns = list(SCHEMAS["results"].names)
    keys = columns[:-1]
    given = {k: results[k].to_numpy(dtype=object) for k in keys}
    scopes: dict[str, dict[str, list[str]]] = {}  # scenario -> task -> metrics
    for scenario, task, metric in dict.fromkeys(
        zip(given["scenario"], given["task"], given["metric"], strict=True)
    ):
        scopes.setdefault(scenario, {}).setdefault(task, []).append(metric)
    expected = _expected_keys(scopes, units, classifiers)
    expected["replicate"] = expected["replicate"].astype(results["replicate"].dtype)
    if len(expected) == 0:
        return results.loc[:, columns]
    if len(expected) == len(results) and all(
        np.array_equal(expected[k].to_numpy(dtype=object), given[k]) for k in keys
    ):  # nothing is missing and the rows are in the plan's order already
        return results.loc[:, columns].reset_index(drop=True)
    complete = expected.merge(results, on=keys, how="left", validate="one_to_one")
    return complete.loc[:, columns]


def _expected_keys(
    scopes: dict[str, dict[str, list[str]]],
    units: Sequence[tuple[str, int]],
    classifiers: Sequence[str],
) -> pd.DataFrame:
    """The key columns of every expected results row, in the plan's order."""
    labels = np.asarray(classifiers, dtype=object)
    blocks: dict[str, list[np.ndarray]] = {k: [] for k in SCHEMAS["results"].names[:-1]}
    for scenario, replicate in units:
        for task, metrics in scopes.get(scenario, {}).items():
            size = labels.size * len(metrics)
            blocks["scenario"].append(np.full(size, scenario, dtype=object))
            blocks["task"].append(np.full(size, task, dtype=object))
            blocks["classifier"].append(np.repeat(labels, len(metrics)))
            blocks["replicate"].append(np.full(size, replicate, dtype=np.int64))
            blocks["metric"].append(np.tile(np.asarray(metrics, dtype=object), labels.size))
    return pd.DataFrame(
        {
            k: np.concatenate(v) if v else np.zeros(0, np.int64 if k == "replicate" else object)
            for k, v in blocks.items()
        }
    )
