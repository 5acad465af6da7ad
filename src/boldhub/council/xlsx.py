"""Read an Excel workbook (.xlsx) export with python-calamine.

An .xlsx file is a zip archive of XML parts, so before anything parses it the archive is
checked against decompression bombs: a small file whose parts expand to gigabytes. The
sizes the archive declares are checked first (cheap), then every part is streamed through
Python's zipfile, which stops at the declared size and fails the CRC check when a part
holds more than it claims, so a lying header cannot get past either.

Cells become text the way a person reads them: dates (calamine returns a date for every
cell formatted as one, although Excel stores it as a serial number) as ISO dates, whole
numbers without ``.0`` (an NHS number stored as a number stays ten digits), TRUE/FALSE.
A date column left unformatted arrives as its serial number, which the date standardiser
reads too.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from python_calamine import CalamineSheet, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from boldhub.council.export import (
    MAX_COLUMNS,
    BadRow,
    Export,
    ReadOptions,
    column_names,
    drop_blank_rows,
    require_rows,
    unique_header,
)
from boldhub.errors import InputFileError, UserError

# Declared limits: the parts of a 1,048,576-row sheet (Excel's maximum) stay well inside.
MAX_UNCOMPRESSED = 4 * 1024**3
MAX_MEMBERS = 10_000
# Real sheets compress 5 to 30 times; a bomb compresses thousands of times.
MAX_RATIO = 200
RATIO_FLOOR = 16 * 1024**2  # parts smaller than this may compress as well as they like
CHUNK_ROWS = 50_000


def check_archive(path: Path) -> None:
    """Refuse a damaged, truncated or bomb-like archive before any XML is parsed."""
    damaged = InputFileError(
        f"{path}: is damaged or incomplete (not a whole .xlsx file); save it from Excel again"
    )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise _bomb(path)
            total = 0
            for info in infos:
                total += info.file_size
                if total > MAX_UNCOMPRESSED:
                    raise _bomb(path)
                if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(
                    info.compress_size, 1
                ):
                    raise _bomb(path)
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise InputFileError(
                    f"{path}: is a zip archive but not an Excel workbook; give the .xlsx export"
                )
            for info in infos:
                with zf.open(info) as part:
                    while part.read(1024**2):
                        pass
    except InputFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
        raise damaged from None
    except Exception:  # zlib.error and friends: any failure to inflate is damage
        raise damaged from None


def _bomb(path: Path) -> InputFileError:
    return InputFileError(
        f"{path}: expands to far more data than a workbook holds (a decompression bomb?); "
        "it was not opened: save the export again from the case management system"
    )


def cell_text(value: Any) -> str:
    """A cell as the text a person sees, with dates in ISO form."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return "" if value is None else str(value)


def sheet_names(path: Path) -> list[str]:
    """Visible worksheets, in workbook order."""
    check_archive(path)
    with _open(path) as wb:
        return _worksheets(wb)


def _open(path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception:  # calamine raises its own types, whose messages may quote cells
        raise InputFileError(
            f"{path}: is not a readable Excel workbook; open it in Excel and save it as .xlsx"
        ) from None


def _worksheets(wb: CalamineWorkbook) -> list[str]:
    return [
        m.name
        for m in wb.sheets_metadata
        if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible
    ]


def read_xlsx(path: Path, options: ReadOptions) -> Export:
    check_archive(path)
    with _open(path) as wb:
        sheets = _worksheets(wb)
        if not sheets:
            raise InputFileError(f"{path}: has no visible worksheet; unhide the data sheet")
        name, sheet = _choose_sheet(path, wb, sheets, options.sheet)
        try:
            rows: Iterator[list[Any]] = iter(sheet.iter_rows())
            header, header_row = _header(path, name, rows)
            n = len(header)
            names = column_names(n)
            chunks: list[pa.Table] = []
            numbers: list[np.ndarray] = []
            bad_rows: list[BadRow] = []
            next_number = header_row + 2  # spreadsheet rows count from 1
            while batch := list(islice(rows, CHUNK_ROWS)):
                columns: list[list[str]] = [[] for _ in range(n)]
                kept: list[int] = []
                for offset, row in enumerate(batch):
                    number = next_number + offset
                    if len(row) > n and any(cell_text(v).strip() for v in row[n:]):
                        # A value right of the last named column: nothing says what it is.
                        cells = [cell_text(v) for v in row]
                        while cells and not cells[-1].strip():
                            cells.pop()
                        bad_rows.append(
                            BadRow(number, cells, f"has a value beyond the {n} named columns")
                        )
                        continue
                    kept.append(number)
                    for i in range(n):
                        value = row[i] if i < len(row) else ""
                        columns[i].append(value if type(value) is str else cell_text(value))
                chunks.append(
                    pa.table({names[i]: pa.array(columns[i], pa.string()) for i in range(n)})
                )
                numbers.append(np.array(kept, dtype=np.int64))
                next_number += len(batch)
        except InputFileError:
            raise
        except Exception:
            raise InputFileError(
                f"{path}: sheet '{name}' could not be read; open it in Excel and save it again"
            ) from None
    schema = pa.schema([(c, pa.string()) for c in names])
    table = pa.concat_tables(chunks) if chunks else schema.empty_table()
    nums = np.concatenate(numbers) if numbers else np.zeros(0, dtype=np.int64)
    table, nums, blank = drop_blank_rows(table, nums.astype(np.int64))
    notes: tuple[str, ...] = ()
    if len(sheets) > 1 and options.sheet is None:
        notes = (f"The workbook has {len(sheets)} sheets; sheet '{name}' was read.",)
    export = Export(
        path=path,
        format="xlsx",
        header=header,
        table=table,
        row_numbers=pa.array(nums, pa.int64()),
        bad_rows=bad_rows,
        blank_rows=blank,
        sheet=name,
        sheets=tuple(sheets),
        files=(path,),
        notes=notes,
    )
    require_rows(export)
    return export


def _choose_sheet(
    path: Path, wb: CalamineWorkbook, sheets: list[str], wanted: str | None
) -> tuple[str, CalamineSheet]:
    """The sheet to read, loaded (calamine parses a whole sheet on each load: once only)."""
    if wanted is None:
        # The first sheet with a header and at least one row under it: a cover or notes
        # sheet added in front of the data should not stop the read.
        first: tuple[str, CalamineSheet] | None = None
        for name in sheets:
            sheet = wb.get_sheet_by_name(name)
            if sheet.start is None:
                continue
            if sheet.height >= 2:
                return name, sheet
            first = first or (name, sheet)
        if first is not None:
            return first
        raise InputFileError(f"{path}: every sheet is empty; export the data again")
    if wanted not in sheets and wanted.isdigit() and 1 <= int(wanted) <= len(sheets):
        wanted = sheets[int(wanted) - 1]
    if wanted in sheets:
        return wanted, wb.get_sheet_by_name(wanted)
    shown = ", ".join(f"'{s}'" for s in sheets[:10])
    raise UserError(f"{path}: has no sheet '{wanted}'; choose one of {shown}")


def _header(path: Path, sheet: str, rows: Iterator[list[Any]]) -> tuple[list[str], int]:
    """The first non-empty row and its 0-based index."""
    for index, row in enumerate(rows):
        cells = [cell_text(v) for v in row]
        if any(c.strip() for c in cells):
            while cells and not cells[-1].strip():
                cells.pop()
            if len(cells) > MAX_COLUMNS:
                raise InputFileError(
                    f"{path}: sheet '{sheet}' has more than {MAX_COLUMNS} columns; "
                    "export only the needed columns"
                )
            return unique_header(cells), index
    raise InputFileError(f"{path}: sheet '{sheet}' is empty; export the data again")
