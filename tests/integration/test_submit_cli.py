"""`boldhub submit` against the real service: upload, safe retry, clear refusals, JSON logs."""

from __future__ import annotations

import json
from collections.abc import Iterator
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
    bad = tampered_copy(packages.package(f"homelessness:{COUNCIL_A}"), tmp_path / "bad")
    proc = boldhub("submit", str(bad), "--hub", url, env={"BOLDHUB_TOKEN": token})
    assert_one_line_error(proc, "refused", "422", "hash check failed")
    other = boldhub(
        "submit",
        str(packages.package("probation:MOJ-PROBATION")),
        "--hub",
        url,
        env={"BOLDHUB_TOKEN": token},
    )
    assert_one_line_error(other, "403", "MOJ-PROBATION")
    no_token = boldhub("submit", str(bad), "--hub", url, env={"BOLDHUB_TOKEN": "bh_wrong"})
    assert_one_line_error(no_token, "401")


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
