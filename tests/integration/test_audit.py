"""`boldhub audit verify` names the entry that was edited, deleted, inserted or moved."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from boldhub.demo import DemoResult
from tests.support.cli import assert_one_line_error, boldhub


def _edit(con: sqlite3.Connection) -> None:
    con.execute("UPDATE audit_events SET details = '{\"records\": 1}' WHERE seq = 3")


def _delete_middle(con: sqlite3.Connection) -> None:
    con.execute("DELETE FROM audit_events WHERE seq = 4")


def _delete_last(con: sqlite3.Connection) -> None:
    con.execute("DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)")


def _reorder(con: sqlite3.Connection) -> None:
    con.execute("UPDATE audit_events SET seq = -1 WHERE seq = 2")
    con.execute("UPDATE audit_events SET seq = 2 WHERE seq = 3")
    con.execute("UPDATE audit_events SET seq = 3 WHERE seq = -1")


def _insert(con: sqlite3.Connection) -> None:
    cols = [r[1] for r in con.execute("PRAGMA table_info(audit_events)")]
    row = dict(
        zip(cols, con.execute("SELECT * FROM audit_events WHERE seq = 5").fetchone(), strict=True)
    )
    con.execute("UPDATE audit_events SET seq = seq + 1000 WHERE seq > 5")
    con.execute("UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000")
    row["seq"] = 6
    con.execute(
        f"INSERT INTO audit_events ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


@pytest.mark.parametrize(
    ("tamper", "needle"),
    [
        (_edit, "entry 3"),
        (_delete_middle, "entry 4 is missing"),
        (_delete_last, "deleted"),
        (_reorder, "entry 2"),
        (_insert, "entry 6"),
    ],
    ids=["edit", "delete", "truncate", "reorder", "insert"],
)
def test_tampering_is_detected(
    small_demo: tuple[Path, DemoResult],
    tmp_path: Path,
    tamper: Callable[[sqlite3.Connection], None],
    needle: str,
) -> None:
    out, _ = small_demo
    home = tmp_path / "hub"
    shutil.copytree(out / "hub", home)
    ok = boldhub("audit", "verify", "--home", str(home))
    assert ok.returncode == 0 and "audit log intact" in ok.stdout, ok.stderr
    con = sqlite3.connect(home / "hub.sqlite")
    with con:
        tamper(con)
    con.close()
    proc = boldhub("audit", "verify", "--home", str(home))
    assert_one_line_error(proc, "FAILED", needle)


@pytest.mark.postgres
def test_verify_against_postgres_names_the_edited_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from boldhub.hub.ingest import ingest
    from boldhub.hub.store import open_hub
    from tests.support.hubworld import build_packages, postgres_url

    base = postgres_url()
    name = f"boldhub_audit_{tmp_path.name[-6:].replace('-', '_')}"
    admin = psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        monkeypatch.setenv("BOLDHUB_DATABASE_URL", url)
        packages = build_packages(tmp_path / "packages", persons=200, seed=2)
        hub = open_hub(tmp_path / "hub", create=True)
        packages.register_agreement(hub)
        for package in list(packages.by_source.values())[:3]:
            ingest(hub, package)
        hub.engine.dispose()
        env = {"BOLDHUB_DATABASE_URL": url}
        ok = boldhub("audit", "verify", "--home", str(tmp_path / "hub"), env=env)
        # The agreement, each party's sign-off, three packages.
        entries = 1 + len(packages.trust.signing_keys) + 3
        assert ok.returncode == 0 and f"{entries} entries" in ok.stdout, ok.stderr
        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as con:
            con.execute("UPDATE audit_events SET actor = 'someone else' WHERE seq = 2")
        bad = boldhub("audit", "verify", "--home", str(tmp_path / "hub"), env=env)
        assert_one_line_error(bad, "FAILED", "entry 2")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
