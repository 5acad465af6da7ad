"""The hub service: FastAPI app with one router per resource, the pages, metrics."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_fastapi_instrumentator import Instrumentator

from boldhub import __version__
from boldhub.config import Settings, get_settings
from boldhub.hub.accounts import ensure_organisations
from boldhub.hub.api import (
    audit,
    health,
    linkage,
    organisations,
    problems,
    reports,
    submissions,
    users,
)
from boldhub.hub.linking import options_from
from boldhub.hub.service import LinkageJobs
from boldhub.hub.store import open_hub

WEB_DIR = Path(__file__).parents[1] / "web"


def create_app(home: Path, settings: Settings | None = None) -> FastAPI:
    """The service for the hub at ``home``, configured by ``settings`` (read from the
    environment when not given); routes get them through ``deps.SettingsDep``."""
    if settings is None:
        settings = get_settings()
    hub = open_hub(home, create=True, database_url=settings.database_url)
    with hub.sessions() as session, session.begin():
        ensure_organisations(session)
    app = FastAPI(
        title="BOLD Hub",
        version=__version__,
        description=(
            "The hub where councils and central bodies submit encoded packages, linkage "
            "operators link them, and every organisation reads its own disclosure-controlled "
            "outcomes. Errors are RFC 9457 problem details."
        ),
    )
    app.state.settings = settings
    app.state.hub = hub
    app.state.jobs = LinkageJobs(options_from(settings))
    problems.install(app)
    for module in (health, submissions, linkage, reports, audit, users, organisations):
        app.include_router(module.router)
    from boldhub.hub.web import pages

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    Instrumentator().instrument(app).expose(app, endpoint="/metrics", include_in_schema=False)
    return app
