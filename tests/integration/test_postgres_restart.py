"""PostgreSQL stopped and started again under the running hub (issue 17): while it is
down, requests get a clear 503 and nothing is half-stored; once it is back, the hub
serves again without a restart of its own, and nothing accepted before is lost.

The test runs its own PostgreSQL cluster (initdb as the postgres user, on a free port),
so that stopping it disturbs no other test."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from boldhub.hub import audit
from boldhub.hub.integrity import verify_store
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import Submission
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, Packages, build_packages, tokens_for
from tests.support.server import free_port, running_hub, upload

BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)


class Cluster:
    def __init__(self) -> None:
        if BIN is None or shutil.which("runuser") is None or os.geteuid() != 0:
            pytest.skip("needs PostgreSQL's binaries and root (to run them as postgres)")
        self.dir = Path(tempfile.mkdtemp(prefix="boldhub-pg-"))
        shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, tool: str, *args: str) -> None:
        assert BIN is not None
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(BIN / tool), *args],
            check=True,
            capture_output=True,
            cwd=self.dir,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def kill(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    pg = Cluster()
    pg.start()
    try:
        yield pg
    finally:
        pg.kill()


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return build_packages(tmp_path_factory.mktemp("pg-restart"), persons=120, seed=9)


def test_the_hub_rides_out_a_database_restart(
    cluster: Cluster, packages: Packages, tmp_path: Path
) -> None:
    home = tmp_path / "hub"
    hub = open_hub(home, create=True, database_url=cluster.url)
    packages.register_agreement(hub)
    tokens = tokens_for(hub, [COUNCIL_A, COUNCIL_B])
    sources = [f"homelessness:{COUNCIL_A}", f"homelessness:{COUNCIL_B}"]

    def send(url: str, source: str) -> httpx.Response:
        return upload(url, tokens[source.split(":", 1)[1]], packages.package(source))

    env = {"BOLDHUB_DATABASE_URL": cluster.url, "BOLDHUB_COOKIE_SECURE": "false"}
    with running_hub(home, env) as url:
        assert send(url, sources[0]).status_code == 201

        cluster.stop()
        down = send(url, sources[1])
        assert down.status_code == 503, down.text
        assert down.headers["content-type"].startswith("application/problem+json")
        assert "database" in down.json()["detail"] and "try again" in down.json()["detail"]
        assert httpx.get(url + "/healthz").status_code == 503
        assert not list(home.glob("store/**/*.partial")) and not list(home.glob("tmp/*"))

        cluster.start()
        assert httpx.get(url + "/healthz").status_code == 200
        assert send(url, sources[1]).status_code == 201
        assert send(url, sources[0]).status_code == 200  # still there: a repeat
    log = (home.parent / next(p.name for p in home.parent.glob("serve-*.log"))).read_text()
    assert "Traceback" not in log

    with hub.sessions() as s:
        stored = sorted(sub.source for sub in s.execute(select(Submission)).scalars())
        assert audit.verify(s).ok
    assert stored == sorted(sources)
    assert verify_store(hub).ok
    hub.engine.dispose()
