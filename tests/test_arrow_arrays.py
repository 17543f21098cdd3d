"""Arrow arrays from NumPy buffers equal pyarrow's conversion; streamed runs need no pandas."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from boneflare.simulator import arrow_arrays
from boneflare.simulator.errors import BoneflareError
from boneflare.simulator.io import arrow_schema, read_cohort
from boneflare.simulator.table_schema import TABLES, empty_table

NUMERIC = {
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
}


@given(
    st.sampled_from(sorted(NUMERIC)).flatmap(
        lambda d: st.tuples(st.just(d), hnp.arrays(d, st.integers(0, 70)))
    )
)
def test_numbers_equal_pyarrows_conversion_nan_as_null(case):
    dtype, values = case
    kind = NUMERIC[dtype]
    made = arrow_arrays.numbers(values, kind)
    made.validate(full=True)
    assert made.equals(pa.array(values, type=kind, from_pandas=True))
    assert made.null_count == (int(np.isnan(values).sum()) if dtype == "float64" else 0)


@given(st.lists(st.text(max_size=6), max_size=20), st.booleans())
def test_strings_equal_pyarrows_conversion(texts, large):
    kind = pa.large_string() if large else pa.string()
    made = arrow_arrays.strings(texts, kind)
    made.validate(full=True)
    assert made.equals(pa.array(texts, type=kind))


@given(st.lists(st.integers(0, 2), max_size=40))
def test_dictionary_equals_pyarrows_conversion(codes):
    names = ("continue", "stop", "defer")
    kind = pa.dictionary(pa.int8(), pa.large_string())
    made = arrow_arrays.dictionary(np.array(codes, dtype=np.int8), names, kind)
    made.validate(full=True)
    expected = pa.DictionaryArray.from_arrays(
        pa.array(codes, type=pa.int8()), pa.array(names, type=pa.large_string())
    )
    assert made.equals(expected)


def test_values_of_another_dtype_are_refused_not_converted():
    with pytest.raises(BoneflareError, match="a int16 column was given int64 values"):
        arrow_arrays.numbers(np.array([1, 70_000]), pa.int16())


@pytest.mark.parametrize("name", sorted(TABLES))
def test_schema_is_the_one_pandas_gives_the_table(name):
    from_pandas = pa.Schema.from_pandas(empty_table(name), preserve_index=False)
    ours = arrow_schema(name)
    assert ours.names == from_pandas.names
    assert [f.type for f in ours] == [f.type for f in from_pandas]
    assert [f.nullable for f in ours] == [spec.missing for spec in TABLES[name].values()]


def test_a_streamed_run_never_imports_pandas(tmp_path: Path):
    """Two workers write three chunks with no attempt to import pandas; they read back whole."""
    program = textwrap.dedent(
        """
        import sys

        class NoPandas:
            def find_spec(self, name, path=None, target=None):
                if name == "pandas" or name.startswith("pandas."):
                    # pyarrow tries pandas quietly and goes on without it: tell the test
                    print("pandas import attempted", file=sys.stderr, flush=True)
                    raise ImportError("pandas imported by a streamed run")

        sys.meta_path.insert(0, NoPandas())
        from boneflare.benchmarks.cli import main

        sys.exit(main(sys.argv[1:]))
        """
    )
    out = tmp_path / "run"
    args = ["--patients", "35000", "--seed", "3", "--workers", "2", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", program, "simulate", *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "pandas import attempted" not in done.stderr
    back = read_cohort(out)
    assert len(back.patients) == 35_000
    assert isinstance(back.labs, pd.DataFrame) and len(back.labs) > 0
