"""Parquet parts written from a chunk's column arrays equal those from its DataFrames."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import seeds, simulation_overrides

from boneflare.simulator import RunSpec, load_scenario
from boneflare.simulator.engine.policy import BUILTIN_POLICIES
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.io import read_cohort, write_part
from boneflare.simulator.run import _follow_up, write_simulation
from boneflare.simulator.scenarios.loader import preset_names
from boneflare.simulator.table_schema import TABLES
from boneflare.simulator.tables import (
    cohort_columns,
    cohort_tables,
    decisions_columns,
    decisions_table,
)


@settings(
    deadline=None, max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(preset_names()),
    simulation_overrides(),
    seeds,
    st.integers(0, 5000),
    st.integers(1, 400),
)
def test_parts_from_arrays_are_the_parts_from_dataframes(
    tmp_path_factory, preset, overrides, seed, start, length
):
    followup = _follow_up(RunSpec(load_scenario(preset, overrides), seed), start, start + length)
    from_frames, from_arrays = tmp_path_factory.mktemp("frames"), tmp_path_factory.mktemp("arrays")
    rows_frames = write_part(cohort_tables(followup), from_frames, 0)
    columns = {**cohort_columns(followup), "decisions": decisions_table(followup)}
    rows_arrays = write_part(columns, from_arrays, 0)
    assert rows_frames == rows_arrays
    for folder in sorted(from_frames.iterdir()):
        part = next(folder.iterdir()).relative_to(from_frames)
        assert filecmp.cmp(from_frames / part, from_arrays / part, shallow=False), part


@pytest.mark.parametrize("closed_loop", [False, True])
def test_a_policys_decisions_from_arrays_are_those_from_a_dataframe(tmp_path: Path, closed_loop):
    policy = BUILTIN_POLICIES["always_stop"]()
    spec = RunSpec(load_scenario("paper"), 4, policy=policy, closed_loop=closed_loop)
    followup = _follow_up(spec, 0, 400)
    assert followup.decisions.rows  # the policy was called
    from_frame, from_arrays = tmp_path / "frame", tmp_path / "arrays"
    from_frame.mkdir(), from_arrays.mkdir()
    write_part({"decisions": decisions_table(followup)}, from_frame, 0)
    write_part({"decisions": decisions_columns(followup)}, from_arrays, 0)
    part = Path("decisions.parquet") / next((from_frame / "decisions.parquet").iterdir()).name
    assert filecmp.cmp(from_frame / part, from_arrays / part, shallow=False)


def test_a_streamed_run_reads_back_as_the_cohort_in_memory(tmp_path: Path):
    spec = RunSpec(load_scenario("paper"), 4)
    write_simulation(spec, 2500, tmp_path / "run", workers=2, chunk_size=600, progress=False)
    back = read_cohort(tmp_path / "run")
    alone = cohort_tables(_follow_up(spec, 0, 2500))
    for name, frame in back.items():
        expected = getattr(alone, name)
        assert frame.equals(expected), name
        assert list(frame.dtypes) == list(expected.dtypes), name


def test_columns_that_cannot_be_missing_are_stored_as_required(tmp_path: Path):
    spec = RunSpec(load_scenario("paper"), 4)
    followup = _follow_up(spec, 0, 300)
    write_part({**cohort_columns(followup), "decisions": decisions_table(followup)}, tmp_path, 0)
    for name, columns in TABLES.items():
        schema = pq.read_schema(next((tmp_path / f"{name}.parquet").iterdir()))
        for column, declared in columns.items():
            assert schema.field(column).nullable == declared.missing, (name, column)
    assert not pq.read_schema(next((tmp_path / "labs.parquet").iterdir())).field("value").nullable
    assert pq.read_schema(next((tmp_path / "truth.parquet").iterdir())).field("stop_day").nullable


def test_a_missing_value_where_none_is_allowed_is_a_clear_error(tmp_path: Path):
    followup = _follow_up(RunSpec(load_scenario("paper"), 4), 0, 50)
    columns = cohort_columns(followup)
    labs = dict(columns["labs"])
    labs["value"] = np.where(np.arange(len(labs["value"])) == 3, np.nan, labs["value"])
    with pytest.raises(BoneflareError, match="table labs: column value holds 1 missing value"):
        write_part({"labs": labs}, tmp_path, 0)


def test_only_identifier_columns_carry_statistics(tmp_path: Path):
    """Parts are patient ranges: id statistics let a filter skip parts; day ones cannot."""
    followup = _follow_up(RunSpec(load_scenario("paper"), 4), 0, 300)
    write_part({**cohort_columns(followup), "decisions": decisions_table(followup)}, tmp_path, 0)
    for name in ("labs", "scans", "episodes"):
        meta = pq.ParquetFile(next((tmp_path / f"{name}.parquet").iterdir())).metadata
        chunk = meta.row_group(0)
        with_stats = {
            chunk.column(i).path_in_schema
            for i in range(chunk.num_columns)
            if chunk.column(i).is_stats_set
        }
        assert with_stats == {"patient_id", "episode_id"} & set(TABLES[name]), name
