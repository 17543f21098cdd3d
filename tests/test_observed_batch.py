"""Cutting observed histories: the vectorised cut equals a plain pandas merge, row for row,
and a batch's feature table is computed once and travels with it."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boneflare.classifiers.features import extract_features
from boneflare.simulator import load_scenario, simulate
from boneflare.simulator.errors import BoneflareError, FutureDataError
from boneflare.simulator.observed import (
    EPISODE_COLUMNS,
    LAB_COLUMNS,
    PATIENT_COLUMNS,
    SCAN_COLUMNS,
    ObservedBatch,
    build_batch,
)

COHORT = simulate(load_scenario("paper"), 300, seed=11)


def merged_histories(table: pd.DataFrame, episodes: pd.DataFrame, columns: tuple[str, ...]):
    """The histories by a pandas merge on the patient, then a stable sort (slow, obvious)."""
    keys = episodes[["episode_id", "patient_id", "day"]].rename(columns={"day": "decision_day"})
    joined = keys.merge(table, on="patient_id", how="inner", sort=False)
    joined = joined[joined["day"] <= joined["decision_day"]]
    third = "scan_index" if "scan_index" in columns else "analyte"
    joined = joined.sort_values(["episode_id", "day", third], kind="stable")
    return joined[list(columns)].reset_index(drop=True)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    take=st.integers(0, 400),
    repeat=st.integers(0, 20),
    shuffle_tables=st.booleans(),
    strings=st.booleans(),
)
def test_the_cut_equals_a_merge_whatever_the_order(seed, take, repeat, shuffle_tables, strings):
    rng = np.random.default_rng(seed)
    episodes = COHORT.episodes.loc[:, list(EPISODE_COLUMNS)]
    chosen = rng.permutation(len(episodes))[:take]
    chosen = np.concatenate([chosen, chosen[:repeat]])  # repeated episodes are allowed
    episodes = episodes.iloc[chosen].reset_index(drop=True)
    labs = COHORT.labs.loc[:, ["patient_id", "day", "analyte", "value"]]
    scans = COHORT.scans.loc[:, ["patient_id", *SCAN_COLUMNS[1:]]]
    if strings:  # hand-made tables hold plain strings, not categories
        labs = labs.astype({"analyte": object})
    if shuffle_tables:
        labs = labs.iloc[rng.permutation(len(labs))]
        scans = scans.iloc[rng.permutation(len(scans))]
    patients = COHORT.patients.iloc[rng.permutation(len(COHORT.patients))]
    batch = build_batch(episodes, patients, labs, scans)
    expected_labs = merged_histories(labs, episodes, LAB_COLUMNS)
    expected_scans = merged_histories(scans, episodes, SCAN_COLUMNS)
    pd.testing.assert_frame_equal(batch.labs, expected_labs, check_exact=True)
    pd.testing.assert_frame_equal(batch.scans, expected_scans, check_exact=True)
    expected_patients = episodes[["episode_id", "patient_id"]].merge(
        patients, on="patient_id", how="left", sort=False
    )[list(PATIENT_COLUMNS)]
    pd.testing.assert_frame_equal(batch.patients, expected_patients, check_exact=True)


def test_a_missing_or_repeated_patient_is_refused():
    episodes = COHORT.episodes.iloc[:5]
    for patients in (COHORT.patients.iloc[0:0], pd.concat([COHORT.patients] * 2)):
        with pytest.raises(BoneflareError, match="patient is missing"):
            build_batch(episodes, patients, COHORT.labs, COHORT.scans)


def test_the_feature_table_is_computed_once_and_travels_with_the_batch():
    batch = build_batch(COHORT.episodes, COHORT.patients, COHORT.labs, COHORT.scans)
    first = extract_features(batch)
    first.iloc[:, :] = -1.0  # the caller's own copy: changing it changes nothing kept
    copy = pickle.loads(pickle.dumps(batch))
    fresh = build_batch(COHORT.episodes, COHORT.patients, COHORT.labs, COHORT.scans)
    expected = extract_features(fresh)
    pd.testing.assert_frame_equal(extract_features(batch), expected, check_exact=True)
    pd.testing.assert_frame_equal(extract_features(copy), expected, check_exact=True)
    copy.labs.loc[:, "value"] = 0.0  # kept from the first call, not recomputed
    pd.testing.assert_frame_equal(extract_features(copy), expected, check_exact=True)


def test_a_checked_batch_is_not_searched_again_but_a_new_one_is():
    batch = build_batch(COHORT.episodes, COHORT.patients, COHORT.labs, COHORT.scans)
    batch.check()
    late = batch.labs.copy()
    late.loc[0, "day"] = 10_000
    later = ObservedBatch(batch.episodes, batch.patients, late, batch.scans)
    with pytest.raises(FutureDataError, match="after its decision day"):
        later.check()
    with pytest.raises(FutureDataError):
        later.check()  # a failed check is not remembered as passed
    pickle.loads(pickle.dumps(batch)).check()


def test_a_pickled_copy_unpickles_each_frame_when_first_read_and_equals_the_batch():
    batch = build_batch(COHORT.episodes, COHORT.patients, COHORT.labs, COHORT.scans)
    extract_features(batch)
    copy = pickle.loads(pickle.dumps(batch))
    frames = ("episodes", "patients", "labs", "scans")
    assert not any(name in vars(copy) for name in frames)  # nothing unpickled yet
    assert len(copy) == len(batch)
    assert "episodes" in vars(copy) and "labs" not in vars(copy)
    # a copy of the copy carries the frames it has not read as they came, and equals it
    again = pickle.loads(pickle.dumps(copy))
    for twin in (copy, again):
        for name in frames:
            pd.testing.assert_frame_equal(
                getattr(twin, name), getattr(batch, name), check_exact=True
            )
        pd.testing.assert_frame_equal(extract_features(twin), extract_features(batch))
    with pytest.raises(AttributeError, match="no attribute 'label'"):
        copy.label  # noqa: B018 (truth is not there to be read)


def test_a_frame_read_from_a_copy_is_that_copy_s_own():
    batch = build_batch(COHORT.episodes, COHORT.patients, COHORT.labs, COHORT.scans)
    blob = pickle.dumps(batch)
    one, two = pickle.loads(blob), pickle.loads(blob)
    one.labs.loc[:, "value"] = -1.0
    assert one.labs is one.labs  # read once, then kept
    pd.testing.assert_frame_equal(two.labs, batch.labs, check_exact=True)
    assert (batch.labs["value"] >= 0).all()
