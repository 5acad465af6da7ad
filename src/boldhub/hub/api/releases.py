"""/api/v1/releases: output checking. The hub's team lists drafts and releases; output
checkers approve or reject a draft (two approvals release it to the parties)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from boldhub.errors import Problem, UserError
from boldhub.hub import releases as rel
from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, HubDep
from boldhub.hub.api.problems import problems

router = APIRouter(prefix="/api/v1/releases", tags=["releases"])


class Decision(BaseModel):
    """An output checker's decision on a draft release (input)."""

    decision: Literal["approve", "reject"] = Field(
        description="approve (the second approval releases it) or reject."
    )
    comment: str = Field(default="", max_length=2000, description="Needed to reject: why.")


class ReleasePublic(BaseModel):
    """A release: its status and the output checkers' decisions."""

    id: str = Field(description="The release's id.")
    run_id: str = Field(description="The linkage run whose outcomes it holds.")
    agreement: str | None = Field(description="The agreement the run linked under, if known.")
    status: Literal["draft", "approved", "rejected"] = Field(
        description="draft (waiting for output checkers), approved (the parties read it) "
        "or rejected."
    )
    approvals: int = Field(description="Approvals so far; two release it.")
    areas: list[str] = Field(description="The areas it has a report for, and national.")
    cells: int = Field(description="Counts in the release.")
    suppressed: int = Field(description="Of which suppressed ([c]).")
    rejection: str | None = Field(description="Why it was rejected, if it was.")

    @classmethod
    def of(cls, v: rel.ReleaseView) -> ReleasePublic:
        s = v.summary
        areas, cells, suppressed = s.get("areas"), s.get("cells"), s.get("suppressed")
        return cls(
            id=v.id,
            run_id=v.run_id,
            agreement=v.agreement_id,
            status=v.status,  # type: ignore[arg-type]
            approvals=v.approvals,
            areas=[str(a) for a in areas] if isinstance(areas, list) else [],
            cells=cells if isinstance(cells, int) else 0,
            suppressed=suppressed if isinstance(suppressed, int) else 0,
            rejection=v.rejection,
        )


@router.get(
    "", summary="Every release, newest first (the hub's team)", responses=problems(401, 403)
)
def list_releases(hub: HubDep, user: CurrentUser) -> list[ReleasePublic]:
    require(user, "linkage.read")
    return [ReleasePublic.of(v) for v in rel.releases(hub)]


@router.post(
    "/{release_id}/decisions",
    summary="An output checker's decision on a draft",
    responses=problems(
        400,
        401,
        403,
        404,
        409,
        422,
        said={
            400: "A rejection without a comment saying why, or a body that is not UTF-8 text.",
            403: "Only the hub's output checkers decide, and not on a run they started, nor "
            "twice on one release.",
            404: "No release with that id.",
            409: "The release is decided already: only a draft can be.",
        },
    ),
)
def decide(
    release_id: Annotated[str, Path(description="The release's id (GET /api/v1/releases).")],
    body: Decision,
    hub: HubDep,
    user: CurrentUser,
) -> ReleasePublic:
    require(user, "linkage.read")
    try:
        status = rel.get_release(hub, release_id).status
        if status != "draft":
            # The release's state stands in the way, not the request: a conflict.
            raise Problem(
                409,
                "Already decided",
                f"release {release_id} is {status}; only a draft can be decided",
            )
        view = rel.decide(hub, release_id, user, body.decision, body.comment)
    except UserError as exc:
        if str(exc).startswith("no release"):
            raise Problem(404, "Not found", str(exc)) from exc
        raise
    return ReleasePublic.of(view)
