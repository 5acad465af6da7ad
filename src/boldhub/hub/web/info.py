"""The pages the footer links to: privacy notice, accessibility statement, contact. Open
to everyone, signed in or not: people need them before they can sign in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from boldhub.hub.api.deps import MaybeUser
from boldhub.hub.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/privacy")
def privacy(request: Request, user: MaybeUser) -> Response:
    return render(request, "privacy.html", user)


@router.get("/accessibility")
def accessibility(request: Request, user: MaybeUser) -> Response:
    return render(request, "accessibility.html", user)


@router.get("/contact")
def contact(request: Request, user: MaybeUser) -> Response:
    return render(request, "contact.html", user)
