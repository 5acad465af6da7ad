"""Typed dependencies that keep routes small: settings, the hub, a database session, the
caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from boldhub.config import Settings
from boldhub.errors import Problem
from boldhub.hub.accounts import Principal, principal_for_session, principal_for_token
from boldhub.hub.api.security import cross_site
from boldhub.hub.service import LinkageJobs
from boldhub.hub.store import Hub

SESSION_COOKIE = "boldhub_session"
# How to sign a call, for the OpenAPI document (and the Authorize button of /docs);
# ``optional_principal`` reads both itself, so that a token sent wrongly is told so.
API_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="api_token",
    description="An API token (`boldhub admin create-token`), as Authorization: Bearer bh_...",
)
SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The hub's pages' session cookie; changes must come from the hub's own pages.",
)


def app_settings(request: Request) -> Settings:
    """The settings the app was created with (``create_app``), not the environment now."""
    settings: Settings = request.app.state.settings
    return settings


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def get_jobs(request: Request) -> LinkageJobs:
    jobs: LinkageJobs = request.app.state.jobs
    return jobs


def get_db(hub: Annotated[Hub, Depends(get_hub)]) -> Iterator[Session]:
    with hub.sessions() as session:
        yield session


def optional_principal(request: Request, hub: Annotated[Hub, Depends(get_hub)]) -> Principal | None:
    # Its own session, closed before the route runs: a dependency's session lasts the
    # whole request, and fifty uploads streaming at once would hold fifty database
    # connections for minutes (the pool ran out under the load benchmark).
    with hub.sessions() as db:
        return _principal(request, db)


def _principal(request: Request, db: Session) -> Principal | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        by_token = principal_for_token(db, auth[7:].strip())
        if by_token is None:
            # A token was sent: asking for one would send the user looking for a mistake
            # they did not make.
            request.state.bad_token = True
        return by_token
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.url.path.startswith("/api/") and cross_site(request):
            # The pages' forms carry a CSRF token; the API's cookie-signed calls are
            # held to the hub's own origin instead.
            raise Problem(
                403,
                "Forbidden",
                "this request came from another site's page with your hub session; call "
                "the API from the hub's own pages or with an API token",
            )
        found = principal_for_session(db, cookie)
        if found is not None:
            request.state.csrf = found[1]
            return found[0]
    return None


def current_principal(
    request: Request,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    _token: Annotated[HTTPAuthorizationCredentials | None, Security(API_TOKEN)],
    _session: Annotated[str | None, Security(SESSION)],
) -> Principal:
    if principal is None and getattr(request.state, "bad_token", False):
        raise Problem(
            401,
            "Unauthorized",
            "the API token sent is not valid: it was mistyped, revoked, has expired or "
            "belongs to a disabled user; ask your hub's admin for a new one "
            "(`boldhub admin create-token`)",
        )
    if principal is None:
        raise Problem(
            401, "Unauthorized", "sign in, or send an API token as 'Authorization: Bearer <token>'"
        )
    return principal


SettingsDep = Annotated[Settings, Depends(app_settings)]
HubDep = Annotated[Hub, Depends(get_hub)]
JobsDep = Annotated[LinkageJobs, Depends(get_jobs)]
DbDep = Annotated[Session, Depends(get_db)]
CurrentUser = Annotated[Principal, Depends(current_principal)]
MaybeUser = Annotated[Principal | None, Depends(optional_principal)]
