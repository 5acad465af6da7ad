"""Headers every response carries, and the same-origin rule for cookie-signed API calls.

The pages use no inline script or style, so one policy (``PAGE_CSP``) serves them all; a
route that sets its own (a dashboard's stricter one) keeps it. The API's interactive
documentation (``/docs``, ``/redoc``) starts Swagger UI and ReDoc with an inline script,
so it alone may run one. Nothing the hub serves may be framed (clickjacking), sniffed
into another type, cached (pages and API answers hold one organisation's data; only the
static files may be kept), or leak its address to another site.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_DOCS = ("/docs", "/redoc")
_CACHEABLE = ("/static/", "/static-docs/", "/dashboard.css")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SecurityHeaders:
    """ASGI middleware: adds the headers to every response, errors included, without
    buffering it (uploads and downloads stream through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault(
                    "Content-Security-Policy", DOCS_CSP if path in _DOCS else PAGE_CSP
                )
                if not path.startswith(_CACHEABLE):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def cross_site(request: Request) -> bool:
    """Whether a state-changing request came from another site's page: its ``Origin``
    (sent by browsers with every such request) is not this hub's own, or the browser says
    so (``Sec-Fetch-Site``). A client that sends neither is not a browser, and a cookie
    does not travel with it unless its owner put it there."""
    if request.method in _SAFE_METHODS:
        return False
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}"
