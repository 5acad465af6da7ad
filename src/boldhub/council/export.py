"""What every reader returns, and the helpers the readers share.

An :class:`Export` is the header, every data row as text in an Arrow table (one string
column per header cell), each row's number as a spreadsheet would show it, and the rows that
could not be lined up with the header (``bad_rows``), which prepare quarantines. The readers
(:mod:`boldhub.council.delimited`, :mod:`boldhub.council.xlsx`,
:mod:`boldhub.council.hclic_xml`) build it with the helpers here; :mod:`boldhub.council.read`
picks the reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from boldhub.errors import InputFileError

MAX_BYTES = 2 * 1024**3
# The first line must end within this: an export is one row per line, so a first line
# this long is a file that is not an export (or one that lost its line breaks).
MAX_FIRST_LINE = 1024**2
MAX_COLUMNS = 2000

DELIMITERS: dict[str, str] = {",": "comma", ";": "semicolon", "|": "pipe", "\t": "tab"}
ENCODING_NAMES: dict[str, str] = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with byte-order mark",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
}


@dataclass(frozen=True)
class ReadOptions:
    """Overrides for what is otherwise detected. ``None`` means detect.

    ``encoding`` and ``delimiter`` apply to CSV, ``sheet`` (a name or a 1-based number) to
    workbooks, ``join_key`` (the column holding the case id in both files) to H-CLIC XML.
    """

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    join_key: str | None = None


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be lined up with the header; prepare quarantines it."""

    row_number: int
    cells: list[str]
    reason: str


@dataclass(frozen=True)
class Export:
    """An export as text cells. Column ``i`` of ``table`` holds the cells under ``header[i]``."""

    path: Path
    format: str  # "csv", "xlsx" or "xml"
    header: list[str]
    table: pa.Table
    row_numbers: pa.Array
    bad_rows: list[BadRow] = field(default_factory=list)
    blank_rows: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        """Data rows: every row that will be accepted or quarantined."""
        return int(self.table.num_rows) + len(self.bad_rows)

    def column(self, index: int) -> pa.ChunkedArray:
        return self.table.column(index)

    def samples(self, index: int, limit: int = 3) -> list[str]:
        """The first few distinct non-empty cells of a column (for choosing a mapping)."""
        found: list[str] = []
        # The first few thousand rows are plenty, and cheap even for a huge export.
        for value in self.table.column(index).slice(0, 5000).to_pylist():
            text = (value or "").strip()
            if text and text not in found:
                found.append(text)
                if len(found) >= limit:
                    break
        return found

    def describe(self) -> str:
        """How the file was read, in one plain-English phrase."""
        if self.format == "csv":
            enc = ENCODING_NAMES.get(self.encoding or "", self.encoding or "")
            return f"CSV, {enc}, {DELIMITERS.get(self.delimiter or '', 'custom')}-delimited"
        if self.format == "xlsx":
            return f"Excel workbook, sheet '{self.sheet}'"
        return "H-CLIC-style XML" + (
            " (case and personal data joined)" if len(self.files) > 1 else ""
        )


def column_names(n: int) -> list[str]:
    """Internal column names: headers can repeat or be empty, positions cannot."""
    return [f"c{i}" for i in range(n)]


def check_file(path: Path) -> bytes:
    """The file's first bytes (up to ``MAX_FIRST_LINE``), once it is known to be readable."""
    if not path.exists():
        raise InputFileError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder; give the export file itself")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"{path}: file is empty; export the data again")
    if size > MAX_BYTES:
        raise InputFileError(f"{path}: file is larger than 2 GiB; split the export by quarter")
    try:
        with path.open("rb") as fh:
            return fh.read(MAX_FIRST_LINE)
    except OSError as exc:
        raise InputFileError(
            f"{path}: cannot be read ({exc.strerror}); check its permissions"
        ) from None


def require_rows(export: Export) -> None:
    if export.rows == 0:
        raise InputFileError(f"{export.path}: has a header but no data rows; export the data again")


def unique_header(header: Iterable[str]) -> list[str]:
    """Trimmed names, made unique (``Name (2)``), with empty ones named by position."""
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header):
        base = " ".join(str(raw).split()) or f"(column {i + 1})"
        name, k = base, 2
        while name.lower() in seen:
            name, k = f"{base} ({k})", k + 1
        seen.add(name.lower())
        out.append(name)
    return out


def drop_blank_rows(table: pa.Table, numbers: np.ndarray) -> tuple[pa.Table, np.ndarray, int]:
    """Remove rows whose every cell is empty or spaces; return how many there were.

    Cheap first: only rows whose cells are all short can be blank, and those are few.
    """
    if table.num_rows == 0 or table.num_columns == 0:
        return table, numbers, 0
    short = None
    for col in table.columns:
        cond = pc.less_equal(pc.binary_length(col), 8)
        short = cond if short is None else pc.and_(short, cond)
    assert short is not None
    candidates = np.flatnonzero(short.to_numpy(zero_copy_only=False))
    if len(candidates) == 0:
        return table, numbers, 0
    sub = table.take(pa.array(candidates))
    blank_mask = np.ones(len(candidates), dtype=bool)
    for col in sub.columns:
        blank_mask &= np.array([not (v or "").strip() for v in col.to_pylist()], dtype=bool)
    blank_idx = candidates[blank_mask]
    if len(blank_idx) == 0:
        return table, numbers, 0
    keep = np.ones(table.num_rows, dtype=bool)
    keep[blank_idx] = False
    return table.filter(pa.array(keep)), numbers[keep], len(blank_idx)
