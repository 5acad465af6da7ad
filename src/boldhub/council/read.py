"""Read a council or central-body export into rows of text.

Foundation scope: delimited text (CSV) in UTF-8 (with or without BOM) or Windows-1252.
Every failure is an InputFileError that names the file and says what to do.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from boldhub.errors import InputFileError

MAX_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Export:
    path: Path
    header: list[str]
    rows: list[list[str]]
    encoding: str
    delimiter: str


def read_export(path: Path) -> Export:
    if not path.exists():
        raise InputFileError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder; give the export file itself")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"{path}: file is empty; export the data again")
    if size > MAX_BYTES:
        raise InputFileError(f"{path}: file is larger than 2 GiB; split the export by quarter")
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise InputFileError(
            f"{path}: looks like a binary file, not a CSV export; save it as CSV (comma-separated)"
        )
    text, encoding = _decode(data)
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        all_rows = list(reader)
    except csv.Error as exc:
        raise InputFileError(f"{path}: not a well-formed CSV file ({exc}); re-export it") from None
    if not all_rows or not any(cell.strip() for cell in all_rows[0]):
        raise InputFileError(f"{path}: has no header row; export it with column names")
    header = [h.strip() for h in all_rows[0]]
    rows = [r for r in all_rows[1:] if any(cell.strip() for cell in r)]
    if not rows:
        raise InputFileError(f"{path}: has a header but no data rows; export the data again")
    return Export(path=path, header=header, rows=rows, encoding=encoding, delimiter=delimiter)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Windows-1252 is what Excel on a council PC writes; it decodes any byte sequence
        # except five unassigned bytes, for which Latin-1 is the honest fallback.
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "|", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","
