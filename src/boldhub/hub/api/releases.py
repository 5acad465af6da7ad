"""/api/v1/releases: output checking. The hub's team lists drafts and releases; output
checkers approve or reject a draft (two approvals release it to the parties)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from boldhub.errors import Problem, UserError
from boldhub.hub import releases as rel
from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, HubDep

router = APIRouter(prefix="/api/v1/releases", tags=["releases"])


class Decision(BaseModel):
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=2000, description="Needed to reject: why.")


class ReleasePublic(BaseModel):
    """A release: its status and the output checkers' decisions."""

    id: str
    run_id: str
    agreement: str | None
    status: Literal["draft", "approved", "rejected"]
    approvals: int = Field(description="Approvals so far; two release it.")
    areas: list[str]
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


@router.get("", summary="Every release, newest first (the hub's team)")
def list_releases(hub: HubDep, user: CurrentUser) -> list[ReleasePublic]:
    require(user, "linkage.read")
    return [ReleasePublic.of(v) for v in rel.releases(hub)]


@router.post("/{release_id}/decisions", summary="An output checker's decision on a draft")
def decide(release_id: str, body: Decision, hub: HubDep, user: CurrentUser) -> ReleasePublic:
    require(user, "linkage.read")
    try:
        view = rel.decide(hub, release_id, user, body.decision, body.comment)
    except UserError as exc:
        if str(exc).startswith("no release"):
            raise Problem(404, "Not found", str(exc)) from exc
        raise
    return ReleasePublic.of(view)
