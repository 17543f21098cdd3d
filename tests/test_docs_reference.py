"""The reference pages kept in the repository match the code they are generated from.

``docs/tables.md`` and ``docs/scenarios.md`` hold their generated blocks (columns,
presets, parameters), so the README's links read complete without building the site.
After changing a table schema, a preset or a parameter, refresh them with
``python docs/_ext/refgen.py --write`` and review the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import refgen  # noqa: E402


@pytest.mark.parametrize(("name", "page"), sorted(refgen.COMMITTED.items()))
def test_committed_reference_page_is_up_to_date(name, page):
    text = (DOCS / page).read_text(encoding="utf-8")
    assert refgen.GENERATED_NOTE in text, f"docs/{page}: run python docs/_ext/refgen.py --write"
    assert refgen.with_block(text, name) == text, (
        f"docs/{page} is stale: run python docs/_ext/refgen.py --write"
    )


def test_a_stale_page_is_seen():
    text = (DOCS / "tables.md").read_text(encoding="utf-8")
    stale = text.replace("| `patient_id` |", "| `patient_number` |", 1)
    assert stale != text
    assert refgen.with_block(stale, "tables") == text


def test_the_readme_links_only_pages_that_exist():
    import re

    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs/)[^)#\s]+)", readme)
    assert links
    assert [link for link in links if not (DOCS.parent / link).is_file()] == []
