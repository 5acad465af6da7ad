"""Releases on the hub's pages: the output checkers' list and decision form, each party's
dashboard and CSV downloads.

A draft is seen only by the hub's team (output checkers, admins, linkage operators); each
party sees only the newest approved release, and only its own areas and the national
benchmark: any other area reads as absent (404), as another organisation's submission
does, so that nobody learns which areas a release holds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from markupsafe import Markup

from boldhub.errors import Denied, UserError
from boldhub.hub import releases as rel
from boldhub.hub.access import allowed
from boldhub.hub.accounts import Principal
from boldhub.hub.api.deps import HubDep, MaybeUser
from boldhub.hub.store import Hub
from boldhub.hub.web.render import check_csrf, render, report_content, to_sign_in
from boldhub.hub.web.wording import sentence
from boldhub.outcomes.dashboard import DASHBOARD_CSS
from boldhub.outcomes.release import area_name, csv_files, release_areas

router = APIRouter(include_in_schema=False)
_FILE = re.compile(r"^[A-Za-z0-9-]{1,64}(-measures)?\.csv$")
_SAFE_RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
# The views by role: which of the dashboard's sections comes first, and what it is called.
VIEWS = {
    "officer": ("For housing officers and practitioners", "summary"),
    "analyst": ("For analysts: the tables and files", "indicators"),
    "dpo": ("For data protection officers: what was shared", "about"),
}
ROLE_VIEW = {"dpo": "dpo", "analyst": "analyst", "submitter": "officer"}
# The dashboards need nothing from elsewhere and nothing inline: charts are SVG in the
# page, styles come from the hub's stylesheets, the only script is the hub's own.
DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def with_csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = DASHBOARD_CSP
    return response


def _may_check(user: Principal) -> bool:
    return user.org_kind == "hub" and user.role in rel.CHECKER_ROLES


def _may_see_drafts(user: Principal) -> bool:
    return allowed(user, "linkage.read")


@router.get("/dashboard.css")
def dashboard_css() -> Response:
    """The dashboards' own classes, for their pages inside the hub's frame."""
    return Response(
        DASHBOARD_CSS,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/releases")
def releases_page(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    if not _may_see_drafts(user):
        return render(request, "not_found.html", user, 404, what="the releases list")
    return render(request, "releases.html", user, releases=rel.releases(hub))


def _release_view(
    request: Request,
    hub: Hub,
    user: Principal,
    release_id: str,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    message: str | None = None,
) -> Response:
    try:
        view = rel.get_release(hub, release_id)
    except UserError:
        return render(request, "not_found.html", user, 404, what=f"a release {release_id}")
    folder = rel.folder_of(hub, view.id)
    areas = release_areas(folder) if folder.is_dir() else []
    decided = any(c == user.actor for c, _, _ in view.decisions)
    return render(
        request,
        "release.html",
        user,
        status,
        release=view,
        areas=[(a, area_name(a)) for a in areas],
        needed=rel.APPROVALS_NEEDED,
        can_decide=_may_check(user)
        and view.status == "draft"
        and not decided
        and not view.may_not_check(user.actor),
        own_run=view.may_not_check(user.actor),
        decided=decided,
        errors=errors or [],
        message=message,
    )


@router.get("/releases/{release_id}")
def release_page(request: Request, release_id: str, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    if not _may_see_drafts(user):
        return render(request, "not_found.html", user, 404, what=f"a release {release_id}")
    return _release_view(request, hub, user, release_id)


@router.post("/releases/{release_id}/decision")
def decide_page(
    request: Request,
    release_id: str,
    hub: HubDep,
    user: MaybeUser,
    csrf_token: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return to_sign_in(request)
    check_csrf(request, csrf_token)
    if not _may_see_drafts(user):
        return render(request, "not_found.html", user, 404, what=f"a release {release_id}")
    try:
        rel.decide(hub, release_id, user, decision, comment)
    except (UserError, Denied) as exc:
        field = "comment" if "comment" in str(exc) or "why" in str(exc) else "decision"
        return _release_view(request, hub, user, release_id, 400, [(field, sentence(str(exc)))])
    return RedirectResponse(f"/releases/{release_id}", status_code=303)


@router.get("/releases/{release_id}/areas/{area}")
def draft_area_page(
    request: Request, release_id: str, area: str, hub: HubDep, user: MaybeUser
) -> Response:
    """A draft's dashboard as the party will see it, for the output checkers."""
    if user is None:
        return to_sign_in(request)
    if not _may_see_drafts(user):
        return render(request, "not_found.html", user, 404, what=f"a release {release_id}")
    path = _area_page(hub, release_id, area)
    if path is None:
        return render(request, "not_found.html", user, 404, what=f"{area} in {release_id}")
    title, body = report_content(path.read_text(encoding="utf-8"))
    names = [p.name for p in csv_files(path.parent, area)]
    body = Markup(_file_links(str(body), names, f"/releases/{release_id}/files"))  # noqa: S704
    return with_csp(
        render(request, "report.html", user, title=title, body=body, views=None, draft=release_id)
    )


@router.get("/releases/{release_id}/files/{name}")
def draft_file(
    request: Request, release_id: str, name: str, hub: HubDep, user: MaybeUser
) -> Response:
    """A draft's CSV file, for the output checkers."""
    if user is None:
        return to_sign_in(request)
    folder = rel.folder_of(hub, release_id) if _SAFE_RELEASE.match(release_id) else None
    if (
        not _may_see_drafts(user)
        or folder is None
        or not folder.is_dir()
        or not _FILE.match(name)
        or not (folder / name).is_file()
    ):
        return render(request, "not_found.html", user, 404, what=f"a file {name}")
    return FileResponse(folder / name, media_type="text/csv; charset=utf-8", filename=name)


def _area_page(hub: Hub, release_id: str, area: str) -> Path | None:
    try:
        view = rel.get_release(hub, release_id)
    except UserError:
        return None
    folder = rel.folder_of(hub, view.id)
    if not folder.is_dir() or area not in release_areas(folder):
        return None
    return folder / f"{area}.html"


def party_report(
    request: Request, hub: Hub, user: Principal, area: str, view: str | None
) -> Response:
    """A party's dashboard from the newest approved release, ordered for its role."""
    found = rel.latest_approved(hub)
    if not allowed(user, "report.read", area) or found is None:
        return render(request, "not_found.html", user, 404, what=f"a report for {area}")
    release_id, folder = found
    if area not in release_areas(folder):
        return render(request, "not_found.html", user, 404, what=f"a report for {area}")
    title, body = report_content((folder / f"{area}.html").read_text(encoding="utf-8"))
    names = [p.name for p in csv_files(folder, area)]
    body = Markup(_file_links(str(body), names, f"/reports/{area}/files"))  # noqa: S704
    chosen = view if view in VIEWS else ROLE_VIEW.get(user.role, "analyst")
    links = [(key, words, key == chosen) for key, (words, _) in VIEWS.items()]
    return with_csp(
        render(
            request,
            "report.html",
            user,
            title=title,
            body=Markup(_first(str(body), VIEWS[chosen][1])),  # noqa: S704 (the release's own page)
            views=links,
            area=area,
            release_id=release_id,
        )
    )


def _first(body: str, section: str) -> str:
    """The dashboard with one of its sections moved to the top (after its heading), so
    that each role starts at what it came for; nothing is hidden."""
    start = re.search(rf'<section\b[^>]*\bid="{section}"[^>]*>', body)
    if start is None:
        return body
    # Sections nest (each indicator is one inside "indicators"): find the matching close.
    depth, at = 0, start.start()
    for tag in re.finditer(r"<section\b|</section>", body[start.start() :]):
        depth += -1 if tag.group(0) == "</section>" else 1
        if depth == 0:
            at = start.start() + tag.end()
            break
    else:
        return body
    moved = body[start.start() : at]
    rest = body[: start.start()] + body[at:]
    heading = re.search(r"</h1>", rest)
    cut = heading.end() if heading else 0
    return rest[:cut] + moved + rest[cut:]


def _file_links(body: str, names: list[str], base: str) -> str:
    """The dashboard links its CSV files by name, beside it; in the hub they have a route."""
    for name in names:
        body = body.replace(f'href="{name}"', f'href="{base}/{name}"')
    return body


@router.get("/reports/{area}/files/{name}")
def report_file(request: Request, area: str, name: str, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    found = rel.latest_approved(hub)
    if (
        not allowed(user, "report.read", area)
        or found is None
        or not _FILE.match(name)
        or name not in {p.name for p in csv_files(found[1], area)}
    ):
        return render(request, "not_found.html", user, 404, what=f"a file {name}")
    return FileResponse(
        found[1] / name,
        media_type="text/csv; charset=utf-8",
        filename=name,
        headers={"Cache-Control": "private, no-store"},
    )
