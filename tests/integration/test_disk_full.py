"""The disk filling during ingest (issue 17): a clear error, nothing half-stored, nothing
accepted before lost, and the same package accepted once space is freed.

The hub's home lives on a small tmpfs mounted for the test (root only: CI runs as root),
filled with a ballast file to leave less room than the package needs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from boldhub.config import Settings
from boldhub.council.submit import submission_body
from boldhub.errors import DiskFull
from boldhub.hub import audit
from boldhub.hub.api.app import create_app
from boldhub.hub.ingest import ingest
from boldhub.hub.integrity import verify_store
from boldhub.hub.store import Hub, open_hub
from boldhub.hub.store.models import Submission
from boldhub.privacy.package import PACKAGE_FILES
from tests.support.cli import assert_one_line_error, boldhub
from tests.support.hubworld import Packages, build_packages, tokens_for

PAGE = 4096


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return build_packages(tmp_path_factory.mktemp("disk-full"), persons=300, seed=8)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _fill(disk: Path, leave: int) -> Path:
    """A ballast file that leaves ``leave`` bytes free (to the page)."""
    ballast = disk / "ballast"
    size = max(0, (_free(disk) - leave) // PAGE * PAGE)
    with ballast.open("wb") as fh:
        fh.write(b"\0" * size)
    return ballast


def _size(package: Path) -> int:
    return sum((package / name).stat().st_size for name in PACKAGE_FILES)


def _state(hub: Hub) -> tuple[int, list[str]]:
    with hub.sessions() as session:
        count = session.execute(select(func.count()).select_from(Submission)).scalar_one()
    leftovers = sorted(
        str(p.relative_to(hub.home))
        for p in hub.home.rglob("*")
        if p.name.endswith(".partial") or (p.parent.name == "tmp" and p.is_dir())
    )
    return count, leftovers


@pytest.mark.parametrize(
    ("pages_over", "fails_in"),
    [
        # Room for half the package: copying it into the hub's staging folder fails.
        (None, OSError),
        # Room for the package and ten pages: the files are in, the database write fails.
        (10, OperationalError),
    ],
    ids=["while-copying", "while-recording"],
)
def test_a_full_disk_refuses_the_package_cleanly_and_it_is_accepted_once_freed(
    packages: Packages, small_disk: Path, pages_over: int | None, fails_in: type[Exception]
) -> None:
    home = small_disk / "hub"
    hub = open_hub(home, create=True)
    packages.register_agreement(hub)
    (first, *rest) = sorted(packages.by_source.values())
    ingest(hub, first)
    second = rest[0]

    leave = _size(second) // 2 if pages_over is None else _size(second) + pages_over * PAGE
    ballast = _fill(small_disk, leave)
    with pytest.raises(DiskFull, match="disk is full") as refused:
        ingest(hub, second)
    assert isinstance(refused.value.__context__, fails_in), refused.value.__context__
    assert _state(hub) == (1, [])
    # The same through the command line: one line, no traceback, exit non-zero.
    proc = boldhub("ingest", str(second), "--home", str(home))
    assert_one_line_error(proc, "disk is full", "nothing of it was kept")
    assert _state(hub) == (1, [])

    ballast.unlink()
    result = ingest(hub, second)
    assert result.created
    assert _state(hub) == (2, [])
    assert verify_store(hub).ok
    with hub.sessions() as session:
        assert audit.verify(session).ok


def test_an_upload_to_a_full_disk_is_a_507_and_stores_nothing(
    packages: Packages, small_disk: Path
) -> None:
    home = small_disk / "hub"
    hub = open_hub(home, create=True)
    packages.register_agreement(hub)
    source = sorted(packages.by_source)[0]
    org = source.split(":", 1)[1]
    token = tokens_for(hub, [org])[org]
    client = TestClient(create_app(home, Settings(cookie_secure=False)))
    body = submission_body(packages.package(source))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-tar"}

    ballast = _fill(small_disk, len(body) // 2)
    refused = client.post("/api/v1/submissions", content=body, headers=headers)
    assert refused.status_code == 507, refused.text
    assert "disk is full" in refused.json()["detail"]
    assert _state(hub) == (0, [])

    ballast.unlink()
    assert client.post("/api/v1/submissions", content=body, headers=headers).status_code == 201
    assert _state(hub) == (1, [])
