"""/api/v1/organisations: the bodies registered at this hub besides the shipped register
of English local authorities; hub admins register more (audited)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from boldhub.hub import organisations
from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, DbDep

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"])


class OrganisationIn(BaseModel):
    """A body to register (input)."""

    code: str = Field(
        description="Upper-case letters and digits in 2 to 4 parts joined by '-', "
        "e.g. PROVIDER-STMUNGOS."
    )
    name: str = Field(description="The body's full name.")
    kind: Literal["central", "provider"] = Field(description="central or provider.")


class OrganisationOut(BaseModel):
    """A registered body (output)."""

    code: str
    name: str
    kind: str


@router.get("", summary="Bodies other than councils: built in, and registered at this hub")
def list_organisations(db: DbDep, user: CurrentUser) -> list[OrganisationOut]:
    found = organisations.registered(db)
    return [OrganisationOut(code=o.code, name=o.name, kind=o.kind) for o in found.values()]


@router.post("", status_code=201, summary="Register a central body or provider")
def add_organisation(
    body: OrganisationIn, response: Response, db: DbDep, user: CurrentUser
) -> OrganisationOut:
    require(user, "organisations.manage")
    with db.begin_nested():
        org = organisations.add_organisation(
            db, code=body.code, name=body.name, kind=body.kind, actor=user.actor
        )
    db.commit()
    response.headers["Location"] = f"/api/v1/organisations/{org.code}"
    return OrganisationOut(code=org.code, name=org.name, kind=org.kind)
