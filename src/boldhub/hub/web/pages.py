"""Server-rendered pages after the GOV.UK Design System's patterns.

Sign in; the initiative overview; an organisation's submissions (with upload); linkage
runs; reports; the audit trail. Forms carry a CSRF token tied to the session (sign-in: a
double-submit cookie), and every page checks permissions through boldhub.hub.access.
"""

from __future__ import annotations

import hmac
import secrets
import shutil
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from boldhub.config import Settings
from boldhub.errors import TooManyAttempts, UploadTooLarge, UserError
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
from boldhub.hub.linking import attempts, runs, submissions_to_link
from boldhub.hub.service import (
    LinkageJobs,
    agreements,
    organisations,
    participation,
    quality,
    submissions_for,
    visible_reports,
)
from boldhub.hub.store import Hub
from boldhub.hub.upload import MAX_FILES, ingest_in_turn, save_uploads, staging_dir
from boldhub.hub.web import (
    agreement_pages,
    audit_pages,
    info,
    organisation_pages,
    release_pages,
    sample_pages,
    user_pages,
)
from boldhub.hub.web.queries import overlapping, submission, submission_detail
from boldhub.hub.web.render import check_csrf, render, to_sign_in
from boldhub.hub.web.wording import MESSAGES, sentence
from boldhub.outcomes.release import area_name

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "boldhub_login_csrf"


def _sign_in_form(
    request: Request,
    settings: Settings,
    next: str,
    errors: list[tuple[str, str]],
    email: str = "",
    status: int | None = None,
) -> HTMLResponse:
    """The sign-in page with a fresh double-submit CSRF token (cookie + hidden field)."""
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "sign_in.html",
        None,
        status or (400 if errors else 200),
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
        client = request.client.host if request.client else "unknown"
        try:
            started = sign_in(db, email, password, client=client)
        except TooManyAttempts as exc:
            db.rollback()
            errors.append(("email", str(exc)))
            return _sign_in_form(request, settings, next, errors, email, status=429)
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
        check_csrf(request, csrf_token)
        sign_out(db, request.cookies.get(SESSION_COOKIE, ""))
        db.commit()
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def overview(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    names = {o.code: o.name for o in organisations(hub)}
    return render(
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


def _submissions_view(
    request: Request,
    hub: Hub,
    user: Principal,
    status: int = 200,
    message: str = "",
    errors: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    subs = submissions_for(hub, user)
    return render(
        request,
        "submissions.html",
        user,
        status,
        submissions=subs,
        overlaps=overlapping(subs),
        names={o.code: o.name for o in organisations(hub)},
        can_upload=allowed(user, "submission.create", user.organisation),
        message=message,
        errors=errors or [],
    )


def _message(code: str, submission_id: str, visible: set[str]) -> str:
    # Only a fixed text, and only about a submission this reader may see.
    if code not in MESSAGES or submission_id not in visible:
        return ""
    return MESSAGES[code].format(id=submission_id)


@router.get("/submissions")
def submissions_page(
    request: Request, hub: HubDep, user: MaybeUser, message: str = "", submission: str = ""
) -> Response:
    if user is None:
        return to_sign_in(request)
    visible = {s.id for s in submissions_for(hub, user)}
    return _submissions_view(request, hub, user, message=_message(message, submission, visible))


@router.post("/submissions")
async def upload_page(
    request: Request, hub: HubDep, settings: SettingsDep, user: MaybeUser
) -> Response:
    # The form is read here, not declared: nobody's upload is parsed (its files spooled to
    # disk) before the sender is known to be signed in and the body to be within the cap.
    if user is None:
        return to_sign_in(request)
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
        return _submissions_view(
            request, hub, user, 413, errors=[("files", sentence(str(UploadTooLarge(limit))))]
        )
    form = await request.form(max_files=MAX_FILES, max_fields=8)
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else "")
    require(user, "submission.create", user.organisation)
    # A form sent with no file chosen carries one part with an empty name.
    chosen = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not chosen:
        return _submissions_view(
            request, hub, user, 400, errors=[("files", "Choose the package files")]
        )
    folder = staging_dir(hub)
    try:
        await save_uploads(chosen, folder, limit)
        result = await ingest_in_turn(request.app.state.ingest_slots, hub, folder, user)
    except UserError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        status = 413 if isinstance(exc, UploadTooLarge) else 400
        return _submissions_view(request, hub, user, status, errors=[("files", sentence(str(exc)))])
    finally:
        await form.close()
    code = "accepted" if result.created else "already"
    return RedirectResponse(
        f"/submissions?message={code}&submission={quote(result.submission_id)}", status_code=303
    )


# Multipart boundaries and the CSRF field around the files themselves.
_FORM_OVERHEAD = 64 * 1024


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission_id: str, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    sub = submission(hub, submission_id)
    # Another organisation's submission reads as absent: its existence is not for this reader.
    if sub is None or not allowed(user, "submission.read", sub.organisation):
        return render(request, "not_found.html", user, 404, what="submission at this address")
    names = {o.code: o.name for o in organisations(hub)}
    return render(
        request,
        "submission.html",
        user,
        detail=submission_detail(hub, sub),
        quality=quality(hub, sub.id),
        organisation=names.get(sub.organisation, sub.organisation),
    )


def _linkage_view(
    request: Request,
    hub: Hub,
    jobs: LinkageJobs,
    user: Principal,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "linkage.html",
        user,
        status,
        runs=runs(hub),
        failed=[r for r in attempts(hub, limit=50) if r.state == "failed"][:10],
        running_since=jobs.running_since,
        last_error=jobs.last_error,
        can_run=allowed(user, "linkage.run"),
        agreements=agreements(hub),
        errors=errors or [],
    )


@router.get("/linkage")
def linkage_page(request: Request, hub: HubDep, jobs: JobsDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    require(user, "linkage.read")
    return _linkage_view(request, hub, jobs, user)


@router.post("/linkage")
def start_linkage(
    request: Request,
    hub: HubDep,
    jobs: JobsDep,
    user: MaybeUser,
    csrf_token: Annotated[str, Form()] = "",
    agreement: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return to_sign_in(request)
    check_csrf(request, csrf_token)
    require(user, "linkage.run")
    # The page always names the agreement (a run links one agreement's submissions), and
    # is refused here, on the form, rather than in the background.
    try:
        submissions_to_link(hub, agreement or None)
        jobs.start(hub, user.actor, agreement or None)
    except UserError as exc:
        return _linkage_view(request, hub, jobs, user, 400, [("agreement", sentence(str(exc)))])
    return RedirectResponse("/linkage", status_code=303)


@router.get("/reports")
def reports_page(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    areas = visible_reports(hub, user)
    return render(request, "reports.html", user, areas=[(a, area_name(a)) for a in areas])


@router.get("/reports/{area}")
def report_page(
    request: Request, area: str, hub: HubDep, user: MaybeUser, view: str | None = None
) -> Response:
    if user is None:
        return to_sign_in(request)
    return release_pages.party_report(request, hub, user, area, view)


router.include_router(audit_pages.router)
router.include_router(info.router)
router.include_router(organisation_pages.router)
router.include_router(user_pages.router)
router.include_router(agreement_pages.router)
router.include_router(release_pages.router)
router.include_router(sample_pages.router)
