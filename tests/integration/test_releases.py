"""Output releases: drafted from a run, invisible until two different output checkers
approve, never approvable by whoever started the run, and never record-level."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.config import Settings, get_settings
from boldhub.demo import DemoResult
from boldhub.errors import Denied, UserError
from boldhub.hub import releases as rel
from boldhub.hub.accounts import HUB_ORG, Principal, create_token, create_user, principal_of
from boldhub.hub.api.app import create_app
from boldhub.hub.linking import options_from, run_linkage
from boldhub.hub.store import Hub, open_hub
from boldhub.hub.store.models import AuditEvent
from boldhub.outcomes.disclosure import SUPPRESSED

COUNCIL_A = "E08000025"
COUNCIL_B = "E06000023"
PASSWORD = "correct horse battery staple"


@dataclass
class World:
    hub: Hub
    people: dict[str, Principal]
    tokens: dict[str, str]
    old_release: str  # the demo's own, approved
    draft: str  # a new run's, started by the admin


@pytest.fixture(scope="module")
def world(
    small_demo: tuple[Path, DemoResult], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    out, _ = small_demo
    home = tmp_path_factory.mktemp("releases") / "hub"
    shutil.copytree(out / "hub", home)
    hub = open_hub(home)
    roles = {
        "checker1": (HUB_ORG, "output_checker"),
        "checker2": (HUB_ORG, "output_checker"),
        "admin": (HUB_ORG, "admin"),
        "analyst_a": (COUNCIL_A, "analyst"),
        "analyst_b": (COUNCIL_B, "analyst"),
        "operator": (HUB_ORG, "linkage_operator"),
    }
    people: dict[str, Principal] = {}
    tokens: dict[str, str] = {}
    with hub.sessions() as s, s.begin():
        for key, (org, role) in roles.items():
            user = create_user(
                s,
                email=f"{key}@example.gov.uk",
                name=key.title(),
                organisation=org,
                role=role,
                password=PASSWORD,
                actor="test",
            )
            people[key] = principal_of(s, user)
            tokens[key] = create_token(s, user, "test")
    (old,) = [r.id for r in rel.releases(hub) if r.status == "approved"]
    run_id, _ = run_linkage(hub, actor=people["admin"].actor, options=options_from(get_settings()))
    draft = rel.draft_release(hub, actor="test", run_id=run_id)
    yield World(hub, people, tokens, old, draft.id)
    hub.engine.dispose()


def _api(world: World, who: str) -> TestClient:
    app = create_app(world.hub.home, Settings(cookie_secure=False))
    return TestClient(app, headers={"Authorization": f"Bearer {world.tokens[who]}"})


def test_the_demo_approved_its_release_with_two_checkers(
    small_demo: tuple[Path, DemoResult],
) -> None:
    out, _ = small_demo
    hub = open_hub(out / "hub")
    (view,) = rel.releases(hub)
    assert view.status == "approved" and view.approvals == 2
    assert len({c for c, _, _ in view.decisions}) == 2
    with hub.sessions() as s:
        actions = [
            e.action
            for e in s.execute(select(AuditEvent).where(AuditEvent.subject == view.id)).scalars()
        ]
    assert actions == [
        "release.drafted",
        "release.approved",
        "release.approved",
        "reports.released",
    ]
    hub.engine.dispose()


def test_every_count_released_is_suppressed_or_a_multiple_of_five_from_ten(
    small_demo: tuple[Path, DemoResult],
) -> None:
    out, _ = small_demo
    files = sorted((out / "reports").glob("*.csv"))
    areas = {p.stem.removesuffix("-measures") for p in files}
    assert {"national", COUNCIL_A, "MOJ-PROBATION"} <= areas
    checked = 0
    for path in files:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for column in ("people", "cohort"):
                    value = row.get(column)
                    if value is None:
                        continue
                    assert value == SUPPRESSED or (int(value) % 5 == 0 and int(value) >= 10), (
                        path.name,
                        row,
                    )
                    checked += 1
    assert checked > 1000


def test_a_draft_is_invisible_until_the_second_approval(world: World) -> None:
    hub, p = world.hub, world.people
    assert rel.get_release(hub, world.draft).status == "draft"
    assert rel.latest_approved(hub) == (world.old_release, rel.folder_of(hub, world.old_release))
    # Whoever started the run may give neither approval.
    with pytest.raises(Denied, match="started the linkage run"):
        rel.decide(hub, world.draft, p["admin"], "approve", "looks fine")
    # Only the hub's output checkers decide.
    with pytest.raises(Denied, match="output checkers"):
        rel.decide(hub, world.draft, p["analyst_a"], "approve", "")
    with pytest.raises(Denied, match="output checkers"):
        rel.decide(hub, world.draft, p["operator"], "approve", "")
    view = rel.decide(hub, world.draft, p["checker1"], "approve", "tables checked")
    assert view.status == "draft" and view.approvals == 1
    assert rel.latest_approved(hub)[0] == world.old_release  # type: ignore[index]
    # One person cannot give both approvals.
    with pytest.raises(Denied, match="already decided"):
        rel.decide(hub, world.draft, p["checker1"], "approve", "again")
    view = rel.decide(hub, world.draft, p["checker2"], "approve", "second check")
    assert view.status == "approved"
    assert rel.latest_approved(hub)[0] == world.draft  # type: ignore[index]
    html = (rel.folder_of(hub, world.draft) / f"{COUNCIL_A}.html").read_text()
    assert "Checker1" in html and "Checker2" in html  # the release names who approved it
    with pytest.raises(UserError, match="only a draft"):
        rel.decide(hub, world.draft, p["checker1"], "reject", "too late")


def test_a_rejected_draft_says_why_and_is_never_shown(world: World) -> None:
    hub, p = world.hub, world.people
    run_id = rel.get_release(hub, world.draft).run_id
    draft = rel.draft_release(hub, actor="test", run_id=run_id)
    with pytest.raises(UserError, match="say why"):
        rel.decide(hub, draft.id, p["checker1"], "reject", "  ")
    view = rel.decide(hub, draft.id, p["checker1"], "reject", "the ethnicity table needs a look")
    assert view.status == "rejected" and view.rejection == "the ethnicity table needs a look"
    assert rel.latest_approved(hub)[0] != draft.id  # type: ignore[index]
    with hub.sessions() as s:
        rejected = s.execute(
            select(AuditEvent).where(
                AuditEvent.subject == draft.id, AuditEvent.action == "release.rejected"
            )
        ).scalar_one()
    assert rejected.details["comment"] == "the ethnicity table needs a look"


def test_a_party_reads_its_own_area_and_the_national_one_only(world: World) -> None:
    a = _api(world, "analyst_a")
    assert a.get("/api/v1/reports").json() == sorted([COUNCIL_A, "national"])
    page = a.get(f"/api/v1/reports/{COUNCIL_A}")
    assert page.status_code == 200 and "<svg" in page.text
    csv_file = a.get(f"/api/v1/reports/{COUNCIL_A}/files/{COUNCIL_A}.csv")
    assert csv_file.status_code == 200
    assert csv_file.text.splitlines()[0] == (
        "area,indicator,period,breakdown,category,people,cohort,percent"
    )
    # Another council's dashboard and files read as absent, not forbidden.
    b = _api(world, "analyst_b")
    assert b.get(f"/api/v1/reports/{COUNCIL_A}").status_code == 404
    assert b.get(f"/api/v1/reports/{COUNCIL_A}/files/{COUNCIL_A}.csv").status_code == 404
    assert a.get(f"/api/v1/reports/{COUNCIL_A}/files/..%2Fhub.sqlite").status_code == 404


@pytest.mark.parametrize("path", ["records", "people?nhs_number=1234567890", "scores"])
def test_a_request_for_records_or_a_score_is_refused_and_audited(world: World, path: str) -> None:
    r = _api(world, "analyst_a").get(f"/api/v1/reports/{COUNCIL_A}/{path}")
    assert r.status_code == 403 and "statistics only" in r.text
    assert "1234567890" not in r.text
    with world.hub.sessions() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert last.action == "release.refused" and last.actor == world.people["analyst_a"].actor
    assert "1234567890" not in str(last.details)
