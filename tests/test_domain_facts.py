"""One definition of each domain fact: categories, RECIST cut-offs and stop consequences."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from boneflare.benchmarks.harness.consequences import patient_outcomes
from boneflare.classifiers import features, rules
from boneflare.simulator import load_scenario, observation, observed, simulate, vocabulary
from boneflare.simulator.engine.policy import BUILTIN_POLICIES
from boneflare.simulator.stops import follow_up_ends, stop_consequences
from boneflare.simulator.table_schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("simulator", "classifiers", "benchmarks")

VOCABULARIES = {
    name: value
    for name, value in vars(vocabulary).items()
    if name.isupper() and isinstance(value, tuple)
}


def test_table_columns_use_the_vocabulary():
    columns = {
        ("patients", "arm"): vocabulary.ARMS,
        ("patients", "sex"): vocabulary.SEXES,
        ("patients", "stage"): vocabulary.STAGES,
        ("patients", "bone_lesion_character"): vocabulary.CHARACTER_NAMES,
        ("labs", "analyte"): vocabulary.ANALYTES,
        ("labs", "unit"): vocabulary.UNITS,
        ("scans", "recist_response"): vocabulary.RESPONSE_NAMES,
        ("scans", "bone_reading"): vocabulary.BONE_NAMES,
        ("scans", "lesion_look"): vocabulary.LOOK_NAMES,
        ("truth", "best_response"): vocabulary.BEST_RESPONSES,
        ("episode_truth", "label"): vocabulary.LABEL_NAMES,
    }
    for (table, column), words in columns.items():
        assert TABLES[table][column].dtype is words, (table, column)


def test_classifiers_read_the_same_words_through_the_contract():
    assert features.ARMS is vocabulary.ARMS
    assert features.CHARACTERS == vocabulary.CHARACTER_NAMES[1:]
    assert features.LOOKS == vocabulary.LOOK_NAMES[1:]
    assert features.RESPONSES is vocabulary.RECIST_RESPONSES
    assert set(vocabulary.RESPONSE_NAMES) - {"baseline"} == set(features.RESPONSES)
    for name in ("ARMS", "CHARACTER_NAMES", "LOOK_NAMES", "RECIST_PD_MM", "RECIST_PD_RISE"):
        assert name in observed.__all__ and getattr(observed, name) is getattr(vocabulary, name)


def test_recist_cut_offs_derived_from_one_definition_are_the_published_ones():
    """Exactly 0.70, 1.20 and 20%: the derived forms must not move a single float."""
    assert observation.RECIST_PR_FRACTION == 0.70
    assert observation.RECIST_PD_FRACTION == 1.20
    assert rules.RECIST_PD_PCT == 20.0
    assert observation.RECIST_PD_MM is rules.RECIST_PD_MM is vocabulary.RECIST_PD_MM


def _string_tuples(path: Path) -> list[tuple[int, tuple[str, ...]]]:
    """Every literal tuple of two or more strings in a source file, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple) and len(node.elts) >= 2:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(values) == len(node.elts) and all(isinstance(v, str) for v in values):
                found.append((node.lineno, tuple(values)))
    return found


def test_no_vocabulary_is_spelled_out_twice():
    """A category list written again elsewhere (whole, or without 'none') is a second definition."""
    spelled = {words: name for name, words in VOCABULARIES.items()}
    spelled.update({words[1:]: name for name, words in VOCABULARIES.items() if words[0] == "none"})
    again = []
    for room in ROOMS:
        for path in (ROOT / room).rglob("*.py"):
            if path.name == "vocabulary.py":
                continue
            for line, words in _string_tuples(path):
                if words in spelled:
                    again.append(f"{path.relative_to(ROOT)}:{line} repeats {spelled[words]}")
    assert again == []


@pytest.mark.parametrize("words", sorted(VOCABULARIES))
def test_every_vocabulary_has_distinct_words(words):
    assert len(set(VOCABULARIES[words])) == len(VOCABULARIES[words])


def test_stop_consequences_by_hand():
    end, effective_end = follow_up_ends(
        progression_day=np.array([300.0, np.inf, 100.0, 250.0]),
        dropout_day=np.array([np.inf, 200.0, np.inf, np.inf]),
        horizon_days=365,
    )
    assert end.tolist() == [365, 200, 365, 365]
    assert effective_end.tolist() == [300, 200, 100, 250]
    stop = np.array([60.0, 150.0, 120.0, np.nan])
    first = np.array([330.0, np.nan, 120.0, 280.0])
    lost, delay = stop_consequences(stop, end, effective_end, first)
    # 0: stopped at 60, effective until 300, before its progression episode (no delay)
    # 1: stopped at 150, dropped out at 200, never progressed
    # 2: stopped at its progression episode, 20 days after progression: nothing lost
    # 3: never stopped: progression seen on day 280 is acted on at the horizon
    assert lost[:3].tolist() == [240, 50, 0] and math.isnan(lost[3])
    assert math.isnan(delay[0]) and math.isnan(delay[1])
    assert delay[2:].tolist() == [0, 365 - 280]


def test_truth_table_records_the_consequences_the_harness_infers():
    """Closed loop: the simulator's columns are stop_consequences of its own truth."""
    scenario = load_scenario("paper")
    truth = simulate(
        scenario, 800, seed=5, policy=BUILTIN_POLICIES["always_stop"](), closed_loop=True
    ).truth
    assert truth["stop_day"].notna().any()
    lost, delay = patient_outcomes(truth["stop_day"].to_numpy(), truth, scenario.horizon_days)
    np.testing.assert_array_equal(lost, truth["effective_days_lost"].to_numpy())
    np.testing.assert_array_equal(delay, truth["progression_delay_days"].to_numpy())
