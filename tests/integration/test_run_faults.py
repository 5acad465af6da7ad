"""Runs that fail cleanly (issue 17): a linkage run has a state, a crash leaves it failed,
and a model is used only once the run that trained it finished.

The crashes are real: a subprocess that runs the linkage is sent SIGKILL at the worst
moment, after its new model was saved and before the run was recorded (the probe found
that the next run then used that model), and the hub's own server is killed in the middle
of a run started through its API.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.config import Settings, get_settings
from boldhub.errors import HubStateError, UserError
from boldhub.hub import audit, linking
from boldhub.hub.accounts import HUB_ORG, create_user, sign_in
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import SESSION_COOKIE
from boldhub.hub.ingest import ingest
from boldhub.hub.linking import links_path, options_from, run_linkage, runs
from boldhub.hub.run_state import ABANDONED, INTERRUPTED
from boldhub.hub.store import Hub, open_hub
from boldhub.hub.store.models import AuditEvent, LinkageRun
from boldhub.linkage.links import person_keys
from tests.support.cli import assert_one_line_error, boldhub
from tests.support.hubworld import Packages, build_packages, tokens_for
from tests.support.server import start_serve

OPTIONS = options_from(get_settings())
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return build_packages(tmp_path_factory.mktemp("run-faults"), persons=300, seed=4)


def _hub(packages: Packages, home: Path) -> Hub:
    hub = open_hub(home, create=True)
    packages.register_agreement(hub)
    for package in packages.by_source.values():
        ingest(hub, package)
    return hub


def _rows(hub: Hub) -> dict[str, LinkageRun]:
    with hub.sessions() as session:
        return {r.id: r for r in session.execute(select(LinkageRun)).scalars()}


def _actions(hub: Hub) -> list[tuple[str, str]]:
    with hub.sessions() as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        return [(e.action, e.subject) for e in events]


def _chain_holds(hub: Hub) -> bool:
    with hub.sessions() as session:
        return audit.verify(session).ok


def test_a_run_that_raises_is_failed_audited_and_can_be_rerun(
    packages: Packages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = _hub(packages, tmp_path / "hub")

    def broken(*args: object, **kwargs: object) -> None:
        raise UserError("the linkage backend ran out of memory; lower duckdb_memory_limit")

    monkeypatch.setattr(linking, "link_run", broken)
    with pytest.raises(UserError):
        run_linkage(hub, actor="test", options=OPTIONS)
    (failed,) = _rows(hub).values()
    assert failed.state == "failed" and failed.finished_at is not None
    assert failed.error is not None and "ran out of memory" in failed.error
    assert ("linkage.failed", failed.id) in _actions(hub)
    assert runs(hub) == []
    with pytest.raises(HubStateError, match="failed"):
        linking.get_run(hub, failed.id)

    # The Linkage page says which run did not finish and why.
    with hub.sessions() as session, session.begin():
        create_user(
            session,
            email="operator@hub.example",
            name="Operator",
            organisation=HUB_ORG,
            role="linkage_operator",
            password=PASSWORD,
            actor="test",
        )
        started = sign_in(session, "operator@hub.example", PASSWORD)
    assert started is not None
    browser = TestClient(create_app(hub.home, Settings(cookie_secure=False)))
    browser.cookies.set(SESSION_COOKIE, started[0])
    page = browser.get("/linkage").text
    assert "Runs that did not finish" in page and failed.id in page
    assert "ran out of memory" in page

    monkeypatch.undo()
    run_id, _ = run_linkage(hub, actor="test", options=OPTIONS)
    assert _rows(hub)[run_id].state == "done"
    assert [r.id for r in runs(hub)] == [run_id]
    assert _chain_holds(hub)


_DIE_AFTER_SAVING_MODEL = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from boldhub.config import get_settings
    from boldhub.hub import linking
    from boldhub.hub.store import open_hub

    save = linking._save_model

    def save_then_die(*args, **kwargs):
        save(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    linking._save_model = save_then_die
    hub = open_hub(Path(sys.argv[1]))
    linking.run_linkage(hub, actor="test", options=linking.options_from(get_settings()),
                        full=True)
    """
)


def test_a_run_killed_after_saving_its_model_is_failed_and_its_model_never_used(
    packages: Packages, tmp_path: Path
) -> None:
    home = tmp_path / "hub"
    hub = _hub(packages, home)
    first_id, _ = run_linkage(hub, actor="test", options=OPTIONS)
    aid = packages.trust.agreement.id
    assert _rows(hub)[first_id].summary["model_version"] == f"{aid}/v1"

    child = subprocess.run(
        [sys.executable, "-c", _DIE_AFTER_SAVING_MODEL, str(home)],
        capture_output=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    (killed,) = [r for r in _rows(hub).values() if r.id != first_id]
    assert killed.state == "running"
    assert (home / "models" / aid / "v2" / "model.json").exists()  # saved, never recorded

    # The next run finds the dead run, fails it, and links with the last finished model.
    second_id, _ = run_linkage(hub, actor="test", options=OPTIONS)
    rows = _rows(hub)
    assert rows[killed.id].state == "failed" and rows[killed.id].error == INTERRUPTED
    assert rows[second_id].state == "done"
    assert rows[second_id].summary["model_version"] == f"{aid}/v1"
    assert not (home / "models" / aid / "v2").exists()
    assert not list((home / "runs").glob(".*.partial"))
    # Same inputs, same model: every person key is unchanged.
    before = person_keys(pq.read_table(links_path(hub, first_id)))
    after = person_keys(pq.read_table(links_path(hub, second_id)))
    assert after == before
    assert ("linkage.failed", killed.id) in _actions(hub)
    assert _chain_holds(hub)

    # And a retrain afterwards takes the next free version, v2, for a finished run.
    third_id, _ = run_linkage(hub, actor="test", options=OPTIONS, full=True)
    assert _rows(hub)[third_id].summary["model_version"] == f"{aid}/v2"


def test_a_run_left_running_on_another_host_is_abandoned_by_command(
    packages: Packages, tmp_path: Path
) -> None:
    """Only its own host can tell whether a run's process is gone (a container restarted
    under a new name): the operator abandons it by command, and the agreement links again."""
    home = tmp_path / "hub"
    hub = _hub(packages, home)
    aid = packages.trust.agreement.id
    with hub.sessions() as session, session.begin():
        for run_id, worker in [
            ("20261207T000000-000001", "another-host:4242:1"),
            ("20261207T000000-000002", linking.run_state.this_worker()),
        ]:
            session.add(
                LinkageRun(
                    id=run_id,
                    state="running",
                    started_at=linking.clock.now(),
                    worker=worker,
                    records=0,
                    persons=0,
                    threshold=OPTIONS.threshold,
                    submissions={},
                    summary={"agreement": aid if run_id.endswith("1") else "another"},
                )
            )
    with pytest.raises(HubStateError, match="boldhub links abandon 20261207T000000-000001"):
        run_linkage(hub, actor="test", options=OPTIONS)

    alive = boldhub("links", "abandon", "20261207T000000-000002", "--home", str(home))
    assert_one_line_error(alive, "still running in process")
    done = boldhub("links", "abandon", "20261207T000000-000001", "--home", str(home))
    assert done.returncode == 0, done.stderr
    assert _rows(hub)["20261207T000000-000001"].error == ABANDONED
    assert ("linkage.failed", "20261207T000000-000001") in _actions(hub)
    again = boldhub("links", "abandon", "20261207T000000-000001", "--home", str(home))
    assert_one_line_error(again, "is not running (it is failed)")

    run_id, _ = run_linkage(hub, actor="test", options=OPTIONS)
    assert _rows(hub)[run_id].state == "done"


def test_two_runs_of_one_agreement_never_overlap(packages: Packages, tmp_path: Path) -> None:
    """A second run while one is live is refused; it does not add a row."""
    hub = _hub(packages, tmp_path / "hub")
    aid = packages.trust.agreement.id
    with hub.sessions() as session, session.begin():
        session.add(
            LinkageRun(
                id="20261207T000000-aaaaaa",
                state="running",
                started_at=linking.clock.now(),
                worker=linking.run_state.this_worker(),  # this very process: alive
                records=0,
                persons=0,
                threshold=OPTIONS.threshold,
                submissions={},
                summary={"agreement": aid},
            )
        )
    with pytest.raises(HubStateError, match="already running"):
        run_linkage(hub, actor="test", options=OPTIONS)
    assert list(_rows(hub)) == ["20261207T000000-aaaaaa"]


def test_the_server_killed_in_a_run_marks_it_failed_on_restart(
    packages: Packages, tmp_path: Path
) -> None:
    home = tmp_path / "hub"
    hub = _hub(packages, home)
    first_id, _ = run_linkage(hub, actor="test", options=OPTIONS)
    token = tokens_for(hub, [HUB_ORG], role="linkage_operator")[HUB_ORG]
    headers = {"Authorization": f"Bearer {token}"}
    log = tmp_path / "serve.log"
    server, url = start_serve(home, log)
    try:
        started = httpx.post(url + "/api/v1/linkage-runs", headers=headers, timeout=10)
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 60
        while not any(r.state == "running" for r in _rows(hub).values()):
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    (killed,) = [r for r in _rows(hub).values() if r.state == "running"]

    server, url = start_serve(home, log)  # start-up recovery
    try:
        rows = _rows(hub)
        assert rows[killed.id].state == "failed" and rows[killed.id].error == INTERRUPTED
        listed = httpx.get(url + "/api/v1/linkage-runs", headers=headers)
        assert [r["id"] for r in listed.json()["runs"]] == [first_id]
        assert [(r["id"], r["error"]) for r in listed.json()["failed"]] == [
            (killed.id, INTERRUPTED)
        ]
        again = httpx.post(url + "/api/v1/linkage-runs", headers=headers)
        assert again.status_code == 202, again.text
        deadline = time.monotonic() + 120
        while len(runs(hub)) < 2:
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    newest = runs(hub)[0]
    assert newest.id not in (first_id, killed.id)
    before = person_keys(pq.read_table(links_path(hub, first_id)))
    assert person_keys(pq.read_table(links_path(hub, newest.id))) == before
    assert _chain_holds(hub)
    assert "Traceback" not in log.read_text()
