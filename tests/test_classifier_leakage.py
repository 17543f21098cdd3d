"""No information from after the decision day, and no truth, reaches a classifier.

A classifier that records every batch it is shown runs inside the simulator, open and
closed loop. Each batch it saw must hold only the observed columns, nothing dated after
each episode's decision day, and exactly the history a clinician had on that day: the
same rows as a batch cut from tables from which everything later has been deleted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from boneflare.classifiers.base import FlareClassifier
from boneflare.simulator.observed import (
    EPISODE_COLUMNS,
    LAB_COLUMNS,
    PATIENT_COLUMNS,
    SCAN_COLUMNS,
    ObservedBatch,
    build_batch,
)

PATIENTS = 400
SEED = 17


class Recorder(FlareClassifier):
    """Remembers every batch it is asked about; stops treatment at odd episode ids."""

    name = "recorder"
    description = "test double: records what it was shown"

    def __init__(self, log: list | None = None):
        self.log = log

    def _predict_proba(self, batch: ObservedBatch) -> np.ndarray:
        self.log.append(batch)
        return np.where(batch.episode_ids % 2 == 1, 0.4, 0.6)


def _run(paper, closed_loop: bool):
    from boneflare.simulator import simulate

    log: list[ObservedBatch] = []
    tables = simulate(paper, PATIENTS, seed=SEED, policy=Recorder(log), closed_loop=closed_loop)
    return tables, log


@pytest.fixture(scope="module")
def open_loop(paper):
    return _run(paper, closed_loop=False)


def _history_until(tables, episode: pd.Series) -> ObservedBatch:
    """The batch of one episode cut from tables holding nothing dated after its day."""
    pid, day = episode["patient_id"], episode["day"]
    keep_labs = (tables.labs["patient_id"] == pid) & (tables.labs["day"] <= day)
    keep_scans = (tables.scans["patient_id"] == pid) & (tables.scans["day"] <= day)
    return build_batch(
        episode.to_frame().T.astype(tables.episodes.dtypes.to_dict()),
        tables.patients[tables.patients["patient_id"] == pid],
        tables.labs[keep_labs],
        tables.scans[keep_scans],
    )


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False
    )


@pytest.mark.parametrize("closed_loop", [False, True], ids=["open_loop", "closed_loop"])
def test_a_recording_classifier_sees_only_the_past(paper, open_loop, closed_loop):
    tables, log = _run(paper, closed_loop) if closed_loop else open_loop
    if closed_loop:
        assert (tables.decisions["action"].astype(str) == "stop").any()
    seen = [b for b in log if len(b)]
    assert sum(len(b) for b in seen) == len(tables.episodes)
    truth_columns = set(tables.truth.columns) | set(tables.episode_truth.columns)
    for batch in seen:
        batch.check()  # raises on any row dated after its decision day
        assert tuple(batch.episodes.columns) == EPISODE_COLUMNS
        assert tuple(batch.patients.columns) == PATIENT_COLUMNS
        assert tuple(batch.labs.columns) == LAB_COLUMNS
        assert tuple(batch.scans.columns) == SCAN_COLUMNS
        for part in (batch.episodes, batch.patients, batch.labs, batch.scans):
            assert not (set(part.columns) & truth_columns - {"patient_id", "episode_id"})
        decision = batch.episodes.set_index("episode_id")["day"]
        for part in (batch.labs, batch.scans):
            limit = decision.reindex(part["episode_id"]).to_numpy()
            assert (part["day"].to_numpy() <= limit).all()


def test_what_it_saw_is_exactly_the_history_on_the_decision_day(open_loop):
    tables, log = open_loop
    episodes = tables.episodes.set_index("episode_id")
    # a sample of episodes: early and late ones, several per patient
    sample = tables.episodes["episode_id"].to_numpy()[:: max(1, len(tables.episodes) // 25)]
    where = {int(eid): (b, i) for b in log for i, eid in enumerate(b.episode_ids)}
    for eid in sample:
        batch, i = where[int(eid)]
        seen = batch.take([i])
        episode = episodes.loc[eid].copy()
        episode["episode_id"] = eid
        cut = _history_until(tables, episode[list(EPISODE_COLUMNS)])
        for part in ("episodes", "patients", "labs", "scans"):
            _same_rows(getattr(seen, part), getattr(cut, part))


def test_a_later_change_never_changes_an_earlier_answer(open_loop):
    """Perturb everything dated after a patient's first episode: its answer stays."""
    from boneflare.classifiers.combined import CombinedRule

    tables, _ = open_loop
    rule = CombinedRule()
    batch = build_batch(tables.episodes, tables.patients, tables.labs, tables.scans)
    p = rule.predict_proba(batch)
    labs = tables.labs.copy()
    scans = tables.scans.copy()
    first_day = tables.episodes.groupby("patient_id")["day"].min()
    later_lab = labs["day"].to_numpy() > first_day.reindex(labs["patient_id"]).to_numpy()
    labs.loc[later_lab, "value"] *= 3.0
    later_scan = scans["day"].to_numpy() > first_day.reindex(scans["patient_id"]).to_numpy()
    scans.loc[later_scan, "sld_mm"] = 0.0
    first = tables.episodes.groupby("patient_id")["day"].transform("min") == tables.episodes["day"]
    changed = build_batch(tables.episodes, tables.patients, labs, scans)
    q = rule.predict_proba(changed)
    assert later_lab.any() and later_scan.any()
    np.testing.assert_array_equal(p[first.to_numpy()], q[first.to_numpy()])
