"""The page's defences that sit outside the routes: body limits, CSRF, response headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from boldhub.errors import BodyTooLarge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class LimitBody:
    """Refuse request bodies over ``limit`` bytes, before and while they arrive.

    A form post that is too big is answered with a redirect back to the upload page, which
    then shows the error summary; nothing of it is kept. The rest of the body is read and
    thrown away first (up to a cap), because a browser that is cut off mid-upload shows a
    connection error instead of following the redirect.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit
        self.drain_cap = max(8 * limit, 64 * 1024**2)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._drain(receive, 0)
            await self._too_large(send)
            return
        seen = 0
        started = False
        finished = False

        async def limited_receive() -> Message:
            nonlocal seen, finished
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                finished = not message.get("more_body", False)
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                if not finished:
                    await self._drain(receive, seen)
                await self._too_large(send)

    async def _drain(self, receive: Receive, seen: int) -> None:
        while seen <= self.drain_cap:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _too_large(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", b"/upload?error=too-large"), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """HTTP middleware: every response carries the page's security headers."""
    response = await call_next(request)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    # Pages show the officer's data in clear: keep them out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response
