"""CSV writing that spreadsheet programs cannot turn into formulas.

A cell starting with =, +, -, @ (or a tab/carriage return) is run as a formula by Excel
and LibreOffice ("CSV injection"); every CSV the project writes goes through here, and such
cells are prefixed with a single quote, as OWASP recommends.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_TRIGGERS):
        return "'" + text
    return text


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write rows with every cell escaped; returns the number of data rows written."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([escape_cell(h) for h in header])
        for row in rows:
            writer.writerow([escape_cell(v) for v in row])
            n += 1
    return n
