"""API tokens expire and can be revoked; users can be disabled and enabled again, by
command, each audited (issue 17: no command or route revoked a token or disabled a user,
and tokens never expired)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.config import Settings
from boldhub.hub.accounts import sign_in
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import SESSION_COOKIE
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import AuditEvent
from tests.support.cli import assert_one_line_error, boldhub

EMAIL = "officer@council.example"
PASSWORD = "correct horse battery staple"


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    proc = boldhub(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _status(home: Path, token: str) -> int:
    client = TestClient(create_app(home, Settings(cookie_secure=False)))
    r = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    if r.status_code == 401:
        assert "revoked, has expired or belongs to a disabled user" in r.json()["detail"]
    return r.status_code


def _actions(home: Path) -> list[str]:
    with open_hub(home).sessions() as s:
        return list(s.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def test_tokens_are_revoked_and_expire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = str(tmp_path / "hub")
    _run(
        "admin", "create-user", "--home", home, "--email", EMAIL, "--name", "Officer",
        "--org", "E08000025", "--role", "submitter",
    )  # fmt: skip
    script = _run("admin", "create-token", "--home", home, "--email", EMAIL, "--label", "script")
    laptop = _run("admin", "create-token", "--home", home, "--email", EMAIL, "--label", "laptop")
    assert _status(Path(home), script) == _status(Path(home), laptop) == 200

    out = _run("admin", "revoke-token", "--home", home, "--email", EMAIL, "--label", "script")
    assert out == f"revoked: 1 token of {EMAIL}"
    assert _status(Path(home), script) == 401
    assert _status(Path(home), laptop) == 200  # only the one labelled
    assert_one_line_error(
        boldhub("admin", "revoke-token", "--home", home, "--email", EMAIL, "--label", "script"),
        "no token labelled 'script'",
    )

    brief = _run("admin", "create-token", "--home", home, "--email", EMAIL, "--days", "1")
    assert _status(Path(home), brief) == 200
    monkeypatch.setenv("BOLDHUB_NOW", "2099-01-01T00:00:00+00:00")
    assert _status(Path(home), brief) == 401
    monkeypatch.delenv("BOLDHUB_NOW")
    assert_one_line_error(
        boldhub("admin", "create-token", "--home", home, "--email", EMAIL, "--days", "0"),
        "1 to 730 days",
    )
    assert _actions(Path(home)).count("token.revoked") == 1


def test_a_disabled_user_is_signed_out_everywhere_until_enabled(tmp_path: Path) -> None:
    home = str(tmp_path / "hub")
    _run(
        "admin", "create-user", "--home", home, "--email", EMAIL, "--name", "Officer",
        "--org", "E08000025", "--role", "analyst", env={"BOLDHUB_PASSWORD": PASSWORD},
    )  # fmt: skip
    token = _run("admin", "create-token", "--home", home, "--email", EMAIL)
    with open_hub(Path(home)).sessions() as s, s.begin():
        started = sign_in(s, EMAIL, PASSWORD)
    assert started is not None
    browser = TestClient(create_app(Path(home), Settings(cookie_secure=False)))
    browser.cookies.set(SESSION_COOKIE, started[0])
    assert browser.get("/api/v1/users/me").status_code == 200

    assert _run("admin", "disable-user", "--home", home, "--email", EMAIL) == f"disabled: {EMAIL}"
    assert browser.get("/api/v1/users/me").status_code == 401
    assert _status(Path(home), token) == 401
    with open_hub(Path(home)).sessions() as s, s.begin():
        assert sign_in(s, EMAIL, PASSWORD) is None
    assert_one_line_error(
        boldhub("admin", "disable-user", "--home", home, "--email", EMAIL), "already disabled"
    )

    assert _run("admin", "enable-user", "--home", home, "--email", EMAIL) == f"enabled: {EMAIL}"
    assert _status(Path(home), token) == 200
    actions = _actions(Path(home))
    assert actions.index("user.disabled") < actions.index("user.enabled")
