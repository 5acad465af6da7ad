"""`boldhub submit` against the real service: upload, safe retry, clear refusals, JSON logs."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from boldhub.hub.accounts import create_token, create_user
from boldhub.hub.store import open_hub
from tests.support.cli import assert_one_line_error, boldhub
from tests.support.hubworld import COUNCIL_A, PASSWORD, Packages, build_packages, tampered_copy
from tests.support.privacy_scan import identifiers_from_exports, scan
from tests.support.server import running_hub


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Packages, str]]:
    root = tmp_path_factory.mktemp("submit")
    packages = build_packages(root / "packages", persons=300, seed=9)
    home = root / "hub"
    hub = open_hub(home, create=True)
    packages.register_agreement(hub)
    with hub.sessions() as s, s.begin():
        user = create_user(
            s,
            email="sub@example.gov.uk",
            name="Sub",
            organisation=COUNCIL_A,
            role="submitter",
            password=PASSWORD,
            actor="test",
        )
        token = create_token(s, user, "cli")
    hub.engine.dispose()
    with running_hub(home) as url:
        yield url, home, packages, token


def test_submit_then_retry_is_one_submission(served: tuple[str, Path, Packages, str]) -> None:
    url, _home, packages, token = served
    package = packages.package(f"homelessness:{COUNCIL_A}")
    first = boldhub("submit", str(package), "--hub", url, env={"BOLDHUB_TOKEN": token})
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("accepted: submission=")
    again = boldhub("submit", str(package), "--hub", url, env={"BOLDHUB_TOKEN": token})
    assert again.returncode == 0 and again.stdout.startswith("already received")
    ident = first.stdout.split()[1]
    assert ident.startswith("submission=") and ident in again.stdout


def test_submit_refusals_are_one_line(
    served: tuple[str, Path, Packages, str], tmp_path: Path
) -> None:
    url, _, packages, token = served
    other = boldhub(
        "submit",
        str(packages.package("probation:MOJ-PROBATION")),
        "--hub",
        url,
        env={"BOLDHUB_TOKEN": token},
    )
    assert_one_line_error(other, "403", "MOJ-PROBATION")
    good = packages.package(f"homelessness:{COUNCIL_A}")
    no_token = boldhub("submit", str(good), "--hub", url, env={"BOLDHUB_TOKEN": "bh_wrong"})
    assert_one_line_error(no_token, "401")


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A stand-in hub that records every request and accepts every upload."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.dumps({"id": "S1", "source": "x", "records": 1, "created": True})
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_clear_text_file_in_the_package_folder_is_never_sent(
    served: tuple[str, Path, Packages, str], recorder: tuple[str, list[str]], tmp_path: Path
) -> None:
    """Issue 12 #1: the folder is refused before any connection, naming the stray file."""
    _, _, packages, token = served
    url, seen = recorder
    folder = Path(shutil.copytree(packages.package(f"homelessness:{COUNCIL_A}"), tmp_path / "p"))
    export = next((packages.root / "exports").glob("homelessness*.csv"))
    shutil.copy(export, folder / "other-file.csv")
    proc = boldhub("submit", str(folder), "--hub", url, env={"BOLDHUB_TOKEN": token})
    assert_one_line_error(proc, "other-file.csv", "does not list", "move it out of the folder")
    assert seen == []
    (folder / "other-file.csv").unlink()
    sent = boldhub("submit", str(folder), "--hub", url, env={"BOLDHUB_TOKEN": token})
    assert sent.returncode == 0, sent.stderr
    assert seen == ["/api/v1/submissions"]  # the recorder does see what is sent


def test_a_file_changed_after_encoding_is_never_sent(
    served: tuple[str, Path, Packages, str], recorder: tuple[str, list[str]], tmp_path: Path
) -> None:
    _, _, packages, token = served
    url, seen = recorder
    bad = tampered_copy(packages.package(f"homelessness:{COUNCIL_A}"), tmp_path / "bad")
    proc = boldhub("submit", str(bad), "--hub", url, env={"BOLDHUB_TOKEN": token})
    assert_one_line_error(proc, "hash check failed", "encodings.parquet", "encode again")
    assert seen == []


def test_submit_to_nowhere_says_so(served: tuple[str, Path, Packages, str]) -> None:
    _, _, packages, token = served
    proc = boldhub(
        "submit",
        str(packages.package(f"homelessness:{COUNCIL_A}")),
        "--hub",
        "http://127.0.0.1:9",
        "--retries",
        "1",
        env={"BOLDHUB_TOKEN": token},
    )
    assert_one_line_error(proc, "could not reach the hub")


def test_service_logs_are_json_and_hold_no_identifier(
    served: tuple[str, Path, Packages, str],
) -> None:
    _url, home, packages, _ = served
    logs = sorted(home.parent.glob("serve-*.log"))
    assert logs
    lines = [line for line in logs[-1].read_text().splitlines() if line.strip()]
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)
    exports = [p for p in (packages.root / "exports").glob("*.csv") if p.name != "truth.csv"]
    assert scan(home, identifiers_from_exports(exports)) == []
