"""Sign-in throttling (issue 17: 50 wrong passwords in 17 s, then the right one worked, and
each failure added an audit entry for the council, pushing real events out of the DPO's
view). Throttling must not let someone elsewhere lock the council's staff out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.config import Settings
from boldhub.hub.accounts import create_user
from boldhub.hub.api.app import create_app
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import AuditEvent
from boldhub.hub.throttle import PER_ACCOUNT, PER_CLIENT

COUNCIL = "E08000025"
OFFICER = "officer@council.example"
PASSWORD = "correct horse battery staple"
HTML = {"Accept": "text/html"}


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[tuple[object, Path]]:
    home = tmp_path / "hub"
    app = create_app(home, Settings(cookie_secure=False))
    with open_hub(home).sessions() as s, s.begin():
        for i, email in enumerate((OFFICER, *(f"user{i}@council.example" for i in range(3)))):
            create_user(
                s, email=email, name=f"User {i}", organisation=COUNCIL, role="analyst",
                password=PASSWORD, actor="test",
            )  # fmt: skip
    yield app, home


def _attempt(app: object, client: str, email: str, password: str) -> tuple[int, str]:
    browser = TestClient(app, headers=HTML, client=(client, 50000), follow_redirects=False)  # type: ignore[arg-type]
    page = browser.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = browser.post(
        "/sign-in", data={"csrf_token": token.group(1), "email": email, "password": password}
    )
    return r.status_code, r.text


def _audit(home: Path) -> list[str]:
    with open_hub(home).sessions() as s:
        return list(
            s.execute(
                select(AuditEvent.action)
                .where(AuditEvent.organisation == COUNCIL)
                .where(AuditEvent.action.like("signin%"))
            ).scalars()
        )


def test_guessing_pauses_the_guesser_not_the_officer(site: tuple[object, Path]) -> None:
    app, _ = site
    for _ in range(PER_ACCOUNT):
        status, _ = _attempt(app, "203.0.113.9", OFFICER, "wrong")
        assert status == 400
    # Paused: even the right password is refused from there, before it is checked.
    status, text = _attempt(app, "203.0.113.9", OFFICER, PASSWORD)
    assert status == 429
    assert "Too many failed sign-ins from this device" in text
    assert re.search(r"Wait 1[45] minutes", text)
    # The officer, at the council's own address, signs in as usual.
    status, _ = _attempt(app, "198.51.100.20", OFFICER, PASSWORD)
    assert status == 303


def test_fifty_wrong_passwords_add_two_audit_entries_not_fifty(site: tuple[object, Path]) -> None:
    app, home = site
    refused = 0
    for _ in range(50):
        status, _ = _attempt(app, "203.0.113.9", OFFICER, "wrong")
        refused += status == 429
    assert refused == 50 - PER_ACCOUNT
    assert _audit(home) == ["signin.failed", "signin.paused"]
    status, _ = _attempt(app, "198.51.100.20", OFFICER, PASSWORD)
    assert status == 303
    assert _audit(home) == ["signin.failed", "signin.paused", "signin"]


def test_one_client_trying_many_emails_is_paused(site: tuple[object, Path]) -> None:
    app, _ = site
    tried = 0
    emails = [f"nobody{i}@council.example" for i in range(PER_CLIENT)]
    for email in emails:  # under each email's own limit, over the client's
        status, _ = _attempt(app, "203.0.113.9", email, "wrong")
        assert status == 400
        tried += 1
    assert tried == PER_CLIENT
    status, text = _attempt(app, "203.0.113.9", "user0@council.example", PASSWORD)
    assert status == 429, text
    assert _attempt(app, "198.51.100.20", "user0@council.example", PASSWORD)[0] == 303


def test_the_pause_ends(site: tuple[object, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = site
    monkeypatch.setenv("BOLDHUB_NOW", "2026-12-07T10:00:00+00:00")
    for _ in range(PER_ACCOUNT):
        _attempt(app, "203.0.113.9", OFFICER, "wrong")
    assert _attempt(app, "203.0.113.9", OFFICER, PASSWORD)[0] == 429
    monkeypatch.setenv("BOLDHUB_NOW", "2026-12-07T10:16:00+00:00")
    assert _attempt(app, "203.0.113.9", OFFICER, PASSWORD)[0] == 303
