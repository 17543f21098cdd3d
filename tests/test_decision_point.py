"""The decision point: which episodes pose the clinician's question (docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from strategies import seeds, simulation_overrides

from boneflare.simulator import load_scenario, simulate
from boneflare.simulator.observed import decision_points


def _scans(rows):
    return pd.DataFrame(rows, columns=["patient_id", "day", "recist_response"])


def test_hand_made_tables():
    patients = pd.DataFrame(
        {"patient_id": [1, 2, 3, 4, 5], "bone_mets": [True, True, True, False, True]}
    )
    scans = _scans(
        [
            (1, 0, "baseline"),
            (1, 42, "SD"),
            (1, 84, "PR"),  # first worse at 42, SD: yes
            (2, 0, "baseline"),
            (2, 42, "PD"),
            (2, 84, "PD"),  # worse with soft-tissue PD: no
            (3, 0, "baseline"),
            (3, 42, "PD"),
            (3, 84, "SD"),  # PD before the worse reading: no
            (4, 0, "baseline"),
            (4, 42, "SD"),  # no bone metastases at baseline: no
            (5, 0, "baseline"),
            (5, 42, "PR"),
            (5, 84, "SD"),  # two worse readings: first only
        ]
    )
    episodes = pd.DataFrame(
        {
            "episode_id": [50, 10, 11, 20, 30, 40, 51],
            "patient_id": [5, 1, 1, 2, 3, 4, 5],
            "day": [84, 42, 84, 42, 84, 42, 42],
        }
    )
    got = decision_points(episodes, patients, scans)
    assert got.tolist() == [False, True, False, False, False, False, True]


def test_no_episodes():
    empty = pd.DataFrame({"episode_id": [], "patient_id": [], "day": []})
    patients = pd.DataFrame({"patient_id": [1], "bone_mets": [True]})
    assert decision_points(empty, patients, _scans([(1, 0, "baseline")])).size == 0


@given(simulation_overrides(), seeds)
def test_decision_points_on_simulated_cohorts(overrides, seed):
    t = simulate(load_scenario("paper", overrides), 150, seed)
    chosen = t.episodes[decision_points(t.episodes, t.patients, t.scans)]
    # A subset of the episodes, at most one per patient, each its patient's first.
    assert chosen["episode_id"].isin(t.episodes["episode_id"]).all()
    assert not chosen["patient_id"].duplicated().any()
    first_day = t.episodes.groupby("patient_id")["day"].min()
    assert (chosen["day"].to_numpy() == first_day.loc[chosen["patient_id"]].to_numpy()).all()
    # Only patients with bone metastases at baseline.
    bone = t.patients.set_index("patient_id")["bone_mets"]
    assert bone.loc[chosen["patient_id"]].all()
    # No soft-tissue progression on any CT up to and including the decision day.
    seen = t.scans.merge(chosen[["patient_id", "day"]], on="patient_id", suffixes=("", "_ep"))
    seen = seen[seen["day"] <= seen["day_ep"]]
    assert not (seen["recist_response"].astype(str) == "PD").any()
    # And every first episode of a bone-metastatic patient free of PD is chosen.
    firsts = t.episodes.loc[t.episodes.groupby("patient_id")["day"].idxmin()]
    pd_days = (
        t.scans[t.scans["recist_response"].astype(str) == "PD"].groupby("patient_id")["day"].min()
    )
    ok = ~(pd_days.reindex(firsts["patient_id"]).to_numpy() <= firsts["day"].to_numpy())
    expected = firsts[ok & bone.loc[firsts["patient_id"]].to_numpy()]
    assert set(expected["episode_id"]) == set(chosen["episode_id"])
    assert np.isin(chosen["episode_id"], expected["episode_id"]).all()
