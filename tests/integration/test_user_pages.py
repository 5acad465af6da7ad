"""An organisation's admin disables and enables accounts and revokes tokens on the People
page (issue 17: by command and page); nobody else can, and nobody learns of accounts
they may not manage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.config import Settings
from boldhub.hub.accounts import HUB_ORG, create_token, create_user, sign_in
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import SESSION_COOKIE
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import AuditEvent

PASSWORD = "correct horse battery staple"
COUNCIL = "E08000025"
OTHER = "E06000023"


def _browser(home: Path, email: str) -> TestClient:
    with open_hub(home).sessions() as s, s.begin():
        started = sign_in(s, email, PASSWORD)
    assert started is not None
    client = TestClient(create_app(home, Settings(cookie_secure=False)), follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, started[0])
    return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


@pytest.fixture
def home(tmp_path: Path) -> tuple[Path, dict[str, int], dict[str, str]]:
    home = tmp_path / "hub"
    hub = open_hub(home, create=True)
    ids, tokens = {}, {}
    with hub.sessions() as s, s.begin():
        for key, org, role in [
            ("admin", COUNCIL, "admin"),
            ("officer", COUNCIL, "submitter"),
            ("analyst", COUNCIL, "analyst"),
            ("elsewhere", OTHER, "submitter"),
            ("hub-admin", HUB_ORG, "admin"),
        ]:
            user = create_user(
                s,
                email=f"{key}@example.gov.uk",
                name=key.title(),
                organisation=org,
                role=role,
                password=PASSWORD,
                actor="test",
            )
            ids[key] = user.id
            tokens[key] = create_token(s, user, "script")
    return home, ids, tokens


def _me(home: Path, token: str) -> int:
    client = TestClient(create_app(home, Settings(cookie_secure=False)))
    return client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_an_admin_disables_enables_and_revokes_on_the_page(home) -> None:  # type: ignore[no-untyped-def]
    path, ids, tokens = home
    admin = _browser(path, "admin@example.gov.uk")
    page = admin.get("/users")
    assert page.status_code == 200
    assert 'href="/users"' in page.text  # in the menu
    assert "Officer" in page.text and "script: in use" in page.text
    assert "Elsewhere" not in page.text  # another council's people are not listed
    csrf = _csrf(page.text)

    officer = _browser(path, "officer@example.gov.uk")
    done = admin.post(f"/users/{ids['officer']}/disabled", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert "account is disabled" in admin.get(done.headers["location"]).text
    assert _me(path, tokens["officer"]) == 401
    assert officer.get("/api/v1/users/me").status_code == 401  # signed out at once

    assert admin.post(f"/users/{ids['officer']}/enabled", data={"csrf_token": csrf}).is_redirect
    assert _me(path, tokens["officer"]) == 200
    assert admin.post(f"/users/{ids['officer']}/revoked", data={"csrf_token": csrf}).is_redirect
    assert _me(path, tokens["officer"]) == 401
    assert "script: revoked" in admin.get("/users").text

    # Refused plainly: disabling oneself, revoking what is already revoked.
    own = admin.post(f"/users/{ids['admin']}/disabled", data={"csrf_token": csrf})
    assert own.status_code == 400 and "cannot disable your own account" in own.text
    again = admin.post(f"/users/{ids['officer']}/revoked", data={"csrf_token": csrf})
    assert again.status_code == 400 and "no token" in again.text

    with open_hub(path).sessions() as s:
        actions = list(s.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())
    assert [a for a in actions if a in ("user.disabled", "user.enabled", "token.revoked")] == [
        "user.disabled",
        "user.enabled",
        "token.revoked",
    ]


def test_nobody_else_can_and_nobody_learns_who_exists(home) -> None:  # type: ignore[no-untyped-def]
    path, ids, tokens = home
    admin = _browser(path, "admin@example.gov.uk")
    csrf = _csrf(admin.get("/users").text)
    # Another council's account and an id nobody has are answered alike.
    for target in (ids["elsewhere"], 999_999):
        r = admin.post(f"/users/{target}/disabled", data={"csrf_token": csrf})
        assert r.status_code == 404, r.text
    assert _me(path, tokens["elsewhere"]) == 200
    assert admin.get(f"/users?organisation={OTHER}").status_code == 403

    analyst = _browser(path, "analyst@example.gov.uk")
    assert analyst.get("/users").status_code == 403
    assert 'href="/users"' not in analyst.get("/").text
    token_less = analyst.post(f"/users/{ids['officer']}/disabled", data={"csrf_token": "x"})
    assert token_less.status_code in (400, 403)
    assert _me(path, tokens["officer"]) == 200

    # The hub's admin manages any organisation's people.
    hub_admin = _browser(path, "hub-admin@example.gov.uk")
    page = hub_admin.get(f"/users?organisation={OTHER}")
    assert page.status_code == 200 and "Elsewhere" in page.text
    r = hub_admin.post(f"/users/{ids['elsewhere']}/disabled", data={"csrf_token": _csrf(page.text)})
    assert r.status_code == 303 and f"organisation={OTHER}" in r.headers["location"]
    assert _me(path, tokens["elsewhere"]) == 401
