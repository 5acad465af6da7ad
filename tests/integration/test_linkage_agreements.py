"""A run links the submissions of one agreement only; reports and exports follow it."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boldhub.config import get_settings
from boldhub.council.encode import encode
from boldhub.demo import create_trust, register_signed
from boldhub.errors import HubStateError
from boldhub.hub.ingest import ingest
from boldhub.hub.linking import export_links, latest_run, links_path, options_from, run_linkage
from boldhub.hub.releases import draft_release, folder_of
from boldhub.hub.service import latest_reports
from boldhub.hub.store import open_hub
from boldhub.privacy.keys import create_key
from boldhub.schemas import CENTRAL_BODIES, COUNCILS
from tests.support.cli import boldhub
from tests.support.hubworld import build_packages

OPTIONS = options_from(get_settings())


@pytest.fixture(scope="module")
def hub_of_two(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Homelessness and the rest under the demo's agreement; probation under another,
    with its own key: the hub holds current submissions of both."""
    root = tmp_path_factory.mktemp("two-agreements")
    packages = build_packages(root / "packages", persons=250, seed=6)
    key = create_key(root / "second.key")
    orgs = [o.code for o in (*COUNCILS, *CENTRAL_BODIES)]
    second = create_trust(root / "second", key, orgs, agreement_id="second-agreement")
    probation = next(s for s in packages.by_source if s.startswith("probation:"))
    org = probation.split(":", 1)[1]
    other = root / "probation-second"
    encode(
        root / "packages" / f"probation-{org}" / "prepared",
        key,
        other,
        agreement=second.agreement,
        signing_key=second.signing_keys[org],
    )
    hub = open_hub(root / "hub", create=True)
    packages.register_agreement(hub)
    register_signed(hub, second, actor="test")
    for source, package in sorted(packages.by_source.items()):
        if source != probation:
            ingest(hub, package)
    ingest(hub, other)
    return hub, packages, probation


def test_a_run_never_mixes_agreements(hub_of_two) -> None:  # type: ignore[no-untyped-def]
    hub, packages, probation = hub_of_two
    with pytest.raises(HubStateError, match=r"2 agreements.*--agreement"):
        run_linkage(hub, actor="test", options=OPTIONS)

    run_id, _ = run_linkage(hub, actor="test", options=OPTIONS, agreement="bold-demo")
    sources = set(pq.read_table(links_path(hub, run_id)).column("source").to_pylist())
    assert probation not in sources
    assert sources == set(packages.by_source) - {probation}

    second_id, _ = run_linkage(hub, actor="test", options=OPTIONS, agreement="second-agreement")
    second = set(pq.read_table(links_path(hub, second_id)).column("source").to_pylist())
    assert second == {probation}

    # Reports and exports name their agreement once runs of two exist.
    with pytest.raises(HubStateError, match="say which with --agreement"):
        latest_run(hub)
    assert latest_run(hub, "bold-demo").id == run_id
    draft = draft_release(hub, agreement="bold-demo", actor="test")
    assert draft.run_id == run_id and draft.agreement_id == "bold-demo"
    assert (folder_of(hub, draft.id) / "national.csv").is_file()
    exported, rows = export_links(
        hub, hub.home.parent / "links.csv", actor="test", agreement="bold-demo"
    )
    lines = (hub.home.parent / "links.csv").read_text().splitlines()
    assert exported == run_id and rows == len(lines) - 1


def test_an_unknown_agreement_is_named(hub_of_two) -> None:  # type: ignore[no-untyped-def]
    hub, _packages, _probation = hub_of_two
    with pytest.raises(HubStateError, match="no current submission comes under agreement nope"):
        run_linkage(hub, actor="test", options=OPTIONS, agreement="nope")


def test_the_report_command_drafts_into_the_hubs_home(hub_of_two, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hub, _packages, _probation = hub_of_two
    run_id, _ = run_linkage(hub, actor="test", options=OPTIONS, agreement="bold-demo")
    proc = boldhub("report", "--home", str(hub.home), "--agreement", "bold-demo")
    assert proc.returncode == 0, proc.stderr
    drafted = [line for line in proc.stdout.splitlines() if line.startswith("release ")]
    release_id = drafted[0].split()[1].rstrip(":")
    assert release_id.startswith(run_id)
    assert (hub.path("reports", release_id) / "national.html").is_file()
    assert "needs 2 approvals" in drafted[0]
    # A draft is shown to nobody until two output checkers approve it.
    assert latest_reports(hub) is None
    assert str(hub.home) not in proc.stdout


def test_the_api_starts_a_run_of_the_agreement_it_is_given(hub_of_two) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from boldhub.hub.accounts import create_token, create_user
    from boldhub.hub.api.app import create_app

    hub, _packages, _probation = hub_of_two
    with hub.sessions() as session, session.begin():
        user = create_user(
            session,
            email="operator@hub.example",
            name="Operator",
            organisation="HUB",
            role="linkage_operator",
            password=None,
            actor="test",
        )
        token = create_token(session, user, "test")
    app = create_app(hub.home)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        refused = client.post("/api/v1/linkage-runs", headers=headers)
        assert refused.status_code == 409, refused.text
        assert "2 agreements" in refused.json()["detail"]
        started = client.post("/api/v1/linkage-runs?agreement=bold-demo", headers=headers)
        assert started.status_code == 202, started.text
        app.state.jobs.wait()
        runs = client.get("/api/v1/linkage-runs", headers=headers).json()
        assert runs["last_error"] is None, runs
        assert runs["runs"][0]["agreement"] == "bold-demo"
