"""/api/v1/linkage-runs: start a run (linkage operators), list runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, HubDep, JobsDep
from boldhub.hub.service import runs

router = APIRouter(prefix="/api/v1/linkage-runs", tags=["linkage"])


@router.post("", status_code=202, summary="Start a linkage run over all current submissions")
def start(response: Response, hub: HubDep, jobs: JobsDep, user: CurrentUser) -> dict[str, Any]:
    require(user, "linkage.run")
    jobs.start(hub, user.actor)
    response.headers["Location"] = "/api/v1/linkage-runs"
    return {"status": "running"}


@router.get("", summary="Linkage runs, newest first")
def list_runs(hub: HubDep, jobs: JobsDep, user: CurrentUser) -> dict[str, Any]:
    require(user, "linkage.read")
    return {
        "running_since": jobs.running_since.isoformat() if jobs.running_since else None,
        "last_error": jobs.last_error,
        "runs": [
            {
                "id": r.id,
                "finished_at": r.finished_at.isoformat(),
                "records": r.records,
                "persons": r.persons,
                "threshold": r.threshold,
                "submissions": sorted(r.submissions),
            }
            for r in runs(hub)
        ],
    }
