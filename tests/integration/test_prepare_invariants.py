"""Invariants of prepare on random messy exports: every row accepted or quarantined, exactly
once, under its own row number; no formula reaches a CSV unescaped."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boldhub.council.prepare import prepare
from boldhub.safecsv import escape_cell
from boldhub.schemas import get_dataset
from tests import corpus
from tests.support.cli import boldhub

HOMELESSNESS = get_dataset("homelessness")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_JUNK = [
    "", " ", "  x  ", "=1+1", "+44 20 7946 0000", "-12", "@SUM(A1)", "\tTAB", "Zo\u00eb",
    "O'Neill", "Smith-Jones", "Nic an tSaoi", "sw1a1aa", "943 476 5919", "31/02/1985",
    "01/01/2099", "14/02/1985", "1985-02-14", "31092", "9.43E+09", "main", "Y", "n", "White",
    'quote "inside"', "comma, inside", "semi;colon", "line\nbreak", "\u00a0nbsp", "NULL",
]  # fmt: skip


def _random_export(path: Path, rng: random.Random) -> tuple[int, int]:
    """A homelessness export with junk everywhere; returns (data rows, blank rows)."""
    header = list(HOMELESSNESS.export_headers)
    rows: list[list[str]] = []
    blank = 0
    for i in range(rng.randrange(1, 60)):
        kind = rng.random()
        if kind < 0.05:
            rows.append([""] * len(header))
            blank += 1
            continue
        row = []
        for h in header:
            if h == "CaseRef":
                row.append(rng.choice([f"HC-{i}", f"HC-{rng.randrange(5)}", "", "=HC"]))
            elif h in ("AppDate", "DutyOwed") and rng.random() < 0.8:
                row.append("03/01/2025" if h == "AppDate" else "relief")
            else:
                row.append(rng.choice(_JUNK))
        if kind < 0.10:
            row = row[: rng.randrange(1, len(header))]  # too few cells
        elif kind < 0.13:
            row = [*row, "extra", "=cells"]  # too many
        rows.append(row)
    if not any(any(c.strip() for c in r) for r in rows):
        rows.append(["HC-x", "Ann", "Lee"] + [""] * (len(header) - 3))
    with path.open("w", encoding=rng.choice(["utf-8", "cp1252"]), newline="") as fh:
        writer = csv.writer(fh, delimiter=rng.choice([",", ";", "|", "\t"]))
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows) - blank, blank


@pytest.mark.parametrize("seed", range(25))
def test_every_row_is_accepted_or_quarantined_exactly_once(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    file = tmp_path / "export.csv"
    data_rows, _blank = _random_export(file, rng)
    out = tmp_path / "out"
    result = prepare(file, "homelessness", out, "E08000025")
    assert result.input_rows == data_rows
    assert result.input_rows == result.accepted + result.quarantined

    accepted = pq.read_table(out / "prepared.parquet").column("row_number").to_pylist()
    with (out / "quarantine.csv").open(newline="", encoding="utf-8") as fh:
        quarantined = [int(r[0]) for r in list(csv.reader(fh))[1:]]
    assert len(accepted) == result.accepted and len(quarantined) == result.quarantined
    numbers = accepted + quarantined
    assert len(set(numbers)) == len(numbers)  # no row twice
    meta = json.loads((out / "meta.json").read_text())
    assert meta["rows"] == {
        "input": result.input_rows,
        "accepted": result.accepted,
        "quarantined": result.quarantined,
    }


def _assert_no_cell_starts_with_a_trigger(folder: Path) -> int:
    checked = 0
    for path in folder.rglob("*.csv"):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell.startswith(TRIGGERS), (path.name, cell)
                    checked += 1
    return checked


def test_formulas_never_reach_a_csv_unescaped(tmp_path: Path) -> None:
    """Formula-like cells in the header and in quarantined rows come out quoted-escaped."""
    header = list(corpus.HEADER)
    header[-1] = "=Notes"
    rows = [list(r) for r in corpus.ROWS]
    for row in rows:
        if row[10] == "":  # the rows with no application date are quarantined
            row[1:4] = ["=cmd|' /C calc'!A0", "+SUM(1)", "-2+3"]
            row[-1] = "@HYPERLINK(x)"
    file = tmp_path / "export.csv"
    with file.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    profiles = tmp_path / "profiles"
    proc = boldhub(
        "mapping", "suggest", str(file), "--dataset", "homelessness", "--save", "x",
        "--profiles", str(profiles),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    proc = boldhub(
        "prepare", str(file), "--dataset", "homelessness", "--org", "E08000025",
        "--mapping", "x", "--profiles", str(profiles), "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "rows: input=11 accepted=7 quarantined=4" in proc.stdout
    assert _assert_no_cell_starts_with_a_trigger(out) > 50
    text = (out / "quarantine.csv").read_text(encoding="utf-8")
    assert "'=Notes" in text and "'=cmd|" in text and "'+SUM(1)" in text and "'@HYPERLINK" in text


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_escape_cell(value: str) -> None:
    assert escape_cell(value) == "'" + value
    assert escape_cell("plain") == "plain"
