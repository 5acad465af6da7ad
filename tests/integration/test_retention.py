"""Retention: past its agreement's periods, data leaves every store of the hub (Parquet
files, link maps, run outputs, releases, saved models, database rows), one deletion
record goes on the audit trail, and the chain still verifies.

The hub is built once, at a fixed clock (BOLDHUB_NOW), from real packages: ingested (one
source twice, so that a submission was superseded), linked and released. Each test works
on its own copy. The agreement's retention terms are set on its stored document directly,
so that the periods are known here whatever the agreement file's defaults are.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from boldhub.cli.main import app
from boldhub.config import get_settings
from boldhub.hub import audit, retention
from boldhub.hub.ingest import ingest
from boldhub.hub.linking import options_from, run_linkage
from boldhub.hub.releases import draft_release
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import AuditEvent, LinkageRun, Submission
from boldhub.hub.store.trust import Agreement
from tests.support.hubworld import build_packages

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
TERMS = {
    "encodings_days": 30,
    "attributes_days": 45,
    "link_maps_days": 20,
    "releases_days": 60,
    "deletion_method": "deleted by `boldhub retention run`",
}
# Tables whose rows never name a submission or run of the data: the audit trail is kept
# on purpose (ids, codes and counts only), and Alembic's own bookkeeping.
KEPT_TABLES = {"audit_events", "alembic_version"}
DATA_SUFFIXES = {".parquet", ".duckdb", ".json", ".sig", ".html", ".csv"}


def _at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("retention")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOLDHUB_NOW", T0.isoformat())
        packages = build_packages(root / "packages", persons=120, seed=5)
        hub = open_hub(root / "hub", create=True)
        packages.register_agreement(hub)
        for _source, package in sorted(packages.by_source.items()):
            ingest(hub, package, actor="test")
        again = next(iter(sorted(packages.by_source)))
        ingest(hub, packages.reencode(again, "again"), actor="test")
        run_id, _ = run_linkage(hub, actor="test", options=options_from(get_settings()))
        draft_release(hub, actor="test", run_id=run_id)
    hub.engine.dispose()
    return root / "hub", packages.trust.agreement.id


@pytest.fixture
def home(built: tuple[Path, str], tmp_path: Path) -> Path:
    copy = tmp_path / "hub"
    shutil.copytree(built[0], copy)
    _set_terms(copy, built[1], TERMS)
    return copy


def _set_terms(home: Path, agreement_id: str, terms: dict[str, Any] | None) -> None:
    """The stored document with these retention terms (None: an older agreement's, none)."""
    hub = open_hub(home)
    with hub.sessions() as session, session.begin():
        row = session.get(Agreement, agreement_id)
        assert row is not None
        doc = dict(row.document)
        if terms is None:
            doc.pop("schema_version", None)
            doc.pop("retention", None)
        else:
            doc["schema_version"] = 2
            doc["retention"] = terms
        row.document = doc
    hub.engine.dispose()


def _ids(home: Path) -> tuple[set[str], set[str]]:
    hub = open_hub(home)
    with hub.sessions() as session:
        subs = set(session.execute(select(Submission.id)).scalars())
        runs = set(session.execute(select(LinkageRun.id)).scalars())
    hub.engine.dispose()
    return subs, runs


def _files(home: Path) -> list[Path]:
    """Every file but the database's own (its -wal and -shm come and go with connections)."""
    return sorted(p for p in home.rglob("*") if p.is_file() and "hub.sqlite" not in p.name)


def _rows_naming(home: Path, ids: set[str]) -> list[str]:
    """Every row of every table but the audit trail's that names one of ``ids``."""
    hub = open_hub(home)
    found = []
    with hub.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table in KEPT_TABLES:
                continue
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                cells = json.dumps([str(c) for c in row])
                found += [f"{table}: {i}" for i in ids if i in cells]
    hub.engine.dispose()
    return found


def _audit(home: Path) -> tuple[audit.VerifyResult, list[AuditEvent]]:
    hub = open_hub(home)
    with hub.sessions() as session:
        result = audit.verify(session)
        events = list(
            session.execute(
                select(AuditEvent).where(AuditEvent.action == retention.ACTION)
            ).scalars()
        )
    hub.engine.dispose()
    return result, events


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, ["retention", "run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_before_the_periods_end_nothing_goes(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOLDHUB_NOW", _at(10))
    before = _files(home), _ids(home)
    result = retention.run(open_hub(home), actor="test")
    assert result.plan.items == () and result.audit_seq is None
    assert (_files(home), _ids(home)) == before
    assert _audit(home)[1] == []


def test_past_every_period_nothing_of_the_data_is_left(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subs, runs = _ids(home)
    assert len(subs) == 6 and len(runs) == 1  # five sources, one of them sent twice
    assert any(p.suffix == ".parquet" for p in _files(home))
    monkeypatch.setenv("BOLDHUB_NOW", _at(400))

    out = _cli("--home", str(home))

    assert "encodings: 6 files deleted" in out
    assert "attributes: 6 files deleted" in out
    assert "submission rows: 6 rows deleted" in out
    assert "link maps and run outputs: 1 run folder deleted" in out
    assert "linkage run rows: 1 row deleted" in out
    assert "releases: 1 report folder deleted" in out
    assert "saved models: 1 agreement's folder deleted" in out
    assert "no retention terms" not in out
    # Never a server path or a submission's or run's id on the terminal.
    assert str(home) not in out and str(home.parent) not in out
    assert not any(i in out for i in subs | runs)

    left = _files(home)
    assert not [p for p in left if p.suffix in DATA_SUFFIXES], left
    assert not [p for p in left if any(i in str(p) for i in subs | runs)], left
    for folder in ("runs", "reports", "models", "store/encodings", "analysis/attributes"):
        assert not any((home / folder).rglob("*.*")), folder
    assert _ids(home) == (set(), set())
    assert _rows_naming(home, subs | runs) == []

    verified, records = _audit(home)
    assert verified.ok, verified.problem
    [record] = records
    assert record.details["counts"]["submissions"] == 6
    assert sorted(record.details["deleted"]["submissions"]) == sorted(subs)
    assert record.details["deleted"]["linkage_runs"] == sorted(runs)

    # Nothing is left to do: a second run deletes nothing and records nothing.
    assert "nothing is past its retention period" in _cli("--home", str(home))
    assert len(_audit(home)[1]) == 1


def test_a_run_goes_with_its_link_maps_period_before_its_inputs(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subs, runs = _ids(home)
    monkeypatch.setenv("BOLDHUB_NOW", _at(25))  # link maps: 20 days; encodings: 30
    result = retention.run(open_hub(home), actor="test")
    assert result.plan.counts()["linkage_runs"] == 1
    assert result.plan.counts()["submissions"] == 0
    assert _ids(home) == (subs, set())
    [run_id] = runs
    assert not (home / "runs" / run_id).exists()
    release = f"{run_id}.r1"
    assert (home / "reports" / release).is_dir()  # a release keeps its own period
    assert (home / "models").is_dir()  # the agreement's submissions are still here

    # At 30 days the submissions go (encodings: 30 < attributes: 45), all of each at once.
    monkeypatch.setenv("BOLDHUB_NOW", _at(31))
    result = retention.run(open_hub(home), actor="test")
    assert result.plan.counts()["submissions"] == 6
    assert result.plan.counts()["attributes"] == 6
    assert _ids(home) == (set(), set())
    assert not list((home / "analysis" / "attributes").glob("*.parquet"))
    assert (home / "reports" / release).is_dir()

    monkeypatch.setenv("BOLDHUB_NOW", _at(61))
    assert retention.run(open_hub(home), actor="test").plan.counts()["releases"] == 1
    assert not (home / "reports" / release).exists()
    verified, records = _audit(home)
    assert verified.ok and len(records) == 3


def test_a_run_goes_when_any_input_goes(
    home: Path, built: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_terms(home, built[1], {**TERMS, "link_maps_days": 365, "encodings_days": 5})
    monkeypatch.setenv("BOLDHUB_NOW", _at(6))
    found = retention.plan(open_hub(home))
    assert found.counts()["linkage_runs"] == 1 and found.counts()["submissions"] == 6
    [run_item] = found.of_kind("linkage_runs")
    assert run_item.due == T0 + timedelta(days=5)


def test_dry_run_lists_and_deletes_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOLDHUB_NOW", _at(400))
    before = [(p, p.stat().st_size) for p in _files(home)]
    ids = _ids(home)
    out = _cli("--home", str(home), "--dry-run")
    assert "encodings: 6 files would go (bold-demo: 6; due since 2026-04-01)" in out
    assert "link maps and run outputs: 1 run folder would go" in out
    # Each item that would go is named (hub ids, never data).
    subs, runs = ids
    assert all(f"  {s} (agreement bold-demo; due " in out for s in subs)
    assert all(f"  {r} (agreement bold-demo; due " in out for r in runs)
    assert "nothing was deleted" in out
    assert [(p, p.stat().st_size) for p in _files(home)] == before
    assert _ids(home) == ids
    assert _audit(home)[1] == []


def test_an_agreement_without_retention_terms_keeps_its_data(
    home: Path, built: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_terms(home, built[1], None)
    monkeypatch.setenv("BOLDHUB_NOW", _at(4000))
    before = _files(home), _ids(home)
    out = _cli("--home", str(home))
    assert (
        f"agreement {built[1]} has no retention terms; nothing of it is deleted: migrate it "
        "with `boldhub agreement migrate`"
    ) in out
    assert "nothing is past its retention period" in out
    assert (_files(home), _ids(home)) == before
    assert _audit(home)[1] == []


def test_files_left_by_an_interrupted_run_go_on_the_next(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows and the record commit first; a file that could not be removed then is found
    again from the record."""
    subs, _runs = _ids(home)
    sid = sorted(subs)[0]
    kept = home / "store" / "encodings" / f"{sid}.parquet"
    saved = kept.read_bytes()
    monkeypatch.setenv("BOLDHUB_NOW", _at(400))
    retention.run(open_hub(home), actor="test")
    kept.write_bytes(saved)  # as if its deletion had failed after the commit
    found = retention.plan(open_hub(home))
    assert [(i.kind, i.id, i.leftover) for i in found.items] == [("encodings", sid, True)]
    retention.run(open_hub(home), actor="test")
    assert not kept.exists()
    assert _audit(home)[0].ok


def test_the_daily_job_runs_in_the_service_and_survives_a_failure(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLDHUB_NOW", _at(400))
    hub = open_hub(home)

    async def serve_briefly() -> None:
        lifespan = retention.daily_job(hub, 24, first_after=timedelta(0))
        async with lifespan(None):
            for _ in range(300):
                await asyncio.sleep(0.05)
                if not _ids(home)[0]:
                    break

    asyncio.run(serve_briefly())
    assert _ids(home) == (set(), set())
    assert [e.actor for e in _audit(home)[1]] == ["retention-job"]

    def broken(*_args: object, **_kwargs: object) -> retention.Result:
        raise RuntimeError("a message that could quote data")

    monkeypatch.setattr(retention, "run", broken)
    assert asyncio.run(retention.run_once_logged(hub)) is None
