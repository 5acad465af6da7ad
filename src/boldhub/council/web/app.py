"""The council page: prepare, check and encode an export without the command line.

``boldhub council`` serves this app on 127.0.0.1 only, for the data officer sitting at the
machine. The flow follows GOV.UK Design System patterns: a task list, one question per
page, an error summary at the top of any page with a problem:

    task list -> dataset and organisation -> upload -> (sheet) -> column mapping
              -> validation report -> encode -> package saved (or submitted)

Each browser session has one *job*, a folder under ``WORKDIR/jobs/`` holding the upload
and the prepared folder; packages are written to ``WORKDIR/packages/`` and mapping
profiles to ``WORKDIR/profiles/``. Everything stays on this machine: the page shows values
in clear (the officer's own data), and only the encoded package is meant to leave.

Each step has its own router (``tasks``, ``dataset``, ``upload``, ``mapping``, ``report``,
``package``); they share the app's :class:`~boldhub.council.web.state.CouncilState` through
the typed dependencies of :mod:`boldhub.council.web.deps`.

Security, although only this machine can reach the page: the server never binds to
anything but loopback; a Host header other than 127.0.0.1 or localhost is refused
(DNS-rebinding); every form post carries a per-session CSRF token; the session cookie is
HttpOnly and SameSite=Strict; request bodies are capped (uploads are size-limited before
they are read) and an upload is kept only once it has been read successfully.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from boldhub.council.report import STATIC, environment
from boldhub.council.submit import HubClient, NoHubClient
from boldhub.council.web import dataset, mapping, package, report, tasks, upload
from boldhub.council.web.deps import page_for
from boldhub.council.web.security import LimitBody, security_headers
from boldhub.council.web.state import (
    DEFAULT_MAX_UPLOAD,
    CouncilSettings,
    CouncilState,
    PackageWriter,
)
from boldhub.errors import CSRFError

# The command line and the tests build the app from here.
__all__ = ["DEFAULT_MAX_UPLOAD", "CouncilSettings", "PackageWriter", "create_app"]


def create_app(settings: CouncilSettings, hub: HubClient | None = None) -> FastAPI:
    for sub in ("jobs", "packages", "profiles"):
        (settings.workdir / sub).mkdir(parents=True, exist_ok=True)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="BOLD Hub council page")
    app.state.council = CouncilState(settings, hub or NoHubClient(), environment())
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.middleware("http")(security_headers)
    app.add_exception_handler(CSRFError, _forbidden)
    for module in (tasks, dataset, upload, mapping, report, package):
        app.include_router(module.router)
    # Outermost, so that it sees the body before anything reads it. The margin lets a
    # file of exactly the limit through with the form's other fields.
    app.add_middleware(LimitBody, limit=settings.max_upload_bytes + 64 * 1024)
    return app


async def _forbidden(request: Request, _exc: Exception) -> Response:
    return page_for(request).render("page_forbidden.html", status=403)
