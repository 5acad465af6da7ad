"""Read a council or central-body export into a table of text cells.

Three shapes of export come in, told apart by their first bytes rather than their name,
each with its own reader:

* delimited text (CSV), in :mod:`boldhub.council.delimited`;
* Excel workbooks (.xlsx), in :mod:`boldhub.council.xlsx`;
* H-CLIC-style XML, case data and personal data in two files, in
  :mod:`boldhub.council.hclic_xml`.

Every reader returns an :class:`~boldhub.council.export.Export`: the header, every data row
as text in an Arrow table (one string column per header cell), each row's number as a
spreadsheet would show it, and the rows that could not be lined up with the header
(``bad_rows``), which prepare quarantines. Rows with every cell empty are not data and are
only counted.

Every failure is an :class:`~boldhub.errors.InputFileError` naming the file, the problem and
what to do; no message repeats a cell's content, because messages can reach logs.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from boldhub.council.delimited import read_csv
from boldhub.council.export import BadRow, Export, ReadOptions, check_file
from boldhub.council.hclic_xml import read_hclic
from boldhub.council.xlsx import read_xlsx
from boldhub.errors import InputFileError, UserError

# The types an export is read into live in boldhub.council.export; they are named here too
# because callers read an export and name its options through this module.
__all__ = ["BadRow", "Export", "ReadOptions", "read_export", "sniff_format"]


def read_export(
    path: Path, options: ReadOptions | None = None, *, personal: Path | None = None
) -> Export:
    """Read any supported export; ``personal`` is H-CLIC's separate personal-data file."""
    options = options or ReadOptions()
    head = check_file(path)
    if personal is not None:
        check_file(personal)
    kind = sniff_format(head)
    if kind == "xlsx":
        _no_personal(path, personal)
        return read_xlsx(path, options)
    if kind == "xml":
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
