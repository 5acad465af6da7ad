"""A hub with data in it, for tests of the whole API: one user and API token per role,
submissions from two councils and a central body, a finished linkage run and the release
it drafted, approved by two output checkers, so that every route has something to show."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from boldhub.config import Settings
from boldhub.council.submit import tar_package
from boldhub.hub.accounts import change_role, create_token, create_user
from boldhub.hub.api.app import create_app
from boldhub.hub.store.models import User
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, PASSWORD, Packages, unique_email

# Who holds each role: the council roles in a council, the hub team's in HUB.
ROLE_HOLDERS = {
    "submitter": COUNCIL_A,
    "dpo": COUNCIL_A,
    "analyst": COUNCIL_A,
    "linkage_operator": "HUB",
    "output_checker": "HUB",
    "admin": "HUB",
}
# Senders of the linked packages (each needs a submitter) besides the role holders.
_SENDERS = ((f"homelessness:{COUNCIL_B}", COUNCIL_B), ("probation:MOJ-PROBATION", "MOJ-PROBATION"))


@dataclass
class ApiWorld:
    app: FastAPI
    client: TestClient
    home: Path
    tokens: dict[tuple[str, str], str]  # (organisation, role) -> API token
    roles: dict[int, str]  # user id -> the role the user was created with

    def auth(self, org: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(org, role)]}"}

    def wait_for_linkage(self) -> None:
        self.app.state.jobs.wait()

    def restore_roles(self) -> list[int]:
        """Give every user their first role back, audited as any change is, and say whose
        role had changed: an admin's requests may change anyone's."""
        hub = self.app.state.hub
        changed = []
        with hub.sessions() as session, session.begin():
            for user_id, role in self.roles.items():
                user = session.get(User, user_id)
                if user is not None and user.role != role:
                    change_role(session, user_id, role, actor="test")
                    changed.append(user_id)
        return changed


@contextmanager
def linked_hub(home: Path, packages: Packages) -> Iterator[ApiWorld]:
    """The hub at ``home`` with users, three linked submissions and an approved release."""
    app = create_app(home, Settings(database_url=None, retention_interval_hours=0))
    hub = app.state.hub
    packages.register_agreement(hub)
    people = {(org, role) for role, org in ROLE_HOLDERS.items()}
    people |= {(org, "submitter") for _, org in _SENDERS}
    tokens: dict[tuple[str, str], str] = {}
    roles: dict[int, str] = {}
    with hub.sessions() as session, session.begin():
        for org, role in sorted(people):
            user = create_user(
                session,
                email=unique_email(role, org),
                name=f"{role} {org}",
                organisation=org,
                role=role,
                password=PASSWORD,
                actor="test",
            )
            tokens[(org, role)] = create_token(session, user, "test")
            roles[user.id] = role
    try:
        with TestClient(app) as client:
            world = ApiWorld(app, client, home, tokens, roles)
            _link_and_release(world, packages)
            yield world
            world.wait_for_linkage()
    finally:
        hub.engine.dispose()


def _link_and_release(world: ApiWorld, packages: Packages) -> None:
    client = world.client
    for source, org in ((f"homelessness:{COUNCIL_A}", COUNCIL_A), *_SENDERS):
        sent = client.post(
            "/api/v1/submissions",
            content=tar_package(packages.package(source)),
            headers={"Content-Type": "application/x-tar", **world.auth(org, "submitter")},
        )
        assert sent.status_code == 201, sent.text
    started = client.post("/api/v1/linkage-runs", headers=world.auth("HUB", "linkage_operator"))
    assert started.status_code == 202, started.text
    world.wait_for_linkage()
    (draft,) = client.get("/api/v1/releases", headers=world.auth("HUB", "admin")).json()
    # Two output checkers release it; neither started the run.
    for role in ("output_checker", "admin"):
        decided = client.post(
            f"/api/v1/releases/{draft['id']}/decisions",
            json={"decision": "approve", "comment": "checked"},
            headers=world.auth("HUB", role),
        )
        assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
