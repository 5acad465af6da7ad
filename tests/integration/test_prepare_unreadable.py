"""Unreadable input: a non-zero exit, one line naming the file and the problem, and nothing
written under --out (nor left beside it)."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import corpus
from tests.support.cli import assert_one_line_error, boldhub


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _header_only(path: Path) -> None:
    path.write_text("Case Ref,First Name,Last Name,D.O.B.\r\n")


def _header_and_blank_rows(path: Path) -> None:
    path.write_text("Case Ref,First Name,Last Name,D.O.B.\r\n,,,\r\n\r\n  , , ,\r\n")


def _binary(path: Path) -> None:
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(4096))


def _binary_without_nul(path: Path) -> None:
    path.write_bytes(bytes(range(1, 32)) * 200)


def _truncated_xlsx(path: Path) -> None:
    corpus.write_xlsx(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _decompression_bomb(path: Path) -> None:
    """A few hundred KB on disk whose sheet expands to 256 MiB of nothing."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            block = b" " * (1024 * 1024)
            for _ in range(256):
                part.write(block)


def _single_line_50mb(path: Path) -> None:
    with path.open("wb") as fh:
        chunk = b"Case Ref,First Name," * 52_429  # ~1 MiB, no line break anywhere
        for _ in range(50):
            fh.write(chunk)


def _billion_laughs(path: Path) -> None:
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        "<HCLICCases><Case><CaseRef>&lol2;</CaseRef></Case></HCLICCases>\n"
    )


def _broken_xml(path: Path) -> None:
    path.write_text("<HCLICCases><Case><CaseRef>HC-1</CaseRef></Case>\n")


def _old_excel(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)


CASES: dict[str, tuple[str, Callable[[Path], None], tuple[str, ...]]] = {
    "empty": ("export.csv", _empty, ("empty",)),
    "header-only": ("export.csv", _header_only, ("no data rows",)),
    "header-and-blank-rows": ("export.csv", _header_and_blank_rows, ("no data rows",)),
    "binary": ("export.csv", _binary, ("binary",)),
    "binary-control-characters": ("export.csv", _binary_without_nul, ("binary",)),
    "truncated-xlsx": ("export.xlsx", _truncated_xlsx, ("damaged or incomplete",)),
    "decompression-bomb": ("export.xlsx", _decompression_bomb, ("decompression bomb",)),
    "50mb-single-line": ("export.csv", _single_line_50mb, ("no line breaks",)),
    "xml-entity-bomb": ("cases.xml", _billion_laughs, ("DTD",)),
    "malformed-xml": ("cases.xml", _broken_xml, ("not well-formed XML",)),
    "old-excel": ("export.xls", _old_excel, (".xls", "save it as")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_unreadable_input_is_one_line_and_writes_nothing(case: str, tmp_path: Path) -> None:
    name, make, needles = CASES[case]
    bad = tmp_path / "in" / name
    bad.parent.mkdir()
    make(bad)
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    proc = boldhub(
        "prepare", str(bad), "--dataset", "homelessness", "--org", "E08000025", "--out", str(out)
    )
    assert proc.returncode == 2
    assert_one_line_error(proc, name, *needles)
    assert not out.exists()
    assert list(work.iterdir()) == []  # no temporary folder left beside it either
