"""The upload page reads nobody's files before it knows who is sending them, and answers
an upload over the cap with 413 (issue 17: uploads through the page were parsed, and
written to temporary files, before sign-in and CSRF were checked, read whole into memory,
and a size over the cap gave 400; an anonymous 200 MiB post was written to disk before
the redirect to sign-in)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from boldhub.config import Settings
from boldhub.hub.accounts import create_user, sign_in
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import SESSION_COOKIE
from boldhub.hub.store import open_hub

COUNCIL = "E08000025"
EMAIL = "submitter@council.example"
PASSWORD = "correct horse battery staple"
LIMIT = 100_000
HTML = {"Accept": "text/html"}


@pytest.fixture()
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Path, list[int]]]:
    parsed: list[int] = []
    original = Request.form

    def counting_form(self: Request, **kwargs: Any) -> Any:
        parsed.append(1)
        return original(self, **kwargs)

    monkeypatch.setattr(Request, "form", counting_form)
    home = tmp_path / "hub"
    app = create_app(home, Settings(cookie_secure=False, max_upload_bytes=LIMIT))
    with open_hub(home).sessions() as s, s.begin():
        create_user(
            s, email=EMAIL, name="Submitter", organisation=COUNCIL, role="submitter",
            password=PASSWORD, actor="test",
        )  # fmt: skip
    yield app, home, parsed


def _signed_in(app: Any, home: Path) -> tuple[TestClient, str]:
    with open_hub(home).sessions() as s, s.begin():
        started = sign_in(s, EMAIL, PASSWORD)
    assert started is not None
    client = TestClient(app, headers=HTML, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, started[0])
    page = client.get("/submissions").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return client, token.group(1)


def _staged(home: Path) -> list[Path]:
    return list(home.joinpath("tmp").glob("upload-*/*")) if home.joinpath("tmp").exists() else []


def test_an_anonymous_upload_is_not_read(hub: tuple[Any, Path, list[int]]) -> None:
    app, home, parsed = hub
    client = TestClient(app, headers=HTML, follow_redirects=False)
    files = [("files", ("manifest.json", b"x" * 50_000))]
    r = client.post("/submissions", data={"csrf_token": "whatever"}, files=files)
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in")
    assert parsed == []
    assert _staged(home) == []


def test_a_declared_size_over_the_cap_is_413_before_the_body_is_read(
    hub: tuple[Any, Path, list[int]],
) -> None:
    app, home, parsed = hub
    client, token = _signed_in(app, home)
    files = [("files", ("encodings.parquet", b"x" * (LIMIT + 100_000)))]
    r = client.post("/submissions", data={"csrf_token": token}, files=files)
    assert r.status_code == 413
    assert f"larger than the hub&#39;s limit of {LIMIT:,} bytes" in r.text or (
        f"larger than the hub's limit of {LIMIT:,} bytes" in r.text
    )
    assert parsed == []
    assert _staged(home) == []


def test_files_over_the_cap_are_refused_while_they_are_copied(
    hub: tuple[Any, Path, list[int]],
) -> None:
    app, home, parsed = hub
    client, token = _signed_in(app, home)
    # Under the declared-size check (cap plus the form's overhead), over the cap in files.
    files = [
        ("files", ("encodings.parquet", b"x" * 60_000)),
        ("files", ("attributes.parquet", b"y" * 60_000)),
    ]
    r = client.post("/submissions", data={"csrf_token": token}, files=files)
    assert r.status_code == 413
    assert parsed == [1]
    assert _staged(home) == []


def test_a_wrong_csrf_token_stores_nothing(hub: tuple[Any, Path, list[int]]) -> None:
    app, home, _ = hub
    client, _token = _signed_in(app, home)
    files = [("files", ("manifest.json", b"{}"))]
    r = client.post("/submissions", data={"csrf_token": "forged"}, files=files)
    assert r.status_code == 403
    assert _staged(home) == []
