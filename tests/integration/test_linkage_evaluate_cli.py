"""`boldhub evaluate` on a small labelled CSV: both sides scored, one line at the end."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from boldhub.synth import generate
from tests.support.cli import assert_one_line_error, boldhub

LAST_LINE = re.compile(
    r"^boldhub: f1=(\d\.\d{4}) seconds=(\d+\.\d); splink: f1=(\d\.\d{4}) seconds=(\d+\.\d)$"
)


def labelled_csv(root: Path, persons: int = 300, seed: int = 3) -> Path:
    """Three synthetic exports' identifiers, with each row's true person id."""
    summary = generate(root / "exports", persons=persons, councils=2, seed=seed)
    truth: dict[str, str] = {}
    with summary.truth.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth[row["source_row_id"]] = row["person_id"]
    layouts = {
        "homelessness": ("CaseRef", "Forename", "Surname", "DateOfBirth", "Sex", "Postcode"),
        "probation": ("EventID", "FirstName", "LastName", "DOB", "Gender", "Postcode"),
        "victims": ("ReferralID", "Forename", "Surname", "DOB", "Sex", "Postcode"),
    }
    out = root / "labelled.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["First Name", "Surname", "Date of Birth", "Sex", "Postcode", "pid", "source"]
        )
        for source, export in sorted(summary.files.items()):
            layout = layouts.get(source.split(":")[0])
            if layout is None:
                continue
            with export.open(newline="", encoding="utf-8") as ex:
                for row in csv.DictReader(ex):
                    writer.writerow([*(row[c] for c in layout[1:]), truth[row[layout[0]]], source])
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return labelled_csv(tmp_path_factory.mktemp("evaluate"))


def test_evaluate_scores_both_and_writes_every_row(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "persons.csv"
    proc = boldhub("evaluate", str(sample), "--truth-column", "pid", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    match = LAST_LINE.match(last)
    assert match, last
    ours, theirs = float(match.group(1)), float(match.group(3))
    assert ours >= 0.9 and theirs >= 0.9
    with sample.open(newline="", encoding="utf-8") as fh:
        n = sum(1 for _ in csv.DictReader(fh))
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["row"]) for r in rows] == list(range(1, n + 1))
    assert all(r["person_key"].startswith("PK") for r in rows)


def test_evaluate_names_a_missing_truth_column(sample: Path, tmp_path: Path) -> None:
    proc = boldhub(
        "evaluate", str(sample), "--truth-column", "nope", "--out", str(tmp_path / "o.csv")
    )
    assert_one_line_error(proc, "--truth-column nope", "pid")
    assert not (tmp_path / "o.csv").exists()


def test_a_column_that_cannot_be_standardised_is_ignored_in_one_line(
    sample: Path, tmp_path: Path
) -> None:
    """Postcodes from another country (FEBRL's four digits): none standardises. The run
    links on the other columns, says so in one line, reports recall by group (a tenth of
    the dates of birth are missing), and gives the same result twice."""
    foreign = tmp_path / "foreign.csv"
    with (
        sample.open(newline="", encoding="utf-8") as src,
        foreign.open("w", newline="", encoding="utf-8") as dst,
    ):
        reader, writer = csv.DictReader(src), None
        for i, row in enumerate(reader):
            if writer is None:
                writer = csv.DictWriter(dst, fieldnames=list(row))
                writer.writeheader()
            # And every tenth date of birth missing: recall is reported for that group.
            dob = "" if i % 10 == 0 else row["Date of Birth"]
            writer.writerow({**row, "Postcode": str(2000 + i % 900), "Date of Birth": dob})
    lines: list[list[str]] = []
    outputs: list[list[list[str]]] = []
    for run in range(2):
        out = tmp_path / f"persons-{run}.csv"
        proc = boldhub("evaluate", str(foreign), "--truth-column", "pid", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        lines.append(proc.stdout.strip().splitlines())
        with out.open(newline="", encoding="utf-8") as fh:
            groups: dict[str, set[str]] = {}
            for row in csv.DictReader(fh):
                groups.setdefault(row["person_key"], set()).add(row["row"])
        # Person keys are drawn afresh each run; who is linked with whom is the result.
        outputs.append(sorted(sorted(g) for g in groups.values()))
    said = [line for line in lines[0] if line.startswith("foreign.csv: ignored postcode")]
    assert len(said) == 1, lines[0]
    assert "is not a valid UK postcode" in said[0] and "linked on the other columns" in said[0]
    assert any(line.startswith("recall by group: all ") for line in lines[0])
    no_dob = [line for line in lines[0] if line.strip().startswith("no date of birth:")]
    assert len(no_dob) == 1 and re.search(r"\d[\d,]* true pairs; \d\.\d{4} \(boldhub\)", no_dob[0])
    match = LAST_LINE.match(lines[0][-1])
    assert match, lines[0][-1]
    assert float(match.group(1)) >= 0.85 and float(match.group(3)) >= 0.85
    # Same file, same result: the throwaway key is derived from the file.
    assert outputs[0] == outputs[1]
    assert [LAST_LINE.match(x[-1]).group(1, 3) for x in lines if LAST_LINE.match(x[-1])] == [
        match.group(1, 3)
    ] * 2
