"""/api/v1/reports: the released, disclosure-controlled outcome reports you may read.

Only aggregates are served: an area's dashboard and its tidy CSV files from the newest
release two output checkers approved. Asking for anything record-level (an area's
records, one person's outcome or score) is refused with 403 and written to the audit
trail, so that a DPO can see who tried.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse, HTMLResponse

from boldhub.errors import Problem
from boldhub.hub import audit
from boldhub.hub.access import allowed
from boldhub.hub.api.deps import CurrentUser, HubDep
from boldhub.hub.api.problems import ProblemResponse, problems
from boldhub.hub.releases import latest_approved
from boldhub.hub.service import report_html, visible_reports
from boldhub.outcomes.release import csv_files

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
_FILE = re.compile(r"^[A-Za-z0-9-]{1,64}(-measures)?\.csv$")
Area = Annotated[
    str,
    Path(description="A council's GSS code, or national.", examples=["E08000025", "national"]),
]
FileName = Annotated[
    str,
    Path(
        description="AREA.csv (the counts) or AREA-measures.csv (the measures).",
        examples=["E08000025.csv", "national-measures.csv"],
    ),
]


def _absent(area: str) -> Problem:
    # Another party's area reads as absent, not forbidden: nobody learns what it holds.
    return Problem(
        404, "Not found", f"no released report for {area} that you may read; see /api/v1/reports"
    )


@router.get(
    "",
    summary="Areas whose latest report you may read",
    response_description="Area codes (a council's GSS code, national), sorted; empty until "
    "a release is approved.",
    responses=problems(401),
)
def list_reports(hub: HubDep, user: CurrentUser) -> list[str]:
    return visible_reports(hub, user)


@router.get(
    "/{area}",
    response_class=HTMLResponse,
    summary="One area's dashboard (HTML)",
    responses={
        200: {"description": "The dashboard, a whole HTML page."},
        **problems(401, 404),
    },
)
def get_report(area: Area, hub: HubDep, user: CurrentUser) -> HTMLResponse:
    html = report_html(hub, area) if allowed(user, "report.read", area) else None
    if html is None:
        raise _absent(area)
    return HTMLResponse(html)


@router.get(
    "/{area}/files/{name}",
    summary="One of an area's release files (tidy CSV)",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The file, UTF-8 CSV",
        },
        **problems(401, 404),
    },
)
def get_report_file(area: Area, name: FileName, hub: HubDep, user: CurrentUser) -> FileResponse:
    found = latest_approved(hub)
    if (
        found is None
        or not allowed(user, "report.read", area)
        or not _FILE.match(name)
        or name not in {p.name for p in csv_files(found[1], area)}
    ):
        raise _absent(area)
    return FileResponse(found[1] / name, media_type="text/csv; charset=utf-8", filename=name)


# Documented as what they always answer: 403 (there is no success to describe).
_REFUSED = problems(401, 403, said={403: "Always: nothing record-level is ever released."})


@router.get(
    "/{area}/records",
    summary="Refused: releases are never record-level",
    status_code=403,
    response_model=None,
    response_class=ProblemResponse,
    responses=_REFUSED,
)
def refuse_records(area: Area, hub: HubDep, user: CurrentUser) -> None:
    _refuse(hub, user, area, "record-level data")


# No path parameter names a person: one would put whatever was typed (an NHS number) into
# the access log. Query parameters are neither read nor logged.
@router.get(
    "/{area}/people",
    summary="Refused: nothing scores an individual",
    status_code=403,
    response_model=None,
    response_class=ProblemResponse,
    responses=_REFUSED,
)
@router.get(
    "/{area}/scores",
    summary="Refused: nothing scores an individual",
    status_code=403,
    response_model=None,
    response_class=ProblemResponse,
    responses=_REFUSED,
)
def refuse_scores(area: Area, hub: HubDep, user: CurrentUser) -> None:
    _refuse(hub, user, area, "one person's outcome or score")


def _refuse(hub: HubDep, user: CurrentUser, area: str, what: str) -> None:
    with hub.sessions() as session, session.begin():
        audit.append(
            session,
            actor=user.actor,
            action="release.refused",
            subject=area[:64],
            organisation=user.organisation,
            details={"asked_for": what},
        )
    raise Problem(
        403,
        "Refused",
        f"BOLD Hub releases statistics only: {what} is never released, and the request has "
        "been recorded on the audit trail",
    )
