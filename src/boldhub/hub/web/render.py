"""One template environment and one way to render a page, so that every page, error
pages included, carries the same header, navigation and footer."""

from __future__ import annotations

import hmac
import re
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from boldhub.errors import Denied
from boldhub.hub.access import allowed, role_name
from boldhub.hub.accounts import Principal, principal_for_session
from boldhub.hub.api.deps import SESSION_COOKIE
from boldhub.hub.store import Hub
from boldhub.hub.web.wording import period_words, sentence

ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
ENV.filters["sentence"] = sentence
ENV.filters["period"] = period_words
ENV.filters["role"] = role_name


def nav_items(user: Principal | None) -> list[tuple[str, str]]:
    """The navigation a user's role may follow, as (address, label)."""
    if user is None:
        return []
    items = [("/", "Overview")]
    if allowed(user, "submission.read", user.organisation) or allowed(user, "submission.read"):
        items.append(("/submissions", "Submissions"))
    if allowed(user, "linkage.read"):
        items.append(("/linkage", "Linkage runs"))
        items.append(("/releases", "Releases"))
    items.append(("/reports", "Reports"))
    items.append(("/agreements", "Agreements"))
    if allowed(user, "audit.read", user.organisation):
        items.append(("/audit", "Audit trail"))
    if allowed(user, "users.manage", user.organisation):
        items.append(("/users", "People"))
    if allowed(user, "organisations.manage"):
        items.append(("/organisations", "Organisations"))
    return items


def _current(path: str, items: list[tuple[str, str]]) -> str:
    """The navigation item a page belongs to (a submission's page belongs to Submissions)."""
    for href, _ in sorted(items, key=lambda item: -len(item[0])):
        if path == href or (href != "/" and path.startswith(href + "/")):
            return href
    return ""


def render(
    request: Request, template: str, user: Principal | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    items = nav_items(user)
    html = ENV.get_template(template).render(
        request=request,
        user=user,
        csrf=getattr(request.state, "csrf", ""),
        allowed=allowed,
        nav=items,
        current=_current(request.url.path, items),
        **{"errors": [], **ctx},
    )
    return HTMLResponse(html, status_code=status)


def check_csrf(request: Request, token: str) -> None:
    """A form post must carry its session's CSRF token (set by the page that showed it)."""
    expected = getattr(request.state, "csrf", "")
    if not expected or not hmac.compare_digest(expected, token):
        raise Denied(
            "The form has expired or did not come from this site. Reload the page and try again."
        )


def to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/sign-in?next={quote(request.url.path)}", status_code=303)


def _signed_in(request: Request) -> Principal | None:
    """The signed-in user for an error page: exception handlers run without dependencies,
    and a page that loses its navigation strands the user."""
    cookie = request.cookies.get(SESSION_COOKIE)
    hub: Hub | None = getattr(request.app.state, "hub", None)
    if not cookie or hub is None:
        return None
    try:
        with hub.sessions() as session:
            found = principal_for_session(session, cookie)
    except Exception:  # an error page must render even when the database is the problem
        return None
    if found is None:
        return None
    request.state.csrf = found[1]
    return found[0]


_EXPIRED = "The form has expired"
_PLAIN = {
    404: "There is no page at this address. Check the address, or start from the overview.",
    405: "This page cannot be used that way. Start again from the overview.",
}


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    """A problem as a page, in the same words as the API's problem detail."""
    user = _signed_in(request)
    if status in _PLAIN and detail == HTTPStatus(status).phrase:
        detail = _PLAIN[status]
    detail = sentence(detail)
    titles = {403: "You cannot do this", 404: "Page not found"}
    if detail.startswith(_EXPIRED):
        titles[status] = _EXPIRED
    return render(
        request, "problem.html", user, status, title=titles.get(status, title), detail=detail
    )


def report_content(html: str) -> tuple[str, Markup]:
    """A released report's title and the inside of its <main>, to show in the hub's frame.

    The released file stands alone (its own header, inline style); inside the hub it gets
    the hub's navigation, footer and stylesheet, which a strict CSP allows. Its text was
    escaped when the report was rendered, so it is kept as markup.
    """
    title = html[html.find("<title>") + 7 : html.find("</title>")] if "<title>" in html else ""
    start, end = html.find("<main>"), html.rfind("</main>")
    body = html[start + 6 : end] if start >= 0 and end > start else ""
    # The released files link to each other as files; inside the hub, the list is /reports.
    body = body.replace('href="index.html"', 'href="/reports"')
    body = re.sub(r"<th(?=[\s>])(?![^>]*\bscope=)", '<th scope="col"', body)
    return Markup(title).striptags(), Markup(body)  # noqa: S704
