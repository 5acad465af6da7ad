"""One package sent several times at once is stored once (issue 17: four parallel uploads
of one new package gave one 201 and three 500s, an IntegrityError with SQL parameters in
its traceback), and uploads at once do not run the database pool dry."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from boldhub.config import Settings
from boldhub.council.submit import submission_body
from boldhub.hub import upload as upload_module
from boldhub.hub.api.app import create_app
from boldhub.hub.audit import verify
from boldhub.hub.ingest import IngestResult, ingest
from boldhub.hub.store import ATTRIBUTES_DIR, ENCODINGS_DIR, Hub, open_hub
from boldhub.hub.store.models import AuditEvent, Submission
from tests.integration.test_api import _postgres_database
from tests.support.hubworld import COUNCIL_A, Packages, build_packages, tokens_for

SENDERS = 4


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return build_packages(tmp_path_factory.mktemp("packages"), persons=200, seed=5)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
    else:
        yield from _postgres_database()


def _send_at_once(hub: Hub, package: Path) -> tuple[list[IngestResult], list[BaseException]]:
    start = threading.Barrier(SENDERS)
    results: list[IngestResult] = []
    errors: list[BaseException] = []

    def send() -> None:
        start.wait()
        try:
            results.append(ingest(hub, package, actor="test"))
        except BaseException as exc:  # every failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_the_same_package_sent_four_times_at_once_is_stored_once(
    packages: Packages, tmp_path: Path, database: str | None
) -> None:
    hub = open_hub(tmp_path / "hub", create=True, database_url=database)
    packages.register_agreement(hub)
    results, errors = _send_at_once(hub, packages.package(f"homelessness:{COUNCIL_A}"))
    assert not errors, errors
    assert len(results) == SENDERS
    assert sum(r.created for r in results) == 1
    assert len({r.submission_id for r in results}) == 1
    with hub.sessions() as s:
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 1
        accepted = s.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "submission.accepted")
        ).scalar_one()
        assert accepted == 1
        assert verify(s).ok
    stored = {p.name for d in (ENCODINGS_DIR, ATTRIBUTES_DIR) for p in hub.path(d).iterdir()}
    assert stored == {f"{results[0].submission_id}.parquet"}


def test_an_upload_holds_no_database_connection_while_its_body_arrives(
    packages: Packages, tmp_path: Path
) -> None:
    """The load benchmark's finding: 50 councils uploading at once ran the database pool
    dry (500s), because the caller's session lasted the whole request. Now the caller is
    looked up in a session of its own, closed before the body is read."""
    hub = open_hub(tmp_path / "hub", create=True, database_url=None)
    packages.register_agreement(hub)
    token = tokens_for(hub, [COUNCIL_A])[COUNCIL_A]
    app = create_app(tmp_path / "hub", Settings(cookie_secure=False, database_url=None))
    body = submission_body(packages.package(f"homelessness:{COUNCIL_A}"))
    held: list[int] = []

    async def stream() -> AsyncIterator[bytes]:
        yield body[: len(body) // 2]
        held.append(app.state.hub.engine.pool.checkedout())
        yield body[len(body) // 2 :]

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.post(
                "/api/v1/submissions",
                content=stream(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-tar"},
            )

    response = asyncio.run(send())
    assert response.status_code == 201, response.text
    assert held == [0]


def test_uploads_at_once_are_ingested_a_few_at_a_time(
    packages: Packages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ingest holds its package's tables in memory: fifty at once took 8.5 GiB under
    the load benchmark. Uploads are received together but ingested BOLDHUB_INGEST_CONCURRENCY
    at a time."""
    hub = open_hub(tmp_path / "hub", create=True, database_url=None)
    packages.register_agreement(hub)
    sources = sorted(packages.by_source)
    orgs = sorted({s.split(":", 1)[1] for s in sources})
    tokens = tokens_for(hub, orgs)
    settings = Settings(cookie_secure=False, database_url=None, ingest_concurrency=2)
    app = create_app(tmp_path / "hub", settings)
    running, most = [0], [0]
    real = upload_module.ingest_upload

    def counted(*args: Any, **kwargs: Any) -> IngestResult:
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            time.sleep(0.3)  # long enough for the others to arrive meanwhile
            return real(*args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(upload_module, "ingest_upload", counted)

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/submissions",
                        content=submission_body(packages.package(source)),
                        headers={
                            "Authorization": f"Bearer {tokens[source.split(':', 1)[1]]}",
                            "Content-Type": "application/x-tar",
                        },
                    )
                    for source in sources
                )
            )

    responses = asyncio.run(send_all())
    assert [r.status_code for r in responses] == [201] * len(sources)
    assert len(sources) > 2 and most[0] == 2
