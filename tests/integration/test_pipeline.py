"""The whole pipeline on a small synthetic population: accuracy, privacy, outputs."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from boldhub.demo import DemoResult
from boldhub.hub.audit import verify
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import LinkageRun, Submission
from boldhub.schemas.datasets import SEX
from tests.support.cli import boldhub
from tests.support.privacy_scan import identifiers_from_exports, scan


def test_linkage_is_accurate_on_encodings_only(small_demo: tuple[Path, DemoResult]) -> None:
    _, result = small_demo
    assert result.scores.f1 >= 0.95, result.scores
    assert result.scores.precision >= 0.97
    assert result.records > 3000


def test_no_identifier_reaches_the_hub(small_demo: tuple[Path, DemoResult]) -> None:
    out, _ = small_demo
    exports = sorted((out / "council" / "exports").glob("*.csv"))
    exports = [p for p in exports if p.name != "truth.csv"]
    ids = identifiers_from_exports(exports)
    # The scan must be looking for something real, or it proves nothing.
    assert len(ids.names) > 500 and len(ids.dobs) > 1000 and len(ids.postcodes) > 500
    findings = scan(out / "hub", ids)
    assert findings == [], findings[:10]


def test_privacy_scan_finds_a_planted_identifier(
    small_demo: tuple[Path, DemoResult], tmp_path: Path
) -> None:
    """The scanner itself works: a name hidden in a compressed Parquet file is found."""
    out, _ = small_demo
    exports = [p for p in (out / "council" / "exports").glob("*.csv") if p.name != "truth.csv"]
    ids = identifiers_from_exports(exports)
    name = sorted(n for n in ids.names if len(n) >= 5)[0]
    import pyarrow as pa

    pq.write_table(
        pa.table({"x": ["abc", name.title()]}), tmp_path / "leak.parquet", compression="zstd"
    )
    assert [f.identifier for f in scan(tmp_path, ids)] == [name]


def test_council_side_keeps_the_keymap_and_the_package_has_none(
    small_demo: tuple[Path, DemoResult],
) -> None:
    out, _ = small_demo
    for package in (out / "council").glob("*/*/package"):
        assert sorted(p.name for p in package.iterdir()) == [
            "attributes.parquet",
            "encodings.parquet",
            "manifest.json",
            "manifest.sig",
        ]
        assert (package.parent / "prepared" / "keymap.csv").is_file()


def test_encodings_and_attributes_are_stored_apart(small_demo: tuple[Path, DemoResult]) -> None:
    out, _ = small_demo
    enc = list((out / "hub" / "store" / "encodings").glob("*.parquet"))
    # The linkage side's store and the analysis side's (hub/analysis.py).
    attrs = list((out / "hub" / "analysis" / "attributes").glob("*.parquet"))
    assert len(enc) == len(attrs) == 6
    for path in enc:
        cols = set(pq.read_schema(path).names)
        assert "application_date" not in cols and "ethnicity" not in cols and "sex" not in cols
    for path in attrs:
        cols = set(pq.read_schema(path).names)
        assert not any(c.endswith(("_tok", "_bf", "_toks")) for c in cols)


def test_the_quality_report_breaks_match_rates_down_by_sex(
    small_demo: tuple[Path, DemoResult],
) -> None:
    out, result = small_demo
    [path] = (out / "hub" / "runs").glob("*/quality.json")
    report = json.loads(path.read_text())
    assert list(report["match_rates"]) == ["source", "council", "age_band", "sex", "ethnicity"]
    rows = {row["group"]: row for row in report["match_rates"]["sex"]}
    # Every package carries the sex attribute: no record is "not recorded".
    assert set(rows) <= set(SEX) and {"Female", "Male"} <= set(rows)
    for row in rows.values():
        for count in (row["records"], row["linked"]):
            assert count is None or (count >= 10 and count % 5 == 0)
    released = sum(row["records"] or 0 for row in rows.values())
    assert abs(released - result.records) <= 5 * len(rows) + 10
    assert all(50 <= rows[s]["rate_percent"] <= 100 for s in ("Female", "Male"))
    assert "Match rate by sex" in path.with_name("quality.html").read_text()
    # The hub stores sex only as the coarse category, beside the other attributes.
    for attrs in (out / "hub" / "store" / "attributes").glob("*.parquet"):
        values = set(pq.read_table(attrs, columns=["sex"]).column("sex").to_pylist())
        assert values <= set(SEX)


def test_links_export_covers_every_record(small_demo: tuple[Path, DemoResult]) -> None:
    out, result = small_demo
    with (out / "links.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["record_key", "source", "person_key", "match_probability"]
    assert len(rows) == result.records
    assert len({r["record_key"] for r in rows}) == len(rows)
    assert len({r["person_key"] for r in rows}) == result.persons
    probs = [float(r["match_probability"]) for r in rows if r["match_probability"]]
    assert probs and all(0.0 <= p <= 1.0 for p in probs)


def test_reports_show_only_disclosure_controlled_counts(
    small_demo: tuple[Path, DemoResult],
) -> None:
    out, _ = small_demo
    names = sorted(p.name for p in (out / "reports").glob("*.html"))
    assert names == [
        "DHSC-NDTMS.html",
        "E06000023.html",
        "E07000178.html",
        "E08000025.html",
        "MOJ-PROBATION.html",
        "MOJ-VICTIMS.html",
        "index.html",
        "national.html",
    ]
    for name in names:
        if name == "index.html":
            continue
        html = (out / "reports" / name).read_text()
        checked = 0
        for table in re.findall(r'<table class="dash-table[^"]*">(.*?)</table>', html, re.S):
            header = re.findall(r"<th[^>]*>([^<]*)</th>", table)
            if header[:4] != ["Period", "Breakdown", "Category", "People"]:
                continue
            counts = [3, 4] if "Out of" in header else [3]
            for row in re.findall(r"<tr>(<td>.*?)</tr>", table):
                cells = re.findall(r"<td>([^<]*)</td>", row)
                for i in counts:
                    cell = cells[i].strip()
                    if cell == "[c]":
                        continue
                    n = int(cell.replace(",", ""))
                    assert n >= 10 and n % 5 == 0, (name, cells)
                    checked += 1
        assert checked >= 8, name


def test_every_step_was_audited(small_demo: tuple[Path, DemoResult]) -> None:
    out, _ = small_demo
    hub = open_hub(out / "hub")
    with hub.sessions() as session:
        result = verify(session)
    # The agreement and its six sign-offs, six packages, one run, an export; the release:
    # two output checkers' accounts, its draft, their two approvals and its publication.
    assert result.ok and result.entries == 1 + 6 + 6 + 2 + 2 + 1 + 2 + 1


def test_retention_on_the_demos_hub_leaves_nothing_of_the_expired_data(
    small_demo: tuple[Path, DemoResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past every retention period, `boldhub retention run` leaves no Parquet file, no link
    map and no database row of the demo's data, and the audit chain still verifies."""
    out, _ = small_demo
    home = tmp_path / "hub"
    shutil.copytree(out / "hub", home)
    before = open_hub(home)
    with before.sessions() as s:
        subs = [x.id for x in s.execute(select(Submission)).scalars()]
        runs = [x.id for x in s.execute(select(LinkageRun)).scalars()]
    before.engine.dispose()
    assert subs and runs and list(home.rglob("*.parquet"))
    monkeypatch.setenv("BOLDHUB_NOW", "2060-01-01T00:00:00+00:00")
    dry = boldhub("retention", "run", "--home", str(home), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert list(home.rglob("*.parquet")), "a dry run deletes nothing"
    proc = boldhub("retention", "run", "--home", str(home))
    assert proc.returncode == 0, proc.stderr
    assert not list(home.rglob("*.parquet"))
    leftover = [p for p in home.rglob("*") if p.is_file() and p.name != "hub.sqlite"]
    leftover = [p for p in leftover if not p.name.startswith("hub.sqlite-")]
    assert leftover == [], leftover
    con = sqlite3.connect(home / "hub.sqlite")
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table in ("audit_events", "alembic_version"):
                continue
            for row in con.execute(f'SELECT * FROM "{table}"'):
                text = " ".join(map(str, row))
                assert not any(i in text for i in (*subs, *runs)), (table, row)
    finally:
        con.close()
    verified = boldhub("audit", "verify", "--home", str(home))
    assert verified.returncode == 0, verified.stderr
