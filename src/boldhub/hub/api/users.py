"""/api/v1/users: who is here and in which role (admins); role changes are audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from boldhub.errors import Problem
from boldhub.hub.access import allowed, require
from boldhub.hub.accounts import change_role
from boldhub.hub.api.deps import CurrentUser, DbDep
from boldhub.hub.api.problems import problems
from boldhub.hub.store.models import ROLES, User

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class RoleChange(BaseModel):
    """The body of a role change (input)."""

    # An enum in the document; the route itself answers any other role with its own words.
    role: str = Field(
        description=f"One of: {', '.join(ROLES)}.", json_schema_extra={"enum": list(ROLES)}
    )


class UserPublic(BaseModel):
    """A user as the API shows them (output): never a password hash or token."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="The user's id.")
    email: str = Field(description="Their email address, which they sign in with.")
    name: str = Field(description="Their name, as the pages show it.")
    organisation: str = Field(description="The organisation's code (GSS code, body, HUB).")
    role: str = Field(description=f"One of: {', '.join(ROLES)}.")
    active: bool = Field(description="False while the user is disabled.")


@router.get("/me", summary="Who you are signed in as", responses=problems(401))
def me(db: DbDep, user: CurrentUser) -> UserPublic:
    row = db.get(User, user.user_id)
    assert row is not None
    return UserPublic.model_validate(row)


@router.get(
    "",
    summary="Users of an organisation you administer",
    responses=problems(401, 403),
)
def list_users(
    db: DbDep,
    user: CurrentUser,
    organisation: Annotated[
        str | None,
        Query(description="The organisation's code; left out, your own.", examples=["HUB"]),
    ] = None,
) -> list[UserPublic]:
    org = organisation or user.organisation
    require(user, "users.manage", org)
    rows = db.execute(select(User).where(User.organisation == org).order_by(User.id)).scalars()
    return [UserPublic.model_validate(u) for u in rows]


@router.patch(
    "/{user_id}/role",
    summary="Change a user's role",
    responses=problems(
        400,
        401,
        403,
        404,
        422,
        said={
            400: "The body cannot be read: it is not UTF-8 text.",
            403: "A session-signed change sent from another site's page.",
            404: "No user with that id that you may manage (the two look the same).",
        },
    ),
)
def set_role(
    user_id: Annotated[
        int,
        # Bounded as the database's integers are: a larger id is invalid, not a crash.
        Path(description="The user's id (GET /api/v1/users lists them).", ge=1, le=2**63 - 1),
    ],
    body: RoleChange,
    db: DbDep,
    user: CurrentUser,
) -> UserPublic:
    target = db.get(User, user_id)
    # Someone who may not manage the user learns nothing from the answer, not even that
    # the id exists (403 for some ids and 404 for others would list the hub's users).
    if target is None or not allowed(user, "users.manage", target.organisation):
        raise Problem(404, "Not found", f"no user {user_id} that you may manage")
    if body.role not in ROLES:
        raise Problem(422, "Invalid request", f"role must be one of: {', '.join(ROLES)}")
    with db.begin_nested():
        change_role(db, user_id, body.role, actor=user.actor)
    db.commit()
    return UserPublic.model_validate(target)
