"""Read a delimited-text (CSV) export.

UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's "Unicode text"),
Windows-1252 or Latin-1; comma, semicolon, pipe or tab delimited. The encoding and
delimiter are detected and can be overridden. pyarrow parses the file; the rows it cannot
line up with the header are split again here, and either repaired (trailing empty cells) or
kept as bad rows for prepare to quarantine.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from boldhub.council.export import (
    DELIMITERS,
    MAX_COLUMNS,
    BadRow,
    Export,
    ReadOptions,
    check_file,
    column_names,
    drop_blank_rows,
    require_rows,
    unique_header,
)
from boldhub.errors import InputFileError, UserError

# pyarrow parses in blocks; a single row longer than a block cannot be parsed.
BLOCK_BYTES = 16 * 1024**2
MAX_BAD_ROW_CELLS = MAX_COLUMNS
# Bytes that Windows-1252 leaves undefined: a file holding them is Latin-1.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_C1_BYTES = bytes(range(0x80, 0xA0))
_NOT_C1 = bytes(b for b in range(256) if b not in _C1_BYTES)


def detect_encoding(path: Path, head: bytes) -> str:
    """utf-8-sig, utf-16, utf-8, cp1252 or latin-1: the encodings council systems write.

    A byte-order mark settles it. Otherwise the whole file is checked as UTF-8 (strictly,
    in chunks); a file that is not UTF-8 is Windows-1252, what Excel on a council PC
    writes, unless it holds one of the five bytes Windows-1252 leaves undefined, which
    only Latin-1 gives a meaning to. (Both agree on every other byte.)
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    c1: set[int] = set()
    with path.open("rb") as fh:
        while chunk := fh.read(BLOCK_BYTES):
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            c1.update(chunk.translate(None, _NOT_C1))
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if utf8:
        return "utf-8"
    return "latin-1" if c1 & _CP1252_UNDEFINED else "cp1252"


def _check_encoding_name(path: Path, encoding: str) -> str:
    unknown = UserError(
        f"{path}: unknown encoding {encoding!r}; use utf-8, utf-8-sig, utf-16, cp1252 or latin-1"
    )
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise unknown from None
    # Codecs such as base64, zlib or rot13 turn bytes into bytes (or text into text): no
    # export was saved in one, and decoding with them fails in ways that are not messages.
    if not getattr(info, "_is_text_encoding", True):
        raise unknown
    name = info.name
    return {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "iso8859-1": "latin-1"}.get(name, name)


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    return "\x00" in text or controls > max(2, len(text) // 100)


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The candidate that splits the header into most columns, consistently across rows."""
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delim))
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows[1:] if len(r) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(path: Path, options: ReadOptions, head: bytes | None = None) -> Export:
    if head is None:
        head = check_file(path)
    if options.encoding:
        encoding = _check_encoding_name(path, options.encoding)
    else:
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise _binary(path)
        encoding = detect_encoding(path, head)
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(head)
    except UnicodeError:  # UnicodeDecodeError, and the "undefined" codec's own refusal
        raise InputFileError(
            f"{path}: is not valid {encoding} text; leave the encoding to be detected, or "
            "give the one the export was saved in"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if _looks_binary(text[:65536]):
        raise _binary(path)

    lines = text.splitlines(keepends=True)
    if path.stat().st_size > len(head) and len(lines) <= 1:
        raise InputFileError(
            f"{path}: its first line is longer than 1 MiB (the file has no line breaks); "
            "it is not a one-row-per-line export: export it again as CSV"
        )
    if len(lines) > 1 and path.stat().st_size > len(head):
        lines = lines[:-1]  # the head may end part-way through a line
    leading_blank = 0
    for line in lines:
        if line.strip():
            break
        leading_blank += 1
    content = lines[leading_blank:]
    if not content:
        raise InputFileError(f"{path}: has no header row; export it with column names")
    delimiter = options.delimiter or sniff_delimiter(content[:50])
    # pyarrow splits on one ASCII character, and a line break or NUL cannot separate cells.
    if len(delimiter) != 1 or not (
        delimiter.isascii() and (delimiter.isprintable() or delimiter == "\t")
    ):
        raise UserError(f"{path}: the delimiter must be one character, such as , ; | or tab")
    header = next(csv.reader(content[:50], delimiter=delimiter), [])
    if not any(h.strip() for h in header):
        raise InputFileError(f"{path}: has no header row; export it with column names")
    if len(header) > MAX_COLUMNS:
        raise InputFileError(
            f"{path}: its header has {len(header)} columns (more than {MAX_COLUMNS}); "
            "check the delimiter, or export only the needed columns"
        )
    return _parse_csv(path, encoding, delimiter, header, leading_blank)


def _binary(path: Path) -> InputFileError:
    return InputFileError(
        f"{path}: looks like a binary file, not a CSV export; save it as CSV (comma-separated) "
        "or Excel (.xlsx)"
    )


def _parse_csv(path: Path, encoding: str, delimiter: str, header: list[str], skip: int) -> Export:
    n = len(header)
    names = column_names(n)
    table, invalid = _read_table(path, encoding, delimiter, names, skip)
    table, numbers = _number_rows(path, table, invalid, skip)
    bad_rows, repaired, blank = _sort_invalid(invalid, delimiter, n)
    if repaired:
        table, numbers = _merge_repaired(table, numbers, repaired, names)
    if table.num_rows and _runs_to_end(path, table):
        table, numbers, runaway = _cut_last_row(table, numbers)
        bad_rows.append(runaway)
    table, numbers, more_blank = drop_blank_rows(table, numbers)
    blank += more_blank
    export = Export(
        path=path,
        format="csv",
        header=unique_header(header),
        table=table,
        row_numbers=pa.array(numbers, pa.int64()),
        bad_rows=bad_rows,
        blank_rows=blank,
        encoding=encoding,
        delimiter=delimiter,
        files=(path,),
    )
    require_rows(export)
    return export


def _read_table(
    path: Path, encoding: str, delimiter: str, names: list[str], skip: int
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Every line from the header on as text cells, and the lines pyarrow could not split.

    The lines come back as (line number, text); pyarrow skips them rather than failing.
    """
    invalid: list[tuple[int, str]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        if row.number is None:  # only when parsing in parallel, which we do not
            return "error"
        invalid.append((row.number, row.text))
        return "skip"

    # pyarrow reads UTF-8 natively (and skips its byte-order mark); other encodings are
    # transcoded as it goes.
    pa_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(
                use_threads=False,
                block_size=BLOCK_BYTES,
                column_names=names,
                skip_rows=skip,
                encoding=pa_encoding,
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        # pyarrow's message can quote the row; never pass it on.
        if "straddl" in str(exc):
            raise InputFileError(
                f"{path}: has a row longer than {BLOCK_BYTES // 1024**2} MiB (a quote may be "
                "missing its closing partner); check the export and save it again"
            ) from None
        raise InputFileError(
            f"{path}: is not a well-formed {DELIMITERS.get(delimiter, '')}-delimited file; "
            "open it in a spreadsheet and save it again as CSV"
        ) from None
    except UnicodeError:
        raise InputFileError(
            f"{path}: is not valid {encoding} text; leave the encoding to be detected"
        ) from None
    return table, invalid


def _number_rows(
    path: Path, table: pa.Table, invalid: list[tuple[int, str]], skip: int
) -> tuple[pa.Table, np.ndarray]:
    """The data rows (header dropped) and each one's line number in the file.

    pyarrow numbers neither the rows it kept nor the ones it skipped relative to each other,
    so the numbers are every line's, less those of the skipped lines.
    """
    total = skip + table.num_rows + len(invalid)
    numbers = np.arange(skip + 1, total + 1, dtype=np.int64)
    if invalid:
        keep = np.ones(len(numbers), dtype=bool)
        keep[np.array([num - skip - 1 for num, _ in invalid], dtype=np.int64)] = False
        numbers = numbers[keep]
    if table.num_rows == 0 or numbers[0] != skip + 1:
        raise InputFileError(
            f"{path}: its header row could not be read; check the delimiter and export again"
        )
    return table.slice(1), numbers[1:]


def _sort_invalid(
    invalid: list[tuple[int, str]], delimiter: str, n: int
) -> tuple[list[BadRow], list[tuple[int, list[str]]], int]:
    """Split the lines pyarrow skipped into bad rows, repairable rows and blank lines."""
    bad_rows: list[BadRow] = []
    repaired: list[tuple[int, list[str]]] = []
    blank = 0
    for number, raw in invalid:
        cells = _split_line(raw, delimiter)
        if not any(c.strip() for c in cells):
            blank += 1
        elif len(cells) > n and not any(c.strip() for c in cells[n:]):
            # Trailing empty cells (a delimiter at the end of the line) lose nothing.
            repaired.append((number, cells[:n]))
        else:
            reason = f"has {len(cells)} cells but the header has {n}"
            if raw.count('"') % 2:
                reason += "; a quote in it is never closed, so the lines after it ran into it"
            bad_rows.append(BadRow(number, cells[:MAX_BAD_ROW_CELLS], reason))
    return bad_rows, repaired, blank


def _merge_repaired(
    table: pa.Table,
    numbers: np.ndarray,
    repaired: list[tuple[int, list[str]]],
    names: list[str],
) -> tuple[pa.Table, np.ndarray]:
    """The table with the repaired rows put back in their place in the file."""
    extra = pa.table(
        {
            names[i]: pa.array([cells[i] for _, cells in repaired], pa.string())
            for i in range(len(names))
        }
    )
    table = pa.concat_tables([table, extra])
    numbers = np.concatenate([numbers, np.array([num for num, _ in repaired], np.int64)])
    order = np.argsort(numbers, kind="stable")
    return table.take(pa.array(order)), numbers[order]


def _cut_last_row(table: pa.Table, numbers: np.ndarray) -> tuple[pa.Table, np.ndarray, BadRow]:
    """Take off the last row, which an unclosed quote ran every line after it into."""
    last = table.num_rows - 1
    cells = [str(c[last].as_py() or "") for c in table.columns]
    runaway = BadRow(
        int(numbers[last]),
        cells,
        "has a quote that is never closed, so every line after it ran into this row; "
        "fix the quote and export again",
    )
    return table.slice(0, last), numbers[:last], runaway


def _runs_to_end(path: Path, table: pa.Table) -> bool:
    """Whether the last row holds a line break and the file an odd number of quotes."""
    last = table.num_rows - 1
    if not any("\n" in str(c[last].as_py() or "") for c in table.columns):
        return False
    quotes = 0
    with path.open("rb") as fh:
        while chunk := fh.read(BLOCK_BYTES):
            quotes += chunk.count(b'"')
    return quotes % 2 == 1


def _split_line(raw: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return [raw]
