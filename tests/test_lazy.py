"""A lazy module stand-in imports its module at the first attribute use, and not before."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from boneflare.simulator.lazy import lazy_module


@pytest.fixture
def fresh_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "boneflare_lazy_probe"
    (tmp_path / f"{name}.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_the_module_is_imported_at_the_first_attribute_use(fresh_module: str):
    stand_in = lazy_module(fresh_module)
    assert fresh_module not in sys.modules
    assert "not imported yet" in repr(stand_in)
    assert stand_in.VALUE == 42
    assert fresh_module in sys.modules
    assert "imported" in repr(stand_in)
    with pytest.raises(AttributeError):
        _ = stand_in.MISSING


def test_a_copy_neither_recurses_nor_imports(fresh_module: str):
    duplicate = copy.copy(lazy_module(fresh_module))
    assert fresh_module not in sys.modules
    assert duplicate.VALUE == 42
    bare = object.__new__(type(duplicate))  # as unpickling makes it, without __init__
    with pytest.raises(AttributeError):
        _ = bare.VALUE
