"""The hub's server killed (SIGKILL) in the middle of an upload and in the middle of
ingest (issue 17). After a restart: no partial submission is visible, nothing accepted
before is lost, person keys are unchanged, the same package is accepted when sent again,
and the audit chain and the store verify.

The kill in ingest is placed exactly: the server runs with ingest's file move wrapped so
that the process kills itself after the second of the package's four files reached the
store, the moment that leaves most behind."""

from __future__ import annotations

import signal
import socket
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from boldhub.config import get_settings
from boldhub.council.submit import submission_body
from boldhub.hub import audit
from boldhub.hub.ingest import ingest
from boldhub.hub.integrity import verify_store
from boldhub.hub.linking import links_path, options_from, run_linkage
from boldhub.hub.store import Hub, open_hub
from boldhub.hub.store.models import Submission
from boldhub.linkage.links import person_keys
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, Packages, build_packages, tokens_for
from tests.support.server import start_serve, upload

OPTIONS = options_from(get_settings())

_SERVE_DYING_IN_INGEST = textwrap.dedent(
    """
    import os, signal, sys
    from boldhub.hub import ingest
    from boldhub.cli.main import run

    move, moved = ingest._move, []

    def move_then_die(src, dst):
        move(src, dst)
        moved.append(dst)
        if len(moved) == 2:
            os.kill(os.getpid(), signal.SIGKILL)

    ingest._move = move_then_die
    sys.argv = ["boldhub", *sys.argv[1:]]
    run()
    """
)


@dataclass
class Served:
    home: Path
    hub: Hub
    packages: Packages
    tokens: dict[str, str]
    log: Path

    def start(self, *, dying_in_ingest: bool = False) -> tuple[subprocess.Popen[bytes], str]:
        code = _SERVE_DYING_IN_INGEST if dying_in_ingest else None
        return start_serve(self.home, self.log, code=code)

    def upload(self, url: str, source: str) -> httpx.Response:
        token = self.tokens[source.split(":", 1)[1]]
        return upload(url, token, self.packages.package(source))

    def submissions(self) -> dict[str, str]:
        with self.hub.sessions() as session:
            return {s.id: s.source for s in session.execute(select(Submission)).scalars()}

    def intact(self) -> bool:
        with self.hub.sessions() as session:
            chain = audit.verify(session).ok
        return chain and verify_store(self.hub).ok


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("server-faults")
    packages = build_packages(root / "packages", persons=300, seed=6)
    home = root / "hub"
    hub = open_hub(home, create=True)
    packages.register_agreement(hub)
    tokens = tokens_for(hub, [COUNCIL_A, COUNCIL_B])
    yield Served(home, hub, packages, tokens, root / "serve.log")


def _sources(served: Served, org: str) -> list[str]:
    return sorted(s for s in served.packages.by_source if s.endswith(org))


def test_killed_in_an_upload_and_in_ingest_loses_nothing_and_shows_nothing(
    served: Served,
) -> None:
    # Everything but one council's packages is accepted and linked before the faults.
    late = _sources(served, COUNCIL_B)
    for source in sorted(set(served.packages.by_source) - set(late)):
        ingest(served.hub, served.packages.package(source))
    before = served.submissions()
    first_run, _ = run_linkage(served.hub, actor="test", options=OPTIONS)
    keys_before = person_keys(pq.read_table(links_path(served.hub, first_run)))

    # 1. Killed while the body of an upload is still arriving.
    proc, url = served.start()
    body = submission_body(served.packages.package(late[0]))
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /api/v1/submissions HTTP/1.1\r\nHost: hub\r\n"
            + f"Authorization: Bearer {served.tokens[COUNCIL_B]}\r\n".encode()
            + f"Content-Type: application/x-tar\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[: len(body) // 2]
        )
        deadline = time.monotonic() + 20
        while not list(served.home.glob("tmp/upload-*/upload.tar.partial")):
            assert time.monotonic() < deadline, "the upload never reached the hub's disk"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert served.submissions() == before

    # 2. Killed in ingest, with two of the four files moved into the store.
    proc, url = served.start(dying_in_ingest=True)
    with pytest.raises(httpx.TransportError):
        served.upload(url, late[0])
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert list(served.home.glob("store/**/*.partial")) or list(
        served.home.glob("analysis/**/*.partial")
    ), "the kill came too late to leave anything"
    assert served.submissions() == before

    # Person keys come out of the faults unchanged: a run over what was accepted gives
    # every record the key it had.
    again, _ = run_linkage(served.hub, actor="test", options=OPTIONS)
    assert person_keys(pq.read_table(links_path(served.hub, again))) == keys_before

    # 3. Restarted: nothing of either is visible, everything before is there, and the
    # package is accepted, once, when sent again.
    proc, url = served.start()
    try:
        listed = httpx.get(
            url + "/api/v1/submissions",
            headers={"Authorization": f"Bearer {served.tokens[COUNCIL_B]}"},
        ).json()
        assert listed == []  # council B's own view: neither half-received package
        for source in late:
            assert served.upload(url, source).status_code == 201
        assert served.upload(url, late[0]).status_code == 200  # a repeat, not a second copy
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    after = served.submissions()
    assert set(before) < set(after) and sorted(after.values()) == sorted(served.packages.by_source)
    assert served.intact()
    assert "Traceback" not in served.log.read_text()
