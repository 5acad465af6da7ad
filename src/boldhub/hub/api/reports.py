"""/api/v1/reports: the released, disclosure-controlled outcome reports you may read."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from boldhub.errors import Problem
from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, HubDep
from boldhub.hub.service import report_html, visible_reports

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("", summary="Areas whose latest report you may read")
def list_reports(hub: HubDep, user: CurrentUser) -> list[str]:
    return visible_reports(hub, user)


@router.get("/{area}", response_class=HTMLResponse, summary="One area's report (HTML)")
def get_report(area: str, hub: HubDep, user: CurrentUser) -> HTMLResponse:
    require(user, "report.read", area)
    html = report_html(hub, area)
    if html is None:
        raise Problem(
            404, "Not found", f"no released report for {area}; a linkage run must finish first"
        )
    return HTMLResponse(html)
