"""Read a council or central-body export into a table of text cells.

Three shapes of export come in, told apart by their first bytes rather than their name:

* delimited text (CSV): UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's
  "Unicode text"), Windows-1252 or Latin-1; comma, semicolon, pipe or tab delimited. The
  encoding and delimiter are detected and can be overridden;
* Excel workbooks (.xlsx), in :mod:`boldhub.council.xlsx`;
* H-CLIC-style XML, case data and personal data in two files, in
  :mod:`boldhub.council.hclic_xml`.

Every reader returns an :class:`Export`: the header, every data row as text in an Arrow
table (one string column per header cell), each row's number as a spreadsheet would show
it, and the rows that could not be lined up with the header (``bad_rows``), which prepare
quarantines. Rows with every cell empty are not data and are only counted.

Every failure is an :class:`~boldhub.errors.InputFileError` naming the file, the problem and
what to do; no message repeats a cell's content, because messages can reach logs.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from boldhub.errors import InputFileError, UserError

MAX_BYTES = 2 * 1024**3
# The first line must end within this: an export is one row per line, so a first line
# this long is a file that is not an export (or one that lost its line breaks).
MAX_FIRST_LINE = 1024**2
# pyarrow parses in blocks; a single row longer than a block cannot be parsed.
BLOCK_BYTES = 16 * 1024**2
MAX_COLUMNS = 2000
MAX_BAD_ROW_CELLS = MAX_COLUMNS

DELIMITERS: dict[str, str] = {",": "comma", ";": "semicolon", "|": "pipe", "\t": "tab"}
ENCODING_NAMES: dict[str, str] = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with byte-order mark",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
}
# Bytes that Windows-1252 leaves undefined: a file holding them is Latin-1.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_C1_BYTES = bytes(range(0x80, 0xA0))
_NOT_C1 = bytes(b for b in range(256) if b not in _C1_BYTES)


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


def read_export(
    path: Path, options: ReadOptions | None = None, *, personal: Path | None = None
) -> Export:
    """Read any supported export; ``personal`` is H-CLIC's separate personal-data file."""
    options = options or ReadOptions()
    head = _check_file(path)
    if personal is not None:
        _check_file(personal)
    kind = sniff_format(head)
    if kind == "xlsx":
        from boldhub.council.xlsx import read_xlsx

        _no_personal(path, personal)
        return read_xlsx(path, options)
    if kind == "xml":
        from boldhub.council.hclic_xml import read_hclic

        return read_hclic(path, personal, options)
    if kind == "xls":
        raise InputFileError(
            f"{path}: is an old-style Excel .xls workbook; open it in Excel and save it as "
            ".xlsx or CSV"
        )
    if kind == "zip":
        raise InputFileError(
            f"{path}: is a zip archive, not an export; unzip it and give the export file itself"
        )
    if kind == "pdf":
        raise InputFileError(f"{path}: is a PDF document; export the data as CSV or Excel")
    _no_personal(path, personal)
    return read_csv(path, options, head)


def _no_personal(path: Path, personal: Path | None) -> None:
    if personal is not None:
        raise UserError(
            f"{path}: a separate personal-data file only goes with H-CLIC XML; "
            "give one CSV or Excel export on its own"
        )


def _check_file(path: Path) -> bytes:
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


def sniff_format(head: bytes) -> str:
    """csv, xlsx, xml, xls, zip or pdf, from the first bytes."""
    if head.startswith(b"PK\x03\x04"):
        # Every .xlsx is a zip whose first entries name the workbook's parts.
        window = head[:65536]
        return "xlsx" if b"[Content_Types].xml" in window or b"xl/" in window else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(b"%PDF"):
        return "pdf"
    text = head[:256]
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if text.startswith(bom):
            text = text[len(bom) :]
            if bom != codecs.BOM_UTF8:
                text = text.decode("utf-16", errors="ignore").encode("utf-8")
    if text.lstrip().startswith(b"<"):
        return "xml"
    return "csv"


# -- CSV ----------------------------------------------------------------------------------


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
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UserError(
            f"{path}: unknown encoding {encoding!r}; use utf-8, utf-8-sig, utf-16, cp1252 or latin-1"
        ) from None
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
        head = _check_file(path)
    if options.encoding:
        encoding = _check_encoding_name(path, options.encoding)
    else:
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise _binary(path)
        encoding = detect_encoding(path, head)
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(head)
    except UnicodeDecodeError:
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
    if len(delimiter) != 1:
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
    except UnicodeDecodeError:
        raise InputFileError(
            f"{path}: is not valid {encoding} text; leave the encoding to be detected"
        ) from None

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
    table, numbers = table.slice(1), numbers[1:]

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
    if repaired:
        extra = pa.table(
            {names[i]: pa.array([cells[i] for _, cells in repaired], pa.string()) for i in range(n)}
        )
        table = pa.concat_tables([table, extra])
        numbers = np.concatenate([numbers, np.array([num for num, _ in repaired], np.int64)])
        order = np.argsort(numbers, kind="stable")
        table, numbers = table.take(pa.array(order)), numbers[order]
    if table.num_rows and _runs_to_end(path, table):
        # An unclosed quote swallows every line after it into one cell of the last row.
        last = table.num_rows - 1
        cells = [str(c[last].as_py() or "") for c in table.columns]
        bad_rows.append(
            BadRow(
                int(numbers[last]),
                cells,
                "has a quote that is never closed, so every line after it ran into this row; "
                "fix the quote and export again",
            )
        )
        table, numbers = table.slice(0, last), numbers[:last]
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
