"""A sparse tar is refused before anything is unpacked (issue 17: a 10 KB sparse tar
declaring a 1,000 MiB member wrote about 1 GB of zeros before it was refused, inside the
async handler, stalling every other request)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from boldhub.config import Settings
from boldhub.hub.accounts import create_token, create_user
from boldhub.hub.api.app import create_app
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import Submission

MIB = 1024 * 1024


def test_a_sparse_member_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    app = create_app(home, Settings(cookie_secure=False))
    with open_hub(home).sessions() as s, s.begin():
        user = create_user(
            s, email="submitter@council.example", name="S", organisation="E08000025",
            role="submitter", password=None, actor="test",
        )  # fmt: skip
        token = create_token(s, user, "test")
    folder = tmp_path / "package"
    folder.mkdir()
    with (folder / "encodings.parquet").open("wb") as fh:
        fh.truncate(1000 * MIB)  # a hole: no block of it is on disk
    archive = tmp_path / "sparse.tar"
    subprocess.run(
        [
            "tar",
            "--sparse",
            "--format=gnu",
            "-cf",
            str(archive),
            "-C",
            str(folder),
            "encodings.parquet",
        ],
        check=True,
    )
    body = archive.read_bytes()
    assert len(body) < 64 * 1024

    client = TestClient(app)
    r = client.post(
        "/api/v1/submissions",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-tar"},
    )
    assert r.status_code == 422, r.text
    assert "sparse file" in r.json()["detail"]
    staged = list(home.joinpath("tmp").rglob("*")) if home.joinpath("tmp").exists() else []
    assert [p for p in staged if p.is_file()] == []
    with open_hub(home).sessions() as s:
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 0
