"""/api/v1/users: who is here and in which role (admins); role changes are audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from boldhub.hub.access import require
from boldhub.hub.accounts import change_role
from boldhub.hub.api.deps import CurrentUser, DbDep
from boldhub.hub.api.problems import Problem
from boldhub.hub.store.models import ROLES, User

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class RoleChange(BaseModel):
    role: str


def _out(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "organisation": u.organisation,
        "role": u.role,
        "active": u.active,
    }


@router.get("/me", summary="Who you are signed in as")
def me(db: DbDep, user: CurrentUser) -> dict[str, Any]:
    row = db.get(User, user.user_id)
    assert row is not None
    return _out(row)


@router.get("", summary="Users of an organisation you administer")
def list_users(
    db: DbDep, user: CurrentUser, organisation: str | None = None
) -> list[dict[str, Any]]:
    org = organisation or user.organisation
    require(user, "users.manage", org)
    rows = db.execute(select(User).where(User.organisation == org).order_by(User.id)).scalars()
    return [_out(u) for u in rows]


@router.patch("/{user_id}/role", summary="Change a user's role")
def set_role(user_id: int, body: RoleChange, db: DbDep, user: CurrentUser) -> dict[str, Any]:
    target = db.get(User, user_id)
    if target is None:
        raise Problem(404, "Not found", f"no user {user_id} that you may manage")
    require(user, "users.manage", target.organisation)
    if body.role not in ROLES:
        raise Problem(422, "Invalid request", f"role must be one of: {', '.join(ROLES)}")
    with db.begin_nested():
        change_role(db, user_id, body.role, actor=user.actor)
    db.commit()
    return _out(target)
