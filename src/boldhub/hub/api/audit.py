"""/api/v1/audit: an organisation's audit trail (its DPO), and the chain's integrity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from boldhub.hub import audit as audit_log
from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, DbDep, HubDep
from boldhub.hub.service import audit_trail

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/{organisation}", summary="An organisation's audit trail, newest first")
def trail(organisation: str, hub: HubDep, user: CurrentUser) -> list[dict[str, Any]]:
    require(user, "audit.read", organisation)
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "details": e.details,
            "hash": e.hash,
        }
        for e in audit_trail(hub, user, organisation)
    ]


@router.get("", summary="Verify the whole hash chain (hub admins)")
def verify(db: DbDep, user: CurrentUser) -> dict[str, Any]:
    require(user, "audit.read")
    result = audit_log.verify(db)
    return {"ok": result.ok, "entries": result.entries, "problem": result.problem}
