"""Arrow arrays made straight from NumPy buffers, for the tables a worker writes.

``pyarrow.array`` converts a NumPy array through code that imports pandas (to recognise
pandas' own array types), and importing pandas is most of a streamed run's start-up.
These functions hand the NumPy buffers to ``pyarrow.Array.from_buffers`` instead: no
conversion code runs, and numbers are not copied. What they give equals what
``pyarrow.array(values, type=..., from_pandas=True)`` gives, NaN stored as null
included (``tests/test_arrow_arrays.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from boneflare.simulator.errors import BoneflareError


def _buffer(values: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.ascontiguousarray(values))


def _bits(flags: np.ndarray) -> pa.Buffer:
    """A boolean array as Arrow's bitmap: one bit per value, least significant first."""
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def strings(texts: Sequence[str], kind: pa.DataType) -> pa.Array:
    """An Arrow string or large string array of ``texts`` (none missing)."""
    encoded = [text.encode() for text in texts]
    offset_type = np.int64 if pa.types.is_large_string(kind) else np.int32
    offsets = np.zeros(len(encoded) + 1, dtype=offset_type)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        kind, len(encoded), [None, _buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


def numbers(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    """An Arrow array of NumPy ``values`` of Arrow type ``kind``; NaN becomes null.

    Raises
    ------
    BoneflareError
        If ``values`` are not of the NumPy dtype of ``kind`` (a column built with the
        wrong dtype: converting it could lose values silently).

    """
    values = np.asarray(values)
    dtype = np.dtype(kind.to_pandas_dtype()) if not pa.types.is_boolean(kind) else np.dtype(bool)
    if values.dtype != dtype:
        raise BoneflareError(f"a {kind} column was given {values.dtype} values")
    if pa.types.is_boolean(kind):
        return pa.Array.from_buffers(kind, values.size, [None, _bits(values)])
    validity, nulls = None, 0
    if values.dtype.kind == "f":
        missing = np.isnan(values)
        nulls = int(missing.sum())
        if nulls:
            validity = _bits(~missing)
    return pa.Array.from_buffers(kind, values.size, [validity, _buffer(values)], null_count=nulls)


def dictionary(codes: np.ndarray, names: tuple[str, ...], kind: pa.DictionaryType) -> pa.Array:
    """A dictionary-encoded Arrow array: integer ``codes`` into category ``names``."""
    indices = numbers(np.asarray(codes, dtype=kind.index_type.to_pandas_dtype()), kind.index_type)
    return pa.DictionaryArray.from_arrays(indices, _categories(names, kind.value_type))


@functools.cache
def _categories(names: tuple[str, ...], kind: pa.DataType) -> pa.Array:
    """The dictionary of a categorical column, built once per process (arrays are immutable)."""
    return strings(names, kind)
