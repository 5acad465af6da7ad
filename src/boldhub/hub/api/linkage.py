"""/api/v1/linkage-runs: start a run (linkage operators), list runs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from boldhub.errors import Problem, UserError
from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, HubDep, JobsDep
from boldhub.hub.api.problems import problems
from boldhub.hub.linking import RunSummary, attempts, runs, submissions_to_link
from boldhub.hub.store.models import LinkageRun

router = APIRouter(prefix="/api/v1/linkage-runs", tags=["linkage"])


class LinkageStarted(BaseModel):
    """A run has started; GET /api/v1/linkage-runs shows it running, then finished."""

    status: Literal["running"] = Field(description="The run goes on in the background.")


class LinkageRunPublic(BaseModel):
    """A finished linkage run."""

    id: str = Field(description="The run's id.")
    finished_at: str = Field(description="ISO 8601 timestamp.")
    records: int = Field(description="Records linked.")
    persons: int = Field(description="Persons the records were clustered into.")
    threshold: float = Field(description="Match probability the run clustered at.")
    submissions: list[str] = Field(description="Ids of the submissions it linked, sorted.")
    agreement: str | None = Field(
        description="The agreement whose submissions it linked (null for runs from before "
        "runs were scoped to one agreement)."
    )

    @classmethod
    def of(cls, run: LinkageRun) -> LinkageRunPublic:
        return cls(
            id=run.id,
            finished_at=(run.finished_at or run.started_at).isoformat(),
            records=run.records,
            persons=run.persons,
            threshold=run.threshold,
            submissions=sorted(run.submissions),
            agreement=RunSummary.of(run).agreement,
        )


class FailedRun(BaseModel):
    """A run that did not finish: it left no links, model or report."""

    id: str = Field(description="The run's id.")
    started_at: str = Field(description="ISO 8601 timestamp.")
    error: str = Field(
        description="Why it failed: the refusal's words, the kind of internal error, or "
        "that its process stopped before it finished (it is marked failed when the hub "
        "next starts or runs)."
    )


class LinkageRuns(BaseModel):
    """The run in progress, if any, the finished runs, and the latest failed ones."""

    running_since: str | None = Field(description="When the run in progress started.")
    last_error: str | None = Field(description="Why the last background run failed, if it did.")
    runs: list[LinkageRunPublic] = Field(description="The finished runs, newest first.")
    failed: list[FailedRun] = Field(description="Up to ten failed runs, newest first.")


@router.post(
    "",
    status_code=202,
    summary="Start a linkage run over one agreement's submissions",
    response_description="The run goes on in the background; Location names where to watch it.",
    responses=problems(
        401,
        403,
        409,
        said={
            409: "A run is in progress already, the hub holds no current submissions (under "
            "that agreement), or they come under several agreements and none was named."
        },
    ),
)
def start(
    response: Response,
    hub: HubDep,
    jobs: JobsDep,
    user: CurrentUser,
    agreement: Annotated[
        str | None,
        Query(
            description="The agreement whose current submissions to link; may be left out "
            "while every current submission comes under one agreement."
        ),
    ] = None,
) -> LinkageStarted:
    require(user, "linkage.run")
    # Refused now, not in the background: which agreement, and whether it has submissions.
    submissions_to_link(hub, agreement)
    try:
        jobs.start(hub, user.actor, agreement)
    except UserError as exc:
        # Only a run already in progress stops a start: the hub's state, not the request.
        raise Problem(409, "Not possible yet", str(exc)) from exc
    response.headers["Location"] = "/api/v1/linkage-runs"
    return LinkageStarted(status="running")


@router.get("", summary="Linkage runs, newest first", responses=problems(401, 403))
def list_runs(hub: HubDep, jobs: JobsDep, user: CurrentUser) -> LinkageRuns:
    require(user, "linkage.read")
    return LinkageRuns(
        running_since=jobs.running_since.isoformat() if jobs.running_since else None,
        last_error=jobs.last_error,
        runs=[LinkageRunPublic.of(r) for r in runs(hub)],
        failed=[
            FailedRun(id=r.id, started_at=r.started_at.isoformat(), error=r.error or "")
            for r in attempts(hub, limit=50)
            if r.state == "failed"
        ][:10],
    )
