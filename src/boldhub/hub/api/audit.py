"""/api/v1/audit: an organisation's audit trail (its DPO), and the chain's integrity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from boldhub.hub import audit as audit_log
from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, DbDep, HubDep
from boldhub.hub.api.problems import problems
from boldhub.hub.service import audit_trail

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEntry(BaseModel):
    """One entry of the hash-chained audit log."""

    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="Position in the hub-wide chain, from 1.")
    at: str = Field(description="When, as an ISO 8601 timestamp.")
    actor: str = Field(description="Who: user:<id>, cli, cli:admin, ...")
    action: str = Field(description="What, e.g. submission.accepted, user.role_changed.")
    subject: str = Field(description="The id of what it was done to.")
    details: dict[str, Any] = Field(description="Codes, counts and ids; never an identifier.")
    hash: str = Field(description="SHA-256 over this entry and the previous entry's hash.")


class ChainCheck(BaseModel):
    """The result of checking the whole hash chain."""

    ok: bool = Field(description="True when every entry still fits the chain.")
    entries: int = Field(description="Entries checked.")
    problem: str | None = Field(description="The first entry that no longer fits, and why.")


@router.get(
    "/{organisation}",
    summary="An organisation's audit trail, newest first",
    response_description="At most its newest 500 entries.",
    responses=problems(401, 403),
)
def trail(
    organisation: Annotated[
        str,
        Path(
            description="The organisation's code; * for every organisation (hub admins).",
            examples=["E08000025"],
        ),
    ],
    hub: HubDep,
    user: CurrentUser,
) -> list[AuditEntry]:
    require(user, "audit.read", organisation)
    return [AuditEntry.model_validate(e) for e in audit_trail(hub, user, organisation)]


@router.get("", summary="Verify the whole hash chain (hub admins)", responses=problems(401, 403))
def verify(db: DbDep, user: CurrentUser) -> ChainCheck:
    require(user, "audit.read")
    result = audit_log.verify(db)
    return ChainCheck(ok=result.ok, entries=result.entries, problem=result.problem)
