"""Arrow arrays built from, and read as, NumPy buffers.

The encoder and the linkage kernels handle millions of fixed-width values (hex tokens,
filters, person keys); going through Python objects per value would cost more than the
hashing itself. These helpers are the few places that know Arrow's buffer layout
(validity bitmap, 32-bit offsets, data), so that the rest of the code does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Ints = npt.NDArray[np.int64]


def as_array(values: Any) -> pa.Array:
    """One contiguous array of ``values`` (an Array, a ChunkedArray or a list of text)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, pa.string())


def indices(values: pa.Array | pa.ChunkedArray) -> Ints:
    """Integer positions (dictionary indices, index_in results) as int64, -1 for null."""
    if isinstance(values, pa.DictionaryArray):
        values = values.indices
    out: Ints = np.asarray(pc.fill_null(values, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return out


def offsets(arr: pa.Array) -> npt.NDArray[np.int32]:
    """A string or binary array's ``len(arr) + 1`` value offsets (slices respected)."""
    return np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]


def data(arr: pa.Array) -> npt.NDArray[np.uint8]:
    """A string or binary array's data buffer as bytes (empty when it has none)."""
    buf = arr.buffers()[2]
    return np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, np.uint8)


def byte_grid(values: pa.Array, width: int | None = None) -> tuple[npt.NDArray[np.uint8], Ints]:
    """The UTF-8 bytes of a string array's values as the rows of a zero-padded matrix
    ``width`` bytes wide (default: as wide as the longest value), and the values' byte
    lengths; a value longer than ``width`` leaves its row zero."""
    arr = values.cast(pa.string())
    n = len(arr)
    if n == 0:
        return np.zeros((0, width or 1), np.uint8), np.zeros(0, np.int64)
    starts = offsets(arr).astype(np.int64)
    raw = data(arr)
    lengths = np.diff(starts)
    if width is None:
        width = max(int(lengths.max(initial=0)), 1)
    lens = np.where(lengths <= width, lengths, 0)
    rows = np.repeat(np.arange(n), lens)
    within = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    out = np.zeros((n, width), np.uint8)
    out[rows, within] = raw[np.repeat(starts[:-1], lens) + within]
    return out, lengths


def fixed_width(
    values: bytes | npt.NDArray[Any],
    n: int,
    width: int,
    kind: pa.DataType | None = None,
    valid: npt.NDArray[np.bool_] | None = None,
) -> pa.Array:
    """An Arrow string (or ``kind``: binary) array of ``n`` values of ``width`` bytes each,
    laid end to end in ``values``; null where ``valid`` is false."""
    starts = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    raw = values if isinstance(values, bytes) else np.ascontiguousarray(values).tobytes()
    if valid is None:
        bitmap = None
        nulls = 0
    else:
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
        nulls = int(n - valid.sum())
    return pa.Array.from_buffers(
        kind or pa.string(),
        n,
        [bitmap, pa.py_buffer(starts.tobytes()), pa.py_buffer(raw)],
        null_count=nulls,
    )


def binary_matrix(arr: pa.Array, nbytes: int) -> npt.NDArray[np.uint8]:
    """Equal-length binary values (``nbytes`` each, no nulls) as the rows of a matrix,
    without a copy."""
    starts = offsets(arr)
    raw = data(arr)[starts[0] : starts[-1]]
    return raw.reshape(len(arr), nbytes)
