"""/api/v1/organisations: the bodies registered at this hub besides the shipped register
of English local authorities; hub admins register more (audited)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from boldhub.errors import Problem
from boldhub.hub import organisations
from boldhub.hub.access import require
from boldhub.hub.api.deps import CurrentUser, DbDep
from boldhub.hub.api.problems import problems

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

    code: str = Field(description="The body's code, e.g. MOJ-PROBATION.")
    name: str = Field(description="The body's full name.")
    kind: str = Field(description="central or provider.")


@router.get(
    "",
    summary="Bodies other than councils: built in, and registered at this hub",
    responses=problems(401),
)
def list_organisations(db: DbDep, user: CurrentUser) -> list[OrganisationOut]:
    found = organisations.registered(db)
    return [OrganisationOut(code=o.code, name=o.name, kind=o.kind) for o in found.values()]


@router.post(
    "",
    status_code=201,
    summary="Register a central body or provider",
    response_description="Registered (audited); Location names it.",
    responses=problems(
        400,
        401,
        403,
        409,
        422,
        said={
            400: "The code or name does not follow the rules (the detail says which), or "
            "the body is not UTF-8 text.",
            409: "A body with that code is built in or registered already.",
        },
    ),
)
def add_organisation(
    body: OrganisationIn, response: Response, db: DbDep, user: CurrentUser
) -> OrganisationOut:
    require(user, "organisations.manage")
    code = body.code.strip()
    if code in organisations.registered(db):
        # The body is there already: the hub's state stands in the way, not the request.
        raise Problem(409, "Already registered", f"{code} is registered at this hub already")
    with db.begin_nested():
        org = organisations.add_organisation(
            db, code=body.code, name=body.name, kind=body.kind, actor=user.actor
        )
    db.commit()
    response.headers["Location"] = f"/api/v1/organisations/{org.code}"
    return OrganisationOut(code=org.code, name=org.name, kind=org.kind)
