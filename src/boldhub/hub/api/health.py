"""/healthz: is the service up and its database reachable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from boldhub import __version__
from boldhub.hub.api.deps import DbDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and database check")
def healthz(db: DbDep) -> dict[str, Any]:
    db.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}
