"""Server-rendered pages after the GOV.UK Design System's patterns.

Sign in; the initiative overview; an organisation's submissions (with upload); linkage
runs; reports; the audit trail. Forms carry a CSRF token tied to the session (sign-in: a
double-submit cookie), and every page checks permissions through boldhub.hub.access.
"""

from __future__ import annotations

import hmac
import secrets
import shutil
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from boldhub.config import Settings
from boldhub.errors import Denied, UserError
from boldhub.hub.access import allowed, require
from boldhub.hub.accounts import SESSION_HOURS, Principal, sign_in, sign_out
from boldhub.hub.api.deps import (
    SESSION_COOKIE,
    DbDep,
    HubDep,
    JobsDep,
    MaybeUser,
    SettingsDep,
)
from boldhub.hub.service import (
    agreements,
    audit_trail,
    organisations,
    participation,
    report_html,
    runs,
    submissions_for,
    visible_reports,
)
from boldhub.hub.upload import ingest_upload, staging_dir, write_files
from boldhub.outcomes.render import area_name

router = APIRouter(include_in_schema=False)
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
LOGIN_CSRF_COOKIE = "boldhub_login_csrf"


def _render(
    request: Request, template: str, user: Principal | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    html = _ENV.get_template(template).render(
        request=request, user=user, csrf=getattr(request.state, "csrf", ""), allowed=allowed, **ctx
    )
    return HTMLResponse(html, status_code=status)


def _to_sign_in(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/sign-in?next={quote(request.url.path)}", status_code=303)


def _check_csrf(request: Request, token: str) -> None:
    expected = getattr(request.state, "csrf", "")
    if not expected or not hmac.compare_digest(expected, token):
        raise Denied(
            "the form has expired or did not come from this site; reload the page and try again"
        )


def _sign_in_form(
    request: Request,
    settings: Settings,
    next: str,
    errors: list[tuple[str, str]],
    email: str = "",
) -> HTMLResponse:
    """The sign-in page with a fresh double-submit CSRF token (cookie + hidden field)."""
    token = secrets.token_urlsafe(32)
    response = _render(
        request,
        "sign_in.html",
        None,
        400 if errors else 200,
        login_csrf=token,
        next=next,
        errors=errors,
        email=email,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
    )
    return response


def _safe_next(next: str) -> str:
    # Only paths on this site: "//host" would be an open redirect.
    return next if next.startswith("/") and not next.startswith("//") else "/"


@router.get("/sign-in")
def sign_in_page(
    request: Request, settings: SettingsDep, user: MaybeUser, next: str = "/"
) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _sign_in_form(request, settings, next, [])


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    errors = []
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        errors.append(("email", "The sign-in form expired. Try again."))
    if not email.strip():
        errors.append(("email", "Enter your email address"))
    if not password:
        errors.append(("password", "Enter your password"))
    started = None
    if not errors:
        started = sign_in(db, email, password)
        db.commit()
        if started is None:
            errors.append(("email", "The email address or password is not right"))
    if started is None:
        return _sign_in_form(request, settings, next, errors, email)
    session_id, _csrf = started
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=SESSION_HOURS * 3600,
    )
    redirect.delete_cookie(LOGIN_CSRF_COOKIE)
    return redirect


@router.post("/sign-out")
def sign_out_submit(
    request: Request, db: DbDep, user: MaybeUser, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    if user is not None:
        _check_csrf(request, csrf_token)
        sign_out(db, request.cookies.get(SESSION_COOKIE, ""))
        db.commit()
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def overview(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return _to_sign_in(request)
    names = {o.code: o.name for o in organisations(hub)}
    return _render(
        request,
        "overview.html",
        user,
        participants=participation(hub),
        agreements=agreements(hub),
        names=names,
        runs=runs(hub)[:1],
        mine=submissions_for(hub, user, user.organisation)
        if allowed(user, "submission.read", user.organisation)
        else [],
    )


@router.get("/submissions")
def submissions_page(request: Request, hub: HubDep, user: MaybeUser, message: str = "") -> Response:
    if user is None:
        return _to_sign_in(request)
    return _render(
        request,
        "submissions.html",
        user,
        submissions=submissions_for(hub, user),
        can_upload=allowed(user, "submission.create", user.organisation),
        message=message,
        errors=[],
    )


@router.post("/submissions")
async def upload_page(
    request: Request,
    hub: HubDep,
    settings: SettingsDep,
    user: MaybeUser,
    files: list[UploadFile],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return _to_sign_in(request)
    _check_csrf(request, csrf_token)
    require(user, "submission.create", user.organisation)
    folder = staging_dir(hub)
    try:
        contents = [(f.filename or "", await f.read()) for f in files]
        write_files(contents, folder, settings.max_upload_bytes)
        result = await run_in_threadpool(
            ingest_upload, hub, folder, organisation=user.organisation, actor=user.actor
        )
    except UserError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _render(
            request,
            "submissions.html",
            user,
            400,
            submissions=submissions_for(hub, user),
            can_upload=True,
            message="",
            errors=[("files", str(exc))],
        )
    note = "already received" if not result.created else "accepted"
    return RedirectResponse(
        f"/submissions?message={quote(f'Submission {result.submission_id} {note}')}",
        status_code=303,
    )


@router.get("/linkage")
def linkage_page(request: Request, hub: HubDep, jobs: JobsDep, user: MaybeUser) -> Response:
    if user is None:
        return _to_sign_in(request)
    require(user, "linkage.read")
    return _render(
        request,
        "linkage.html",
        user,
        runs=runs(hub),
        running_since=jobs.running_since,
        last_error=jobs.last_error,
        can_run=allowed(user, "linkage.run"),
    )


@router.post("/linkage")
def start_linkage(
    request: Request,
    hub: HubDep,
    jobs: JobsDep,
    user: MaybeUser,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return _to_sign_in(request)
    _check_csrf(request, csrf_token)
    require(user, "linkage.run")
    jobs.start(hub, user.actor)
    return RedirectResponse("/linkage", status_code=303)


@router.get("/reports")
def reports_page(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return _to_sign_in(request)
    areas = visible_reports(hub, user)
    return _render(request, "reports.html", user, areas=[(a, area_name(a)) for a in areas])


@router.get("/reports/{area}")
def report_page(request: Request, area: str, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return _to_sign_in(request)
    require(user, "report.read", area)
    html = report_html(hub, area)
    if html is None:
        return _render(request, "not_found.html", user, 404, what=f"a report for {area}")
    # The released files link to each other as files; inside the hub, the list is /reports.
    return HTMLResponse(html.replace('href="index.html"', 'href="/reports"'))


@router.get("/audit")
def audit_page(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return _to_sign_in(request)
    require(user, "audit.read", user.organisation)
    return _render(request, "audit.html", user, events=audit_trail(hub, user, user.organisation))
