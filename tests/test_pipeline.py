"""Chunks of a cohort in memory and on disk: the same tables whatever the workers or chunks.

In memory, chunks are copied into preallocated columns as they arrive
(:mod:`boneflare.simulator.assembly`); on disk, each worker writes its chunk's Parquet
part files (:func:`boneflare.simulator.run.write_simulation`). Both must give exactly
the tables of the chunks stacked one after the other.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from boneflare.simulator import assembly as assembly_mod
from boneflare.simulator.io import PART, prepare_folder, read_cohort, write_cohort
from boneflare.simulator.run import RunSpec, assemble, iter_chunks, simulate, write_simulation
from boneflare.simulator.tables import CohortTables


def assert_tables_identical(got: CohortTables, want: CohortTables) -> None:
    """Every table equal value for value, with the same dtypes and index."""
    for name, frame in want.items():
        pd.testing.assert_frame_equal(getattr(got, name), frame, check_exact=True, obj=name)


@pytest.fixture(scope="module")
def spec(paper):
    return RunSpec(paper, seed=21)


@pytest.fixture(scope="module")
def stacked(spec):
    """The reference: 700 patients as separate chunks of 100, stacked by concatenation."""
    return CohortTables.concat(list(iter_chunks(spec, 700, chunk_size=100)))


@given(chunk=st.integers(min_value=37, max_value=700), workers=st.sampled_from([1, 2]))
def test_assembled_tables_equal_stacked_chunks(spec, stacked, chunk, workers):
    assert_tables_identical(assemble(spec, 700, chunk_size=chunk, workers=workers), stacked)


def test_columns_grow_when_later_chunks_are_denser(spec, stacked, monkeypatch):
    monkeypatch.setattr(assembly_mod, "MARGIN", 0.05)  # far too little room: must grow
    assert_tables_identical(assemble(spec, 700, chunk_size=64), stacked)


def test_a_policy_table_is_assembled_too(paper):
    from boneflare.simulator.engine.policy import BUILTIN_POLICIES

    policy = BUILTIN_POLICIES["always_stop"]()
    one = simulate(paper, 300, seed=2, policy=policy, closed_loop=True)
    many = simulate(paper, 300, seed=2, policy=policy, closed_loop=True, chunk_size=70)
    assert len(one.decisions) > 0
    assert_tables_identical(many, one)


@pytest.mark.parametrize(("workers", "chunk"), [(1, 700), (1, 128), (2, 128)])
def test_streamed_parts_read_back_as_the_cohort(spec, stacked, tmp_path, workers, chunk):
    out = tmp_path / "cohort"
    rows = write_simulation(spec, 700, out, workers=workers, chunk_size=chunk)
    assert rows == {name: len(frame) for name, frame in stacked.items()}
    parts = sorted((out / "labs.parquet").iterdir())
    assert [p.name for p in parts] == [PART.format(k) for k in range(-(-700 // chunk))]
    assert_tables_identical(read_cohort(out), stacked)
    info = json.loads((out / "provenance.json").read_text())
    assert info["tables"]["labs"] == {"file": "labs.parquet", "rows": len(stacked.labs)}


def test_part_files_do_not_depend_on_the_workers(spec, tmp_path):
    for workers in (1, 2):
        write_simulation(spec, 500, tmp_path / str(workers), workers=workers, chunk_size=128)
    for name in CohortTables.names():
        one, two = tmp_path / "1" / f"{name}.parquet", tmp_path / "2" / f"{name}.parquet"
        assert [p.read_bytes() for p in sorted(one.iterdir())] == [
            p.read_bytes() for p in sorted(two.iterdir())
        ], name


def test_only_categorical_columns_are_dictionary_encoded(spec, tmp_path):
    write_simulation(spec, 200, tmp_path / "c")
    meta = pq.ParquetFile(tmp_path / "c" / "labs.parquet" / PART.format(0)).metadata
    columns = {meta.schema.column(i).name: meta.row_group(0).column(i) for i in range(5)}
    assert columns["analyte"].has_dictionary_page and columns["unit"].has_dictionary_page
    assert not columns["value"].has_dictionary_page and not columns["day"].has_dictionary_page
    assert columns["patient_id"].is_stats_set and not columns["value"].is_stats_set


def test_csv_is_written_in_order_with_workers(spec, stacked, tmp_path):
    write_simulation(spec, 700, tmp_path / "c", fmt="csv", workers=2, chunk_size=128)
    back = read_cohort(tmp_path / "c")
    pd.testing.assert_series_equal(back.labs["value"], stacked.labs["value"])
    assert back.scans["patient_id"].is_monotonic_increasing


def test_a_folder_of_single_table_files_still_reads(spec, stacked, tmp_path):
    """Cohorts written before part files (one ``<table>.parquet`` file each) read back."""
    out = tmp_path / "old"
    write_cohort([stacked], out, spec.provenance(700))
    for name, frame in stacked.items():
        folder = out / f"{name}.parquet"
        for part in folder.iterdir():
            part.unlink()
        folder.rmdir()
        frame.to_parquet(out / f"{name}.parquet", index=False)
    assert_tables_identical(read_cohort(out), stacked)


def test_force_replaces_part_folders_and_keeps_other_files(spec, tmp_path):
    out = tmp_path / "c"
    write_simulation(spec, 300, out, chunk_size=100)
    (out / "notes.txt").write_text("mine")
    prepare_folder(out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
