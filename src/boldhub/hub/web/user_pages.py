"""An organisation's admin manages its people on a page, as `boldhub admin` does by
command: disable or enable an account (a disabled one is signed out at once and its
tokens stop working), and revoke API tokens. Every change goes to the audit trail.

The hub's admins may manage every organisation's people (``?organisation=CODE``). An
account that the signed-in admin may not manage is answered 404, the same as one that
does not exist, so that the page cannot be used to list the hub's users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from boldhub import clock
from boldhub.errors import Problem, UserError
from boldhub.hub.access import allowed, require
from boldhub.hub.accounts import Principal, revoke_tokens, set_active
from boldhub.hub.api.deps import HubDep, MaybeUser
from boldhub.hub.store import Hub
from boldhub.hub.store.models import ApiToken, User
from boldhub.hub.web.render import check_csrf, render, to_sign_in
from boldhub.hub.web.wording import sentence

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class TokenRow:
    label: str
    created_at: datetime
    expires_at: datetime | None
    state: str  # "in use", "expired" or "revoked"


@dataclass(frozen=True)
class Person:
    user: User
    tokens: list[TokenRow]


def _token_state(token: ApiToken, now: datetime) -> str:
    if token.revoked:
        return "revoked"
    if token.expires_at is not None and clock.utc(token.expires_at) <= now:
        return "expired"
    return "in use"


def _people(hub: Hub, organisation: str) -> list[Person]:
    now = clock.now()
    with hub.sessions() as session:
        users = list(
            session.execute(
                select(User).where(User.organisation == organisation).order_by(User.name)
            ).scalars()
        )
        tokens = list(
            session.execute(
                select(ApiToken)
                .where(ApiToken.user_id.in_([u.id for u in users]))
                .order_by(ApiToken.created_at.desc())
            ).scalars()
        )
    return [
        Person(
            u,
            [
                TokenRow(t.label, t.created_at, t.expires_at, _token_state(t, now))
                for t in tokens
                if t.user_id == u.id
            ],
        )
        for u in users
    ]


def _view(
    request: Request,
    hub: Hub,
    user: Principal,
    organisation: str,
    status: int = 200,
    done: str = "",
    error: str = "",
) -> Response:
    return render(
        request,
        "users.html",
        user,
        status,
        organisation=organisation,
        people=_people(hub, organisation),
        me=user.user_id,
        done=done,
        error=error,
    )


@router.get("/users")
def users_page(
    request: Request, hub: HubDep, user: MaybeUser, organisation: str = "", done: str = ""
) -> Response:
    if user is None:
        return to_sign_in(request)
    org = organisation or user.organisation
    require(user, "users.manage", org)
    # Only a fixed phrase is shown back: the address cannot put text on the page.
    return _view(request, hub, user, org, done=DONE.get(done, ""))


DONE = {
    "disabled": "The account is disabled: its sessions ended and its tokens stopped working.",
    "enabled": "The account is enabled again. Its revoked tokens stay revoked.",
    "revoked": "The tokens are revoked.",
}


@router.post("/users/{user_id}/{change}")
def change_user(
    request: Request,
    hub: HubDep,
    user: MaybeUser,
    user_id: int,
    change: str,
    csrf_token: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return to_sign_in(request)
    check_csrf(request, csrf_token)
    if change not in DONE or not 1 <= user_id < 2**63:
        raise Problem(404, "Not found", f"no user {user_id} that you may manage")
    try:
        with hub.sessions() as session, session.begin():
            target = session.get(User, user_id)
            if target is None or not allowed(user, "users.manage", target.organisation):
                raise Problem(404, "Not found", f"no user {user_id} that you may manage")
            organisation = target.organisation
            if change == "disabled" and target.id == user.user_id:
                raise UserError("you cannot disable your own account; ask another admin to do it")
            if change == "revoked":
                revoke_tokens(session, target, label=label or None, actor=user.actor)
            else:
                set_active(session, target, change == "enabled", actor=user.actor)
    except UserError as exc:
        return _view(request, hub, user, organisation, 400, error=sentence(str(exc)))
    query = f"?organisation={organisation}&done={change}"
    return RedirectResponse(f"/users{query}", status_code=303)
