"""One definition of each domain fact: categories, RECIST cut-offs and stop consequences."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from boneflare.classifiers import features, rules
from boneflare.simulator import observation, observed, vocabulary
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
