"""The hub's admins register bodies other than councils (central bodies, providers) on a
page, as `boldhub admin add-organisation` and the API do; councils come from the shipped
register and need no registration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from boldhub.errors import UserError
from boldhub.hub import organisations
from boldhub.hub.access import require
from boldhub.hub.accounts import Principal
from boldhub.hub.api.deps import HubDep, MaybeUser
from boldhub.hub.store import Hub
from boldhub.hub.web.render import check_csrf, render, to_sign_in
from boldhub.hub.web.wording import sentence

router = APIRouter(include_in_schema=False)

KIND_WORDS = {"central": "Central government body", "provider": "Service provider"}


def _view(
    request: Request,
    hub: Hub,
    user: Principal,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    form: dict[str, str] | None = None,
    added: str = "",
) -> Response:
    with hub.sessions() as session:
        found = organisations.registered(session)
    return render(
        request,
        "organisations.html",
        user,
        status,
        bodies=list(found.values()),
        kinds=KIND_WORDS,
        errors=errors or [],
        form=form or {},
        added=added,
    )


@router.get("/organisations")
def organisations_page(request: Request, hub: HubDep, user: MaybeUser, added: str = "") -> Response:
    if user is None:
        return to_sign_in(request)
    require(user, "organisations.manage")
    with hub.sessions() as session:
        known = organisations.registered(session)
    # Only a code registered here is named back: the address cannot put text on the page.
    return _view(request, hub, user, added=added if added in known else "")


@router.post("/organisations")
def add_organisation(
    request: Request,
    hub: HubDep,
    user: MaybeUser,
    csrf_token: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return to_sign_in(request)
    check_csrf(request, csrf_token)
    require(user, "organisations.manage")
    form = {"code": code.strip().upper(), "name": name, "kind": kind}
    try:
        with hub.sessions() as session, session.begin():
            org = organisations.add_organisation(
                session, code=form["code"], name=name, kind=kind, actor=user.actor
            )
    except UserError as exc:
        # add_organisation's messages start with the field they are about.
        message = str(exc)
        field = next((f for f in ("kind", "name") if message.startswith(f)), "code")
        return _view(request, hub, user, 400, [(field, sentence(str(exc)))], form)
    return RedirectResponse(f"/organisations?added={org.code}", status_code=303)
