"""The hub service's API, run against SQLite and against a real PostgreSQL server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.config import Settings
from boldhub.council.submit import tar_package
from boldhub.hub.accounts import create_token, create_user
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import app_settings
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import AuditEvent, Submission
from tests.support.hubworld import (
    COUNCIL_A,
    COUNCIL_B,
    COUNCIL_ROLES,
    HUB_ROLES,
    PASSWORD,
    Packages,
    build_packages,
    postgres_url,
    tampered_copy,
    unique_email,
)

TAR = {"Content-Type": "application/x-tar"}


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return build_packages(tmp_path_factory.mktemp("packages"))


def _postgres_database() -> Iterator[str]:
    import psycopg

    base = postgres_url()
    name = f"boldhub_test_{secrets.token_hex(4)}"
    admin_dsn = base.replace("postgresql+psycopg://", "postgresql://")
    try:
        con = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {admin_dsn} ({exc}); start it or set BOLDHUB_TEST_POSTGRES_URL"
        )
    con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


@dataclass
class World:
    client: TestClient
    home: Path
    tokens: dict[tuple[str, str], str]  # (organisation, role) -> API token
    emails: dict[tuple[str, str], str]
    packages: Packages
    backend: str

    def auth(self, org: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(org, role)]}"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, packages: Packages
) -> Iterator[World]:
    home = tmp_path_factory.mktemp(f"hub-{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        pg = None
        if request.param == "postgres":
            pg = _postgres_database()
            mp.setenv("BOLDHUB_DATABASE_URL", next(pg))
        else:
            mp.delenv("BOLDHUB_DATABASE_URL", raising=False)
        app = create_app(home)
        hub = open_hub(home)
        packages.register_agreement(hub)
        tokens: dict[tuple[str, str], str] = {}
        emails: dict[tuple[str, str], str] = {}
        with hub.sessions() as session, session.begin():
            people = [(org, role) for org in (COUNCIL_A, COUNCIL_B) for role in COUNCIL_ROLES]
            people += [("MOJ-PROBATION", "submitter"), ("MOJ-PROBATION", "analyst")]
            people += [("HUB", role) for role in HUB_ROLES]
            for org, role in people:
                email = unique_email(role, org)
                user = create_user(
                    session,
                    email=email,
                    name=f"{role} {org}",
                    organisation=org,
                    role=role,
                    password=PASSWORD,
                    actor="test",
                )
                tokens[(org, role)] = create_token(session, user, "test")
                emails[(org, role)] = email
        with TestClient(app) as client:
            yield World(client, home, tokens, emails, packages, request.param)
        hub.engine.dispose()
        if pg is not None:
            next(pg, None)


def _upload(w: World, source: str, org: str, role: str = "submitter", package: Path | None = None):  # type: ignore[no-untyped-def]
    body = tar_package(package or w.packages.package(source))
    return w.client.post("/api/v1/submissions", content=body, headers={**TAR, **w.auth(org, role)})


def _stored(w: World) -> tuple[int, list[str]]:
    hub = open_hub(w.home)
    with hub.sessions() as s:
        n = len(list(s.execute(select(Submission)).scalars()))
    files = sorted(p.name for p in (w.home / "store").rglob("*") if p.is_file())
    return n, files


# -- operations ------------------------------------------------------------------------


def test_healthz_metrics_and_openapi(world: World) -> None:
    assert world.client.get("/healthz").json()["status"] == "ok"
    metrics = world.client.get("/metrics")
    assert metrics.status_code == 200 and "http_requests_total" in metrics.text
    spec = world.client.get("/openapi.json").json()
    assert "/api/v1/submissions" in spec["paths"]
    assert world.client.get("/docs").status_code == 200


def _bare(schema: dict[str, Any]) -> bool:
    """A schema that says nothing about the fields: {} or an object without properties."""
    if "$ref" in schema:
        return False
    if schema.get("type") == "array":
        return _bare(schema.get("items", {}))
    return not schema or (schema.get("type") == "object" and not schema.get("properties"))


def test_every_json_api_route_declares_a_typed_response(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    models = spec["components"]["schemas"]
    json_routes = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api"):
            continue
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                content = response.get("content", {})
                if "application/json" not in content:
                    assert "text/html" in content or "text/csv" in content, (method, path)
                    continue
                json_routes += 1
                schema = content["application/json"].get("schema", {})
                assert not _bare(schema), (method, path, schema)
                ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
                if ref:  # a named model, with its fields
                    assert models[ref.rsplit("/", 1)[1]]["properties"], (method, path)
    assert json_routes >= 10
    assert set(models) >= {"UploadReceipt", "SubmissionPublic", "LinkageRuns", "UserPublic"}


def test_the_app_uses_the_settings_it_was_created_with(tmp_path: Path) -> None:
    cookies = {}
    for secure in (False, True):
        app = create_app(tmp_path / "hub", Settings(database_url=None, cookie_secure=secure))
        with TestClient(app) as client:
            cookies[secure] = client.get("/sign-in").headers["set-cookie"].lower()
        app.state.hub.engine.dispose()
    assert "boldhub_login_csrf=" in cookies[False] and "secure" not in cookies[False]
    assert "secure" in cookies[True]


def test_unauthenticated_is_a_problem_not_a_page(world: World) -> None:
    r = world.client.get("/api/v1/submissions")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 401 and "Bearer" in body["detail"]


def test_bad_token_is_refused(world: World) -> None:
    r = world.client.get("/api/v1/submissions", headers={"Authorization": "Bearer bh_nope"})
    assert r.status_code == 401


# -- uploads ---------------------------------------------------------------------------


def test_upload_is_idempotent(world: World) -> None:
    source = f"homelessness:{COUNCIL_A}"
    first = _upload(world, source, COUNCIL_A)
    assert first.status_code == 201, first.text
    again = _upload(world, source, COUNCIL_A)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["created"] is False
    listed = world.client.get(
        "/api/v1/submissions", headers=world.auth(COUNCIL_A, "submitter")
    ).json()
    assert [s["id"] for s in listed].count(first.json()["id"]) == 1


def test_upload_for_another_organisation_is_refused_and_nothing_stored(world: World) -> None:
    before = _stored(world)
    r = _upload(world, f"homelessness:{COUNCIL_B}", COUNCIL_A)
    assert r.status_code == 403 and COUNCIL_B in r.json()["detail"]
    assert _stored(world) == before


def test_tampered_upload_is_refused_and_nothing_stored(world: World, tmp_path: Path) -> None:
    bad = tampered_copy(world.packages.package(f"homelessness:{COUNCIL_A}"), tmp_path / "bad")
    before = _stored(world)
    r = _upload(world, "", COUNCIL_A, package=bad)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "hash check failed" in r.json()["detail"]
    assert _stored(world) == before
    assert not list((world.home / "tmp").glob("upload-*"))


def test_not_a_tar_is_a_422(world: World) -> None:
    r = world.client.post(
        "/api/v1/submissions",
        content=b"hello",
        headers={**TAR, **world.auth(COUNCIL_A, "submitter")},
    )
    assert r.status_code == 422 and "tar" in r.json()["detail"]


def test_oversized_upload_is_a_413(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app's settings are read once, by create_app; routes get them from app_settings.
    app = world.client.app
    small = app.state.settings.model_copy(update={"max_upload_bytes": 1000})  # type: ignore[attr-defined]
    monkeypatch.setitem(app.dependency_overrides, app_settings, lambda: small)  # type: ignore[attr-defined]
    before = _stored(world)
    r = _upload(world, f"homelessness:{COUNCIL_A}", COUNCIL_A)
    assert r.status_code == 413
    assert _stored(world) == before


def test_roles_without_upload_rights_cannot_upload(world: World) -> None:
    for role in ("dpo", "analyst"):
        r = _upload(world, f"homelessness:{COUNCIL_A}", COUNCIL_A, role=role)
        assert r.status_code == 403, role
        assert "cannot send packages" in r.json()["detail"]


def test_resubmission_for_the_same_period_supersedes(world: World) -> None:
    source = f"homelessness:{COUNCIL_B}"
    first = _upload(world, source, COUNCIL_B)
    assert first.status_code in (200, 201)
    newer = world.packages.reencode(source, f"resubmit-{world.backend}")
    second = _upload(world, source, COUNCIL_B, package=newer)
    assert second.status_code == 201 and second.json()["supersedes"] == first.json()["id"]
    old = world.client.get(
        f"/api/v1/submissions/{first.json()['id']}", headers=world.auth(COUNCIL_B, "dpo")
    ).json()
    assert old["status"] == "superseded"


# -- linkage, reports, audit -----------------------------------------------------------


@pytest.fixture(scope="module")
def linked(world: World) -> World:
    for source, org in (
        (f"homelessness:{COUNCIL_A}", COUNCIL_A),
        (f"homelessness:{COUNCIL_B}", COUNCIL_B),
        ("probation:MOJ-PROBATION", "MOJ-PROBATION"),
    ):
        assert _upload(world, source, org).status_code in (200, 201)
    refused = world.client.post("/api/v1/linkage-runs", headers=world.auth(COUNCIL_A, "submitter"))
    assert refused.status_code == 403
    started = world.client.post(
        "/api/v1/linkage-runs", headers=world.auth("HUB", "linkage_operator")
    )
    assert started.status_code == 202, started.text
    world.client.app.state.jobs.wait()  # type: ignore[attr-defined]
    runs = world.client.get(
        "/api/v1/linkage-runs", headers=world.auth("HUB", "linkage_operator")
    ).json()
    assert runs["last_error"] is None and runs["runs"], runs
    # The run drafted a release: no party sees it until two output checkers approve it.
    assert (
        world.client.get("/api/v1/reports", headers=world.auth(COUNCIL_A, "analyst")).json() == []
    )
    (draft,) = world.client.get("/api/v1/releases", headers=world.auth("HUB", "admin")).json()
    assert draft["status"] == "draft" and draft["approvals"] == 0
    url = f"/api/v1/releases/{draft['id']}/decisions"
    # A party may not decide; the linkage operator who started the run may not either.
    for who in ((COUNCIL_A, "output_checker"), ("HUB", "linkage_operator")):
        r = world.client.post(url, json={"decision": "approve"}, headers=world.auth(*who))
        assert r.status_code == 403, r.text
    for who in (("HUB", "output_checker"), ("HUB", "admin")):
        r = world.client.post(
            url, json={"decision": "approve", "comment": "checked"}, headers=world.auth(*who)
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    return world


def test_submissions_show_as_linked_after_a_run(linked: World) -> None:
    subs = linked.client.get(
        "/api/v1/submissions", headers=linked.auth(COUNCIL_A, "submitter")
    ).json()
    current = [s for s in subs if s["status"] == "current"]
    assert current and all(s["linked_in"] for s in current)
    assert all(s["organisation"] == COUNCIL_A for s in subs)


def test_each_council_reads_its_own_report_and_the_national_one(linked: World) -> None:
    areas = linked.client.get("/api/v1/reports", headers=linked.auth(COUNCIL_A, "analyst")).json()
    assert sorted(areas) == sorted([COUNCIL_A, "national"])
    own = linked.client.get(
        f"/api/v1/reports/{COUNCIL_A}", headers=linked.auth(COUNCIL_A, "analyst")
    )
    assert own.status_code == 200 and "Birmingham" in own.text
    assert (
        linked.client.get(
            "/api/v1/reports/national", headers=linked.auth(COUNCIL_A, "analyst")
        ).status_code
        == 200
    )
    checker = linked.client.get(
        "/api/v1/reports", headers=linked.auth("HUB", "output_checker")
    ).json()
    assert set(checker) >= {COUNCIL_A, COUNCIL_B, "national"}


def test_dpo_reads_own_audit_trail(linked: World) -> None:
    trail = linked.client.get(
        f"/api/v1/audit/{COUNCIL_A}", headers=linked.auth(COUNCIL_A, "dpo")
    ).json()
    actions = {e["action"] for e in trail}
    assert {"user.created", "token.created", "submission.accepted"} <= actions


def test_admin_changes_a_role_and_it_is_audited(linked: World) -> None:
    hub = open_hub(linked.home)
    me = linked.client.get("/api/v1/users/me", headers=linked.auth(COUNCIL_A, "analyst")).json()
    r = linked.client.patch(
        f"/api/v1/users/{me['id']}/role",
        json={"role": "analyst"},
        headers=linked.auth("HUB", "admin"),
    )
    assert r.status_code == 200
    bad = linked.client.patch(
        f"/api/v1/users/{me['id']}/role", json={"role": "king"}, headers=linked.auth("HUB", "admin")
    )
    assert bad.status_code == 422
    # Whoever may not manage a user gets the answer a missing id gets: ids cannot be
    # enumerated (issue 17).
    refused = linked.client.patch(
        f"/api/v1/users/{me['id']}/role",
        json={"role": "admin"},
        headers=linked.auth(COUNCIL_A, "dpo"),
    )
    missing = linked.client.patch(
        "/api/v1/users/999999/role", json={"role": "admin"}, headers=linked.auth(COUNCIL_A, "dpo")
    )
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["detail"].replace(str(me["id"]), "N") == missing.json()["detail"].replace(
        "999999", "N"
    )
    with hub.sessions() as s:
        last = (
            s.execute(select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
            .scalars()
            .all()
        )
    assert last and last[-1].subject == f"user:{me['id']}"
    verify = linked.client.get("/api/v1/audit", headers=linked.auth("HUB", "admin")).json()
    assert verify["ok"] is True


def test_validation_errors_are_problems(linked: World) -> None:
    r = linked.client.patch("/api/v1/users/abc/role", json={}, headers=linked.auth("HUB", "admin"))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


# -- council A can never read council B ------------------------------------------------


def _b_submission(w: World) -> str:
    subs = w.client.get("/api/v1/submissions", headers=w.auth(COUNCIL_B, "dpo")).json()
    return str(subs[0]["id"])


@pytest.mark.parametrize("role", COUNCIL_ROLES)
@pytest.mark.parametrize("endpoint", ["submission", "submission-list", "report", "audit", "users"])
def test_council_a_never_reads_council_b(linked: World, role: str, endpoint: str) -> None:
    headers = linked.auth(COUNCIL_A, role)
    b_sub = _b_submission(linked)
    if endpoint == "submission":
        r = linked.client.get(f"/api/v1/submissions/{b_sub}", headers=headers)
        assert r.status_code == 404
        assert "Bristol" not in r.text and "homelessness" not in r.text
        return
    elif endpoint == "submission-list":
        r = linked.client.get("/api/v1/submissions", headers=headers)
        assert r.status_code in (200, 403)
        if r.status_code == 200:
            assert all(s["organisation"] == COUNCIL_A for s in r.json())
    elif endpoint == "report":
        # Another council's report reads as absent: nobody learns what it holds.
        r = linked.client.get(f"/api/v1/reports/{COUNCIL_B}", headers=headers)
        assert r.status_code == 404
        assert "Bristol" not in r.text
        csv_file = f"/api/v1/reports/{COUNCIL_B}/files/{COUNCIL_B}.csv"
        assert linked.client.get(csv_file, headers=headers).status_code == 404
        listed = linked.client.get("/api/v1/reports", headers=headers).json()
        assert COUNCIL_B not in listed
    elif endpoint == "audit":
        r = linked.client.get(f"/api/v1/audit/{COUNCIL_B}", headers=headers)
        assert r.status_code == 403
    else:
        r = linked.client.get(f"/api/v1/users?organisation={COUNCIL_B}", headers=headers)
        assert r.status_code == 403
    assert b_sub not in r.text
