"""Typed dependencies that keep routes small: the app's state, the caller's page, a form.

A :class:`Page` is the request with its session: it renders the session's pages and sets
the session cookie when the session is new. It is looked up once per request and kept on
``request.state``, so the CSRF error handler renders with the same session the route had.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from boldhub.council.submit import NOT_AVAILABLE
from boldhub.council.web.state import CouncilSettings, CouncilState, Job, Session
from boldhub.errors import CSRFError
from boldhub.schemas import DATASETS

SESSION_COOKIE = "boldhub_council_session"


@dataclass
class Page:
    """The request being answered and the caller's session (see the module docstring)."""

    request: Request
    state: CouncilState
    session: Session
    new_sid: str | None  # the session began with this request: its cookie is still to set

    @property
    def job(self) -> Job:
        return self.session.job

    @property
    def settings(self) -> CouncilSettings:
        return self.state.settings

    def render(
        self,
        template: str,
        status: int = 200,
        errors: list[tuple[str, str]] | None = None,
        **ctx: Any,
    ) -> HTMLResponse:
        html = self.state.env.get_template(template).render(
            csrf=self.session.csrf,
            job=self.session.job,
            errors=errors or [],
            datasets=DATASETS,
            hub_available=self.state.hub.available(),
            not_available=NOT_AVAILABLE,
            limit_bytes=self.settings.max_upload_bytes,
            **ctx,
        )
        response = HTMLResponse(html, status_code=status)
        if self.new_sid:
            _set_cookie(response, self.new_sid)
        return response


def get_state(request: Request) -> CouncilState:
    state: CouncilState = request.app.state.council
    return state


def page_for(request: Request) -> Page:
    """The caller's page; the first call of a request finds or starts its session."""
    found = getattr(request.state, "council_page", None)
    if isinstance(found, Page):
        return found
    state = get_state(request)
    session, new_sid = state.session_for(request.cookies.get(SESSION_COOKIE, ""))
    page = Page(request, state, session, new_sid)
    request.state.council_page = page
    return page


async def posted_form(request: Request, page: Annotated[Page, Depends(page_for)]) -> FormData:
    """The posted form, once its CSRF token is this session's."""
    form = await request.form(max_files=2, max_fields=200, max_part_size=64 * 1024)
    token = form.get("csrf_token")
    if not isinstance(token, str) or not hmac.compare_digest(token, page.session.csrf):
        raise CSRFError
    return form


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _set_cookie(response: Response, sid: str) -> None:
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict", path="/")


StateDep = Annotated[CouncilState, Depends(get_state)]
PageDep = Annotated[Page, Depends(page_for)]
FormDep = Annotated[FormData, Depends(posted_form)]
