"""Readers: encodings, delimiters, row numbers, misaligned rows, workbooks and H-CLIC XML."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import pytest

from boldhub.council.delimited import detect_encoding, sniff_delimiter
from boldhub.council.read import ReadOptions, read_export
from boldhub.council.xlsx import cell_text, check_archive
from boldhub.errors import InputFileError, UserError


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _cells(export, column: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(v) for v in export.column(column).to_pylist()]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\nx,y\n", "utf-8"),
        ("a,b\nZo\u00eb,y\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + b"a,b\nx,y\n", "utf-8-sig"),
        ("a\tb\nZo\u00eb\ty\n".encode("utf-16"), "utf-16"),
        ("a,b\nO\u2019Neill,y\n".encode("cp1252"), "cp1252"),
        ("a,b\nZo\u00eb,y\n".encode("latin-1"), "cp1252"),  # the same text in both
        (b"a,b\n\x81x,y\n", "latin-1"),  # a byte Windows-1252 leaves undefined
    ],
)
def test_encoding_detection(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    assert detect_encoding(path, data[:1024]) == expected


def test_a_late_non_utf8_byte_is_found(tmp_path: Path) -> None:
    """The whole file is checked, not a sample: Excel writes accents anywhere."""
    text = "a,b\n" + "x,y\n" * 400_000 + "Zo\u00eb,y\n"
    path = _write(tmp_path / "late.csv", text, "cp1252")
    export = read_export(path)
    assert export.encoding == "cp1252"
    assert export.column(0).to_pylist()[-1] == "Zo\u00eb"


@pytest.mark.parametrize("delimiter", [",", ";", "|", "\t"])
def test_delimiter_detection(tmp_path: Path, delimiter: str) -> None:
    lines = [delimiter.join(["Case Ref", "Name", "Date, of birth"]).replace("Date, of", "Date of")]
    lines += [delimiter.join(["HC-1", "Smith", "01/02/1990"])] * 3
    path = _write(tmp_path / "d.csv", "\n".join(lines) + "\n")
    export = read_export(path)
    assert export.delimiter == delimiter
    assert export.header == ["Case Ref", "Name", "Date of birth"]


def test_sniffing_prefers_the_consistent_split() -> None:
    lines = ["a;b;c\n", "1,5;2;3\n", "4,5;5;6\n"]
    assert sniff_delimiter(lines) == ";"


def test_delimiter_and_encoding_can_be_overridden(tmp_path: Path) -> None:
    path = _write(tmp_path / "o.csv", "a;b|c\n1;2|3\n", "cp1252")
    export = read_export(path, ReadOptions(delimiter="|", encoding="latin-1"))
    assert export.header == ["a;b", "c"] and export.encoding == "latin-1"
    with pytest.raises(UserError, match="unknown encoding"):
        read_export(path, ReadOptions(encoding="klingon"))


def test_row_numbers_are_a_spreadsheets_and_blank_rows_are_counted(tmp_path: Path) -> None:
    text = '\n\nid,name\n1,a\n\n2,"two\nlines"\n,\n3,c\n'
    export = read_export(_write(tmp_path / "n.csv", text))
    assert export.row_numbers.to_pylist() == [4, 6, 8]  # a two-line cell is one row
    assert _cells(export, 1) == ["a", "two\nlines", "c"]
    assert export.blank_rows == 2


def test_misaligned_rows_are_kept_for_quarantine_and_trailing_delimiters_forgiven(
    tmp_path: Path,
) -> None:
    text = "id,name,dob\n1,a,x\n2,b\n3,c,y,\n4,d,z,extra\n5,e,w\n"
    export = read_export(_write(tmp_path / "r.csv", text))
    assert export.row_numbers.to_pylist() == [2, 4, 6]  # row 4 lost only an empty cell
    assert [(b.row_number, b.cells) for b in export.bad_rows] == [
        (3, ["2", "b"]),
        (5, ["4", "d", "z", "extra"]),
    ]
    assert "has 2 cells but the header has 3" in export.bad_rows[0].reason
    assert export.rows == 5


def test_an_unclosed_quote_is_named(tmp_path: Path) -> None:
    export = read_export(_write(tmp_path / "q.csv", 'id,name\n1,a\n2,"b\n3,c\n'))
    assert [b.row_number for b in export.bad_rows] == [3]
    assert "never closed" in export.bad_rows[0].reason


def test_a_file_that_is_not_a_csv_says_what_it_is(tmp_path: Path) -> None:
    pdf = tmp_path / "x.csv"
    pdf.write_bytes(b"%PDF-1.7\n" + b"\x00" * 100)
    with pytest.raises(InputFileError, match="is a PDF"):
        read_export(pdf)
    zipped = tmp_path / "y.csv"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("export.csv", "a,b\n1,2\n")
    with pytest.raises(InputFileError, match="zip archive"):
        read_export(zipped)


def test_a_personal_data_file_only_goes_with_xml(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", "a,b\n1,2\n")
    with pytest.raises(UserError, match="only goes with H-CLIC XML"):
        read_export(path, personal=path)


# -- workbooks --------------------------------------------------------------------------------


def test_cells_read_as_a_person_sees_them() -> None:
    import datetime as dt

    assert cell_text(9434765919.0) == "9434765919"
    assert cell_text(12.5) == "12.5"
    assert cell_text(dt.datetime(1985, 2, 14)) == "1985-02-14"
    assert cell_text(dt.datetime(1985, 2, 14, 9, 30)) == "1985-02-14 09:30:00"
    assert cell_text(dt.date(1985, 2, 14)) == "1985-02-14"
    assert cell_text(True) == "TRUE"
    assert cell_text("") == ""


def test_workbook_rows_keep_sheet_row_numbers_and_refuse_stray_cells(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "w.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_row(2, 1, ["id", "name"])  # header on row 3, from column B
    ws.write_row(3, 1, ["1", "a"])
    ws.write_row(5, 1, ["2", "b"])
    ws.write_row(6, 1, ["3", "c", "stray"])
    wb.close()
    export = read_export(path)
    assert export.header == ["id", "name"]
    assert export.row_numbers.to_pylist() == [4, 6]
    assert export.blank_rows == 1
    assert [(b.row_number, b.cells) for b in export.bad_rows] == [(7, ["3", "c", "stray"])]
    with pytest.raises(UserError, match="no sheet 'Nope'"):
        read_export(path, ReadOptions(sheet="Nope"))


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "z.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(InputFileError, match="not an Excel workbook"):
        check_archive(path)


# -- H-CLIC XML -----------------------------------------------------------------------------


def test_hclic_people_without_cases_and_second_people_are_quarantined(tmp_path: Path) -> None:
    cases = _write(
        tmp_path / "c.xml",
        "<R><Case CaseRef='A'><AppDate>2025-01-01</AppDate></Case>"
        "<Case CaseRef='B'><AppDate>2025-01-02</AppDate></Case></R>",
    )
    people = _write(
        tmp_path / "p.xml",
        "<P><Person><CaseRef>A</CaseRef><Forename>Ann</Forename>"
        "<Address><Postcode>B1 1AA</Postcode></Address><Previous><Postcode>B2 2BB</Postcode>"
        "</Previous></Person>"
        "<Person><CaseRef>A</CaseRef><Forename>Second</Forename></Person>"
        "<Person><CaseRef>Z</CaseRef><Forename>Nobody</Forename></Person></P>",
    )
    export = read_export(cases, personal=people)
    assert export.header == ["CaseRef", "AppDate", "Forename", "Postcode", "Previous.Postcode"]
    assert export.rows == 4
    assert _cells(export, 2) == ["Ann", ""]
    assert _cells(export, 4) == ["B2 2BB", ""]
    reasons = {b.row_number: b.reason for b in export.bad_rows}
    assert reasons.keys() == {4, 5}
    assert "second person" in reasons[4] and "has no case" in reasons[5]


def test_hclic_join_key_must_be_shared(tmp_path: Path) -> None:
    cases = _write(tmp_path / "c.xml", "<R><Case><Ref>A</Ref><X>1</X></Case></R>")
    people = _write(tmp_path / "p.xml", "<P><Person><Id>A</Id></Person></P>")
    with pytest.raises(InputFileError, match="shares no field"):
        read_export(cases, personal=people)
    with pytest.raises(UserError, match="--join-key X is not a field of both"):
        read_export(cases, ReadOptions(join_key="X"), personal=people)


def test_external_entities_are_refused(tmp_path: Path) -> None:
    secret = _write(tmp_path / "secret.txt", "do not read me")
    path = _write(
        tmp_path / "x.xml",
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY s SYSTEM "file://{secret}">]>'
        "<R><Case><CaseRef>&s;</CaseRef></Case></R>",
    )
    with pytest.raises(InputFileError, match="DTD"):
        read_export(path)
