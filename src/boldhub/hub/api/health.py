"""/healthz: is the service up and its database reachable."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text

from boldhub import __version__
from boldhub.hub.api.deps import DbDep

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """The service answers and its database does too."""

    status: Literal["ok"] = Field(description="Always ok: a failing database answers 500.")
    version: str = Field(description="The BOLD Hub version serving the request.")


@router.get("/healthz", summary="Liveness and database check")
def healthz(db: DbDep) -> Health:
    db.execute(text("SELECT 1"))
    return Health(status="ok", version=__version__)
