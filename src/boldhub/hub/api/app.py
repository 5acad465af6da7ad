"""The hub service: FastAPI app with one router per resource, the pages, metrics."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from anyio import CapacityLimiter
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.types import Lifespan

from boldhub import __version__
from boldhub.config import Settings, get_settings
from boldhub.hub import retention, run_state
from boldhub.hub.accounts import ensure_organisations
from boldhub.hub.api import (
    audit,
    health,
    linkage,
    organisations,
    problems,
    releases,
    reports,
    submissions,
    users,
)
from boldhub.hub.api.metrics import Metrics
from boldhub.hub.api.security import SecurityHeaders
from boldhub.hub.linking import options_from
from boldhub.hub.service import LinkageJobs
from boldhub.hub.store import clean_partials, open_hub

WEB_DIR = Path(__file__).parents[1] / "web"
log = logging.getLogger("boldhub.hub")


def create_app(home: Path, settings: Settings | None = None) -> FastAPI:
    """The service for the hub at ``home``, configured by ``settings`` (read from the
    environment when not given); routes get them through ``deps.SettingsDep``."""
    if settings is None:
        settings = get_settings()
    hub = open_hub(home, create=True, database_url=settings.database_url)
    removed = clean_partials(home)
    if removed:
        log.warning("removed %d unfinished writes left by an earlier crash", len(removed))
    # Runs whose process died (the service itself, killed) are marked failed at once.
    run_state.recover(hub)
    with hub.sessions() as session, session.begin():
        ensure_organisations(session)
    app = _service(lifespan=retention.daily_job(hub, settings.retention_interval_hours))
    app.state.settings = settings
    app.state.hub = hub
    app.state.jobs = LinkageJobs(options_from(settings))
    app.state.metrics = Metrics(hub, app.state.jobs)
    app.state.ingest_slots = CapacityLimiter(settings.ingest_concurrency)
    Instrumentator(registry=app.state.metrics.registry).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False
    )
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the service serves at /openapi.json, made without a hub: for
    tools that hold the API to it (tests/integration/test_api_contract.py)."""
    return _service(lifespan=None).openapi()


def _service(lifespan: Lifespan[FastAPI] | None) -> FastAPI:
    """The routes, pages, error handling and headers; no hub, settings or metrics yet."""
    # /docs and /redoc load their scripts from the package, not a CDN: a government
    # network without internet access still shows them.
    app = FastAPIOffline(
        static_url="/static-docs",
        title="BOLD Hub",
        version=__version__,
        description=(
            "The hub where councils and central bodies submit encoded packages, linkage "
            "operators link them, and every organisation reads its own disclosure-controlled "
            "outcomes. Errors are RFC 9457 problem details."
        ),
        # Retention runs daily inside the service, in a worker thread (hub/retention.py).
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(SecurityHeaders)
    for module in (
        health,
        submissions,
        linkage,
        releases,
        reports,
        audit,
        users,
        organisations,
    ):
        app.include_router(module.router)
    from boldhub.hub.web import pages

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    return app
