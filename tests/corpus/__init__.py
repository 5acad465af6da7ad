"""A corpus of messy council exports and what prepare must make of them, field by field.

One small homelessness table, written the many ways council systems write it: UTF-8,
UTF-8 with a byte-order mark, Windows-1252, Latin-1 and UTF-16; comma, semicolon, pipe
and tab delimited; an Excel workbook with real date cells, Excel serial numbers and NHS
numbers stored as numbers; and H-CLIC-style XML with the personal data in its own file.
Headers are a case management system's own ("First Name", "D.O.B."), not BOLD Hub's, so
every variant also exercises the column mapping.

``ROWS`` holds the raw cells; ``EXPECTED`` what prepared.parquet must hold for each
accepted row (by case reference); ``QUARANTINED`` the reasons for the others.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

HEADER = (
    "Case Ref",
    "First Name",
    "Last Name",
    "Middle Names",
    "D.O.B.",
    "Gender",
    "Post Code",
    "NHS No",
    "NI Number",
    "UPRN",
    "Application Date",
    "Duty Owed",
    "Drug dependency",
    "Ethnic group",
    "Notes",
)

# fmt: off
ROWS: tuple[tuple[str, ...], ...] = (
    ("HC-001", "  Seán ", "O'Neill", "", "14/02/1985", "Male", "sw1a1aa", "943 476 5919", "ab 12 34 56 c", "100023336956", "03/01/2025", "Prevention", "Y", "White", "first visit"),
    ("HC-002", "Aoife", "Nic an tSaoi", "Máire", "1990-07-30", "F", "B15 2TT", "", "", "", "2025-01-06", "relief", "no", "Not known", ""),
    ("HC-003", "Mr John", "Smith-Jones", "", "31092", "1", "m1 1ae", "4010232137", "QQ123456C", "", "07/01/2025", "main", "N", "White", ""),
    ("HC-004", "Zoë", "smith - jones", "Ann Marie", "5 Mar 1979", "female", "EC1A 1BB", "485 777 3457", "", "012345", "08/01/2025", "none", "", "Asian or Asian British", ""),
    ("HC-005", "", "", "", "", "", "", "", "", "", "09/01/2025", "prevention", "N", "White", "no identifiers"),
    ("HC-006", "=cmd|' /C calc'!A0", "DOYLE", "", "31/02/1985", "M", "NOT A POSTCODE", "943 476 5918", "", "", "10/01/2025", "relief", "Y", "White", "=HYPERLINK(\"http://x\")"),
    ("HC-007", "Siobhán", "Ó Briain", "", "01/01/2099", "F", "BT1 1AA", "9.43E+09", "", "", "13/01/2025", "relief", "N", "White", ""),
    ("HC-001", "Copy", "Ofrow", "", "01/01/1980", "M", "", "", "", "", "14/01/2025", "main", "N", "White", "duplicate reference"),
    ("HC-009", "Ann", "Lee", "", "02/02/1970", "F", "", "", "", "", "", "main", "N", "White", "@no application date"),
    ("HC-010", "Tom", "Baby", "", "15/03/2025", "M", "", "", "", "", "14/01/2025", "main", "N", "White", "+born after applying"),
    ("HC-011", "Mary-Kate", "D'Arcy", "", "07-11-62", "female", "ls1 4dy", "", "", "", "15/01/2025", "MAIN", "yes", "Mixed or multiple", "-two digit year"),
)
# fmt: on

_ID = {
    "forename": None,
    "surname": None,
    "other_names": None,
    "dob": None,
    "sex": "U",
    "postcode": None,
    "nhs_number": None,
    "ni_number": None,
    "uprn": None,
}
EXPECTED: dict[str, dict[str, Any]] = {
    "HC-001": {
        **_ID,
        "forename": "SEAN",
        "surname": "O'NEILL",
        "dob": "1985-02-14",
        "sex": "M",
        "postcode": "SW1A 1AA",
        "nhs_number": "9434765919",
        "ni_number": "AB123456C",
        "uprn": "100023336956",
        "application_date": "2025-01-03",
        "duty_type": "prevention",
        "sn_drug": "Y",
        "ethnicity": "White",
        "age_band": "35-44",
        "row_number": 2,
    },
    "HC-002": {
        **_ID,
        "forename": "AOIFE",
        "surname": "NIC AN TSAOI",
        "other_names": "MAIRE",
        "dob": "1990-07-30",
        "sex": "F",
        "postcode": "B15 2TT",
        "application_date": "2025-01-06",
        "duty_type": "relief",
        "sn_drug": "N",
        "ethnicity": "Not known",
        "age_band": "25-34",
    },
    "HC-003": {
        **_ID,
        "forename": "JOHN",  # the title is dropped
        "surname": "SMITH-JONES",
        "dob": "1985-02-14",  # Excel serial 31092
        "sex": "M",
        "postcode": "M1 1AE",
        "nhs_number": "4010232137",
        "ni_number": None,  # QQ is never issued
        "application_date": "2025-01-07",
        "duty_type": "main",
    },
    "HC-004": {
        **_ID,
        "forename": "ZOE",
        "surname": "SMITH-JONES",
        "other_names": "ANN MARIE",
        "dob": "1979-03-05",
        "sex": "F",
        "postcode": "EC1A 1BB",
        "nhs_number": "4857773457",
        "uprn": None,  # a leading zero is not a UPRN
        "application_date": "2025-01-08",
        "duty_type": "none",
        "sn_drug": None,
        "ethnicity": "Asian or Asian British",
    },
    "HC-006": {
        **_ID,
        "forename": "CMD'C CALC'A",  # whatever is left of a formula is just letters
        "surname": "DOYLE",
        "dob": None,  # 31 February: flagged, dropped, row kept
        "sex": "M",
        "postcode": None,
        "nhs_number": None,  # wrong check digit
    },
    "HC-007": {
        **_ID,
        "forename": "SIOBHAN",
        "surname": "O BRIAIN",
        "dob": None,  # in the future
        "sex": "F",
        "postcode": "BT1 1AA",
        "nhs_number": None,  # scientific notation: digits lost
        "age_band": "unknown",
    },
    "HC-011": {
        **_ID,
        "forename": "MARY-KATE",
        "surname": "D'ARCY",
        "dob": "1962-11-07",
        "sex": "F",
        "postcode": "LS1 4DY",
        "duty_type": "main",
        "sn_drug": "Y",
        "ethnicity": "Mixed or multiple",
        "age_band": "55-64",
    },
}

QUARANTINED: dict[int, str] = {
    # position in ROWS -> what its reasons must say (whatever the export calls the column)
    4: "has no name and no date of birth, so it cannot be linked",
    7: "repeats the one on row",
    8: "is empty but required",
    9: "date of birth is after",
}

# Warnings prepare counts on accepted rows (field and reason, as meta.json keys them).
WARNINGS: dict[str, int] = {
    "dob is not a real calendar date": 1,
    "dob is in the future": 1,
    "postcode is not a valid UK postcode": 1,
    "nhs_number is not a valid NHS number (wrong length or check digit)": 1,
    "ni_number is not a valid National Insurance number": 1,
    "uprn is not a valid UPRN (1 to 12 digits)": 1,
    "nhs_number missing": 2,
    "nhs_number was saved in scientific notation (like 9.43E+09), losing digits; "
    "format the column as text and export again": 1,
}

DATASET = "homelessness"
ORG = "E08000025"
TODAY = "2026-04-01T09:00:00+00:00"  # BOLDHUB_NOW for every corpus run


def write_delimited(
    path: Path, encoding: str, delimiter: str, rows: tuple[tuple[str, ...], ...] = ROWS
) -> Path:
    """Written by hand (not csv.writer) the way exporting systems do: quote when needed."""

    def cell(text: str) -> str:
        if any(ch in text for ch in (delimiter, '"', "\n", "\r")):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [delimiter.join(cell(c) for c in HEADER)]
    lines += [delimiter.join(cell(c) for c in row) for row in rows]
    text = "\r\n".join(lines) + "\r\n"
    if encoding == "cp1252":
        # Windows-1252's own characters: curly apostrophes, which Latin-1 lacks.
        text = text.replace("O'Neill", "O\u2019Neill")
    path.write_bytes(text.encode(encoding))
    return path


def _xlsx_cell(column: str, text: str) -> Any:
    if column == "D.O.B." and text == "14/02/1985":
        return dt.date(1985, 2, 14)  # a real date cell
    if column == "Application Date" and len(text) == 10 and text[2] == "/":
        d, m, y = text.split("/")
        return dt.date(int(y), int(m), int(d))
    if column == "D.O.B." and text == "31092":
        return 31092  # an unformatted serial number
    if (
        column in ("NHS No", "UPRN")
        and text.replace(" ", "").isdigit()
        and not text.startswith("0")
    ):
        return int(text.replace(" ", ""))  # a number cell
    return text


def write_xlsx(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    cover = wb.add_worksheet("About")
    cover.write(0, 0, "Quarterly homelessness export")
    ws = wb.add_worksheet("Cases")
    date_format = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, HEADER)
    for r, row in enumerate(ROWS, start=1):
        for c, (column, text) in enumerate(zip(HEADER, row, strict=True)):
            value = _xlsx_cell(column, text)
            if isinstance(value, dt.date):
                ws.write_datetime(
                    r, c, dt.datetime(value.year, value.month, value.day), date_format
                )
            elif isinstance(value, int):
                ws.write_number(r, c, value)
            elif value:
                ws.write_string(r, c, value)
    wb.close()
    return path


PERSONAL = (
    "First Name",
    "Last Name",
    "Middle Names",
    "D.O.B.",
    "Gender",
    "Post Code",
    "NHS No",
    "NI Number",
    "UPRN",
)


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _tag(column: str) -> str:
    return "".join(ch for ch in column.title() if ch.isalnum())


def write_hclic(folder: Path) -> tuple[Path, Path]:
    """cases.xml (no identifiers) and people.xml (identifiers), joined by CaseRef."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = ['<?xml version="1.0" encoding="UTF-8"?>', '<HCLICCases xmlns="urn:example:hclic">']
    people = ['<?xml version="1.0" encoding="UTF-8"?>', "<HCLICPersonalData>"]
    for row in ROWS:
        values = dict(zip(HEADER, row, strict=True))
        case_fields = "".join(
            f"<{_tag(c)}>{_xml_escape(values[c])}</{_tag(c)}>"
            for c in HEADER[1:]
            if c not in PERSONAL and c != "Drug dependency"
        )
        needs = f"<SupportNeeds><DrugDependency>{values['Drug dependency']}</DrugDependency></SupportNeeds>"
        cases.append(f"  <Case><CaseRef>{values['Case Ref']}</CaseRef>{case_fields}{needs}</Case>")
        if values["First Name"] or values["Last Name"]:
            person = "".join(f"<{_tag(c)}>{_xml_escape(values[c])}</{_tag(c)}>" for c in PERSONAL)
            people.append(f"  <Person><CaseRef>{values['Case Ref']}</CaseRef>{person}</Person>")
    cases.append("</HCLICCases>")
    people.append("</HCLICPersonalData>")
    (folder / "cases.xml").write_text("\n".join(cases) + "\n", encoding="utf-8")
    (folder / "people.xml").write_text("\n".join(people) + "\n", encoding="utf-8")
    return folder / "cases.xml", folder / "people.xml"
