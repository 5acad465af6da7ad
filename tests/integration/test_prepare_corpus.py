"""The messy-export corpus, prepared in every encoding, delimiter and format, field by field."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boldhub.council import mapping as mapping_mod
from boldhub.council.prepare import prepare
from boldhub.council.read import ReadOptions, read_export
from boldhub.schemas import get_dataset
from tests import corpus

Writer = Callable[[Path], tuple[Path, Path | None]]


def _delimited(encoding: str, delimiter: str) -> Writer:
    def write(folder: Path) -> tuple[Path, Path | None]:
        return corpus.write_delimited(folder / "export.csv", encoding, delimiter), None

    return write


VARIANTS: dict[str, tuple[Writer, str | None, str | None]] = {
    # name: (writer, detected encoding, detected delimiter)
    "utf8-comma": (_delimited("utf-8", ","), "utf-8", ","),
    "utf8-bom-semicolon": (_delimited("utf-8-sig", ";"), "utf-8-sig", ";"),
    "windows1252-pipe": (_delimited("cp1252", "|"), "cp1252", "|"),
    "latin1-tab": (_delimited("latin-1", "\t"), "cp1252", "\t"),  # same text either way
    "utf16-tab": (_delimited("utf-16", "\t"), "utf-16", "\t"),
    "xlsx": (lambda d: (corpus.write_xlsx(d / "export.xlsx"), None), None, None),
    "hclic-xml": (lambda d: corpus.write_hclic(d), None, None),
}


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOLDHUB_NOW", corpus.TODAY)


def _row_number(variant: str, position: int) -> int:
    # Spreadsheet rows count the header as row 1; XML records count from 1.
    return position + 1 if variant == "hclic-xml" else position + 2


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_corpus_is_prepared_field_by_field(variant: str, tmp_path: Path) -> None:
    writer, encoding, delimiter = VARIANTS[variant]
    (tmp_path / "in").mkdir()
    file, personal = writer(tmp_path / "in")
    dataset = get_dataset(corpus.DATASET)
    options = ReadOptions(sheet="Cases") if variant == "xlsx" else ReadOptions()
    export = read_export(file, options, personal=personal)
    mapping = mapping_mod.suggested_mapping(dataset, export.header)
    assert mapping_mod.problems(dataset, mapping, export.header) == []
    # Every identifier is found under the system's own names, by synonyms or fuzzily.
    assert set(mapping.columns) >= {
        "source_row_id", "forename", "surname", "other_names", "dob", "sex", "postcode",
        "nhs_number", "ni_number", "uprn", "application_date", "duty_type", "sn_drug", "ethnicity",
    }  # fmt: skip

    out = tmp_path / "out"
    result = prepare(
        file,
        corpus.DATASET,
        out,
        corpus.ORG,
        mapping=mapping,
        read_options=options,
        personal=personal,
    )
    assert (result.input_rows, result.accepted, result.quarantined) == (11, 7, 4)

    meta = json.loads((out / "meta.json").read_text())
    if encoding is not None:
        assert meta["input_encoding"] == encoding
        assert meta["delimiter"] == delimiter
    assert meta["warnings"] == corpus.WARNINGS
    assert meta["date_order"]["order"] == "dmy"

    table = pq.read_table(out / "prepared.parquet").to_pylist()
    by_id = {r["source_row_id"]: r for r in table}
    assert sorted(by_id) == sorted(corpus.EXPECTED)
    for row_id, expected in corpus.EXPECTED.items():
        got = by_id[row_id]
        for field, value in expected.items():
            if field == "row_number":
                value = _row_number(variant, 0)
            assert got[field] == value, (variant, row_id, field)

    with (out / "quarantine.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    id_header = mapping.columns["source_row_id"]
    assert header[:3] == ["row_number", id_header, "reasons"]
    # Issue 12 #10: each column once; the row id is not repeated among the raw cells.
    assert len(header) == len(set(header)), header
    assert header[3:] == [
        h for h in read_export(file, options, personal=personal).header if h != id_header
    ]
    reasons = {int(r[0]): r[2] for r in body}
    assert reasons.keys() == {_row_number(variant, p) for p in corpus.QUARANTINED}
    for position, words in corpus.QUARANTINED.items():
        assert words in reasons[_row_number(variant, position)]
    report = (out / "report.html").read_text()
    assert "Completeness and validity by field" in report and "SEAN" in report
    _check_warnings(out, variant, report)


def _check_warnings(out: Path, variant: str, report: str) -> None:
    """Issue 12 #9: each warning on an accepted row is listed, by row number, field and
    reason in plain words, without a value; the report names fields in plain words."""
    with (out / "warnings.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["row_number", "field", "reason"]
    assert len(rows) - 1 == sum(corpus.WARNINGS.values())
    lines = [(int(r[0]), r[1], r[2]) for r in rows[1:]]
    assert lines == sorted(lines, key=lambda line: line[0])
    assert (_row_number(variant, 1), "NHS number", "missing") in lines
    assert (
        _row_number(variant, 5),
        "Date of birth",
        "is not a real calendar date; the value was left out",
    ) in lines
    cells = {c for row in corpus.ROWS for c in row if c.strip()}
    assert not cells & {c for r in rows for c in r}  # no value of the export
    counts = report.split('id="warning-counts"', 1)[1].split("</table>", 1)[0]
    assert "NHS number missing" in counts and "Date of birth is in the future" in counts
    assert "nhs_number" not in counts and "dob " not in counts


def test_xlsx_default_sheet_is_the_first_with_rows_and_the_report_says_so(tmp_path: Path) -> None:
    file = corpus.write_xlsx(tmp_path / "export.xlsx")
    export = read_export(file)  # skips the one-line cover sheet
    assert export.sheet == "Cases" and export.sheets == ("About", "Cases")
    assert any("2 sheets" in n for n in export.notes)
    by_number = read_export(file, ReadOptions(sheet="2"))
    assert by_number.sheet == "Cases" and by_number.rows == 11
    assert list(by_number.row_numbers.to_pylist()) == list(range(2, 13))


def test_hclic_joins_people_to_cases_by_case_id(tmp_path: Path) -> None:
    cases, people = corpus.write_hclic(tmp_path)
    export = read_export(cases, personal=people)
    assert export.header[0] == "CaseRef"
    assert "DrugDependency" in export.header and "FirstName" in export.header
    assert export.rows == 11 and not export.bad_rows
    assert any("1 cases have no person" in n for n in export.notes)


def test_profile_saved_once_prepares_next_quarter(tmp_path: Path) -> None:
    """The mapping is confirmed once, saved by name, and reused with no questions."""
    profiles = tmp_path / "profiles"
    dataset = get_dataset(corpus.DATASET)
    q1 = corpus.write_delimited(tmp_path / "q1.csv", "utf-8", ",")
    header = read_export(q1).header
    chosen = mapping_mod.suggested_mapping(dataset, header)
    chosen.name = "civica-quarterly"
    chosen.options["date_order"] = "dmy"
    mapping_mod.save_profile(profiles, chosen)

    q2 = corpus.write_delimited(tmp_path / "q2.csv", "cp1252", ";")
    profile = mapping_mod.load_profile("civica-quarterly", profiles)
    assert profile.columns == chosen.columns and profile.date_order == "dmy"
    result = prepare(q2, corpus.DATASET, tmp_path / "out", corpus.ORG, mapping=profile)
    assert (result.accepted, result.quarantined) == (7, 4)
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["mapping"]["name"] == "civica-quarterly"
    assert meta["date_order"]["chosen_by"] == "profile"
    # ... and by path, as `--mapping profiles/civica-quarterly.json` gives it.
    assert mapping_mod.load_profile(profiles / "civica-quarterly.json", tmp_path).name == (
        "civica-quarterly"
    )


def test_cli_suggests_saves_and_uses_a_profile(tmp_path: Path) -> None:
    from tests.support.cli import assert_one_line_error, boldhub

    export = corpus.write_delimited(tmp_path / "civica.csv", "utf-8-sig", "|")
    profiles = tmp_path / "profiles"
    proc = boldhub(
        "mapping", "suggest", str(export), "--dataset", "homelessness",
        "--save", "civica", "--profiles", str(profiles),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "forename" in proc.stdout and "First Name" in proc.stdout
    assert (profiles / "civica.json").is_file()
    out = tmp_path / "out"
    proc = boldhub(
        "prepare", str(export), "--dataset", "homelessness", "--org", corpus.ORG,
        "--mapping", "civica", "--profiles", str(profiles), "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("rows: input=11 accepted=7 quarantined=4")
    # Without the profile, the built-in layout does not fit and the message says what to do.
    proc = boldhub(
        "prepare", str(export), "--dataset", "homelessness", "--org", corpus.ORG,
        "--out", str(tmp_path / "out2"),
    )  # fmt: skip
    assert_one_line_error(proc, "civica.csv", "missing", "boldhub mapping suggest")
    assert not (tmp_path / "out2").exists()
    # A wrong delimiter override is a mapping problem, named as such.
    proc = boldhub(
        "prepare", str(export), "--dataset", "homelessness", "--org", corpus.ORG,
        "--mapping", "civica", "--profiles", str(profiles), "--delimiter", ";",
        "--out", str(tmp_path / "out3"),
    )  # fmt: skip
    assert_one_line_error(proc, "does not fit this export")
