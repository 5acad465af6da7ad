"""What goes into a linkage run: each source's encodings, read into one Arrow table.

Linkage reads encodings only (record key and keyed encodings); attributes never enter it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from boldhub import arrowbuf

BLOOM_COLUMNS = ("fn_bf", "sn_bf")
PC_SCOPE_COPY = "pc_scope_tok"


@dataclass(frozen=True)
class LinkInput:
    source: str
    encodings: Path


def load_records(inputs: list[LinkInput]) -> tuple[pa.Table, int]:
    """Every input's encodings in one table with its ``source``, and each Bloom filter
    split into 64-bit words (``fn_bf_w0`` ...). Returns the table and the words per filter."""
    tables = []
    for item in inputs:
        t = pq.read_table(item.encodings)
        t = t.append_column("source", pa.array([item.source] * t.num_rows, pa.string()))
        dataset = item.source.split(":", 1)[0]
        tables.append(t.append_column("dataset", pa.array([dataset] * t.num_rows, pa.string())))
    table = pa.concat_tables(tables, promote_options="default") if tables else pa.table({})
    if "pc_tok" in table.column_names:
        # The postcode scope again, under the name the full_name comparison reads
        # (model.PC_SCOPE_COPY says why).
        table = table.append_column(PC_SCOPE_COPY, table.column("pc_tok"))
    words = 0
    for col in BLOOM_COLUMNS:
        arrays, words = filter_words(table.column(col))
        index = table.schema.get_field_index(col)
        table = table.remove_column(index)
        for i, arr in enumerate(arrays):
            table = table.append_column(f"{col}_w{i}", arr)
    return table, words


def filter_words(column: pa.ChunkedArray) -> tuple[list[pa.Array], int]:
    """Split equal-length binary filters into 64-bit words (nulls stay null)."""
    arr = arrowbuf.as_array(column)
    lengths = pc.binary_length(arr).drop_null()
    nbytes = int(pc.max(lengths).as_py() or 8) if len(lengths) else 8
    if len(lengths) and int(pc.min(lengths).as_py()) != nbytes:
        raise ValueError("Bloom filters of different lengths in one run")
    if nbytes % 8:
        raise ValueError(f"Bloom filters of {nbytes * 8} bits are not whole 64-bit words")
    words = nbytes // 8
    valid = pc.is_valid(arr)
    filled = pc.fill_null(arr, pa.scalar(b"\0" * nbytes, pa.binary())).cast(pa.binary())
    matrix = arrowbuf.binary_matrix(filled, nbytes).view("<i8")
    mask = ~np.asarray(valid.to_numpy(zero_copy_only=False), dtype=bool)
    out = [pa.array(np.ascontiguousarray(matrix[:, i]), mask=mask) for i in range(words)]
    return out, words


def aligned(*tables: pa.Table) -> list[pa.Table]:
    """The tables with one schema, columns in one order (a column a table lacks is null
    there), so that an engine can stack them with a plain ``UNION ALL``."""
    schema = pa.unify_schemas([t.schema for t in tables], promote_options="permissive")
    out = []
    for t in tables:
        columns = [
            t.column(f.name).cast(f.type)
            if f.name in t.column_names
            else pa.nulls(t.num_rows, f.type)
            for f in schema
        ]
        out.append(pa.Table.from_arrays(columns, schema=schema))
    return out
