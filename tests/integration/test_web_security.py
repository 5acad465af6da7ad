"""Security headers on every response, and the same-origin rule for the API's
cookie-signed calls (issue 17: signed-in pages lacked CSP, frame-ancestors,
X-Frame-Options, X-Content-Type-Options, Referrer-Policy and Cache-Control; cookie-signed
API calls accepted any Origin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.config import Settings
from boldhub.hub.accounts import HUB_ORG, create_token, create_user, sign_in
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import SESSION_COOKIE
from boldhub.hub.api.security import DOCS_CSP, PAGE_CSP
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import Organisation, User

ADMIN = "admin@hub.example"
PASSWORD = "correct horse battery staple"
OWN = "http://testserver"


@pytest.fixture()
def hub_app(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    home = tmp_path / "hub"
    app = create_app(home, Settings(cookie_secure=False))
    hub = open_hub(home)
    with hub.sessions() as s, s.begin():
        create_user(
            s, email=ADMIN, name="Admin", organisation=HUB_ORG, role="admin",
            password=PASSWORD, actor="test",
        )  # fmt: skip
    with TestClient(app) as client:
        yield client, home


def _signed_in(client: TestClient, home: Path) -> None:
    with open_hub(home).sessions() as s, s.begin():
        started = sign_in(s, ADMIN, PASSWORD)
    assert started is not None
    client.cookies.set(SESSION_COOKIE, started[0])


def _codes(home: Path) -> set[str]:
    with open_hub(home).sessions() as s:
        return set(s.execute(select(Organisation.code)).scalars())


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [
        ("/", True),
        ("/submissions", True),
        ("/sign-in", False),
        ("/api/v1/users/me", True),
        ("/api/v1/users/me", False),  # 401
        ("/no-such-page", False),  # 404
        ("/healthz", False),
    ],
)
def test_every_response_carries_the_security_headers(
    hub_app: tuple[TestClient, Path], path: str, signed_in: bool
) -> None:
    client, home = hub_app
    if signed_in:
        _signed_in(client, home)
    r = client.get(path, headers={"Accept": "text/html"} if not path.startswith("/api") else {})
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Content-Security-Policy"] == PAGE_CSP
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached_and_the_api_docs_may_start_their_script(
    hub_app: tuple[TestClient, Path],
) -> None:
    client, _ = hub_app
    css = client.get("/dashboard.css")
    assert css.status_code == 200
    assert css.headers.get("Cache-Control") != "no-store"
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["Content-Security-Policy"] == DOCS_CSP


def test_a_cookie_signed_api_call_from_another_site_is_refused_and_changes_nothing(
    hub_app: tuple[TestClient, Path],
) -> None:
    client, home = hub_app
    _signed_in(client, home)
    body = {"code": "PROVIDER-EXAMPLE", "name": "Example provider", "kind": "provider"}
    before = _codes(home)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        r = client.post("/api/v1/organisations", json=body, headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert "another site" in r.json()["detail"]
        assert _codes(home) == before
    # From the hub's own page, the same call goes through.
    r = client.post("/api/v1/organisations", json=body, headers={"Origin": OWN})
    assert r.status_code == 201, r.text
    assert "PROVIDER-EXAMPLE" in _codes(home)


def test_a_token_call_is_not_a_browsers_and_reads_no_origin(
    hub_app: tuple[TestClient, Path],
) -> None:
    client, home = hub_app
    with open_hub(home).sessions() as s, s.begin():
        admin = s.execute(select(User).where(User.email == ADMIN)).scalar_one()
        token = create_token(s, admin, "test")
    body = {"code": "PROVIDER-TOKEN", "name": "Token provider", "kind": "provider"}
    r = client.post(
        "/api/v1/organisations",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Origin": "https://elsewhere.example"},
    )
    assert r.status_code == 201, r.text
