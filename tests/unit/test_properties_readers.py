"""Properties of the export readers: any input gives a clear error or an accounted export.

Whatever bytes arrive as a CSV, workbook or XML file, ``read_export`` either raises a
``UserError`` (whose message names no cell) or returns an ``Export`` in which every data row
is accounted for: kept in the table, set aside as a bad row (which prepare quarantines), or
counted as blank. No row vanishes, and none is counted twice.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boldhub.council.read import Export, read_export
from boldhub.errors import UserError

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A value that must never appear in an error message (it stands for an identifier).
SECRET = "Zebedee"


@contextmanager
def written(data: bytes, name: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        yield path


def read_or_refuse(path: Path) -> Export | None:
    """The export, or None after checking the refusal is a clear user error."""
    try:
        return read_export(path)
    except UserError as exc:
        message = str(exc)
        assert "\n" not in message and "Traceback" not in message, message
        assert SECRET not in message, message
        return None


def assert_accounted(export: Export) -> None:
    numbers = [*export.row_numbers.to_pylist(), *(b.row_number for b in export.bad_rows)]
    assert len(numbers) == len(set(numbers)), "a row is counted twice"
    assert export.rows == export.table.num_rows + len(export.bad_rows) == len(numbers)
    assert export.table.num_columns == len(export.header)
    assert all(n >= 1 for n in numbers)


# -- CSV ------------------------------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_as_csv_are_refused_clearly_or_read_whole(data: bytes) -> None:
    with written(data, "export.csv") as path:
        export = read_or_refuse(path)
        if export is not None:
            assert_accounted(export)


_CELL = st.one_of(
    st.sampled_from(["", " ", "Zebedee", "14/02/1985", "a,b", 'say "hi"', "two\nlines", "é"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6),
)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int, list[int]]:
    """A quoted CSV with ragged rows: (bytes, columns, each data row's width). Two columns
    at least, so that the delimiter can be told from the header."""
    width = draw(st.integers(2, 5))
    header = [f"col{i}" for i in range(width)]
    rows = draw(st.lists(st.lists(_CELL, min_size=0, max_size=width + 2), max_size=12))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))

    def line(cells: list[str]) -> str:
        return delimiter.join('"' + c.replace('"', '""') + '"' for c in cells)

    text = "\r\n".join([line(header), *(line(r) for r in rows)]) + "\r\n"
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig"]))), width, [len(r) for r in rows]


@SETTINGS
@given(csv_files())
def test_every_csv_row_is_kept_quarantined_or_counted_blank(
    case: tuple[bytes, int, list[int]],
) -> None:
    data, _width, widths = case
    with written(data, "export.csv") as path:
        export = read_or_refuse(path)
        if export is None:
            return  # e.g. a header and only blank rows: "no data rows"
        assert_accounted(export)
        # Every line after the header is a row, a bad row or a blank row: none vanishes.
        assert export.rows + export.blank_rows == len(widths)


# -- XLSX -----------------------------------------------------------------------------------


def _workbook_bytes(rows: list[list[str | int | None]]) -> bytes:
    import xlsxwriter

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.xlsx"
        wb = xlsxwriter.Workbook(str(path))
        # A fixed creation time: the same rows give the same bytes (Hypothesis replays).
        wb.set_properties({"created": datetime(2026, 4, 1)})
        ws = wb.add_worksheet("Cases")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
        wb.close()
        return path.read_bytes()


_XCELL = st.one_of(st.none(), st.just(""), st.integers(-5, 10**12), _CELL)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 4),
    st.lists(st.lists(_XCELL, max_size=6), max_size=10),
)
def test_every_sheet_row_is_kept_quarantined_or_counted_blank(
    width: int, rows: list[list[str | int | None]]
) -> None:
    data = _workbook_bytes([[f"col{i}" for i in range(width)], *rows])
    with written(data, "export.xlsx") as path:
        export = read_or_refuse(path)
        if export is None:
            return
        assert_accounted(export)
        # Rows after the header up to the last one holding anything: calamine ends the
        # sheet at its last non-empty row.
        last = max(
            (i for i, r in enumerate(rows) if any(v not in (None, "") for v in r)), default=-1
        )
        assert export.rows + export.blank_rows == last + 1


SMALL_WORKBOOK = _workbook_bytes([["Case Ref", "Name"], ["HC-1", "Zebedee"]])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_damaged_workbook_is_refused_clearly_or_read_whole(data: st.DataObject) -> None:
    whole = bytearray(SMALL_WORKBOOK)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(whole) - 1))
        whole[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(30, len(whole)))
    with written(bytes(whole[:cut]), "export.xlsx") as path:
        export = read_or_refuse(path)
        if export is not None:
            assert_accounted(export)


def test_the_workbook_to_damage_is_read_whole_before_damage() -> None:
    with written(SMALL_WORKBOOK, "export.xlsx") as path:
        assert zipfile.is_zipfile(path)
        export = read_export(path)
        assert export.rows == 1 and export.header == ["Case Ref", "Name"]


# -- XML ------------------------------------------------------------------------------------

_TAG = st.sampled_from(["CaseRef", "Forename", "AppDate", "x", "Address", "ns:Tag"])


@st.composite
def xml_files(draw: st.DrawFn) -> tuple[bytes, int]:
    """Records of leaf elements, some nested, some empty: (bytes, records)."""
    records = []
    for _ in range(draw(st.integers(0, 8))):
        leaves = draw(st.lists(st.tuples(_TAG, _CELL), max_size=4))
        body = "".join(
            f"<{t.split(':')[-1]}>{v.replace('&', '&amp;').replace('<', '&lt;')}"
            f"</{t.split(':')[-1]}>"
            for t, v in leaves
        )
        if draw(st.booleans()):
            body = f"<Wrapped>{body}</Wrapped>"
        records.append(f"<Case>{body}</Case>")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n<HCLICCases>' + "".join(records)
    return (text + "</HCLICCases>\n").encode("utf-8"), len(records)


@SETTINGS
@given(xml_files())
def test_every_xml_record_is_kept_or_counted_blank(case: tuple[bytes, int]) -> None:
    data, records = case
    with written(data, "cases.xml") as path:
        export = read_or_refuse(path)
        if export is None:
            return
        assert_accounted(export)
        assert export.rows + export.blank_rows == records


@SETTINGS
@given(
    st.binary(max_size=200), st.sampled_from([b"<", b"<?xml version='1.0'?><a>", b"\xef\xbb\xbf<"])
)
def test_any_bytes_as_xml_are_refused_clearly_or_read_whole(data: bytes, head: bytes) -> None:
    with written(head + data, "cases.xml") as path:
        export = read_or_refuse(path)
        if export is not None:
            assert_accounted(export)


_KEYS = st.sampled_from(["HC-1", "HC-2", "HC-3", ""])


@st.composite
def hclic_pairs(draw: st.DrawFn) -> tuple[bytes, bytes, int]:
    """A case file and a personal-data file joined by CaseRef, with repeated, missing and
    unmatched ids on both sides: (cases, people, rows the export must account for)."""
    cases = draw(st.lists(_KEYS, max_size=6))
    people = draw(st.lists(_KEYS, max_size=6))

    def records(tag: str, keys: list[str], leaf: str) -> str:
        return "".join(
            f"<{tag}><CaseRef>{k}</CaseRef>{leaf if draw(st.booleans()) else ''}</{tag}>"
            for k in keys
        )

    case_xml = f"<Cases>{records('Case', cases, '<AppDate>2025-01-03</AppDate>')}</Cases>"
    people_xml = f"<People>{records('Person', people, f'<Forename>{SECRET}</Forename>')}</People>"
    # The k-th case with an id meets the k-th person with it; every other record is a row.
    matched = sum(min(cases.count(k), people.count(k)) for k in set(cases) if k)
    return case_xml.encode(), people_xml.encode(), len(cases) + len(people) - matched


@SETTINGS
@given(hclic_pairs())
def test_every_case_and_every_unmatched_person_is_a_row(case: tuple[bytes, bytes, int]) -> None:
    cases, people, expected = case
    with written(cases, "cases.xml") as path:
        (path.parent / "people.xml").write_bytes(people)
        try:
            export = read_export(path, personal=path.parent / "people.xml")
        except UserError as exc:
            assert SECRET not in str(exc)
            return
        assert_accounted(export)
        assert export.rows + export.blank_rows == expected
