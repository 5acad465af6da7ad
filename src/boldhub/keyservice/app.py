"""The key service over HTTP (``boldhub keyservice serve``).

- ``GET  /v1/agreements/{id}/public-key``: the agreement's public element and fingerprint.
- ``POST /v1/agreements/{id}/evaluate``: a party's bearer token and
  ``{"domain": "dob-salt", "elements": [hex, ...]}``; answers
  ``{"evaluated": [hex, ...], "remaining": n}`` (n: the party's quota left in that
  domain). 401 bad token, 404 unknown agreement, 400 malformed body, domain or element,
  413 too many elements, 429 over quota.
- ``GET  /v1/audit``: the administrator's token; every audit row and whether the chain
  verifies.
- ``GET  /healthz``.

Every refusal is JSON ``{"detail": "..."}`` saying what is wrong and what to do; nothing
a client sends reaches a log.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from boldhub import __version__
from boldhub.errors import BatchTooLarge, KeyServiceRefused
from boldhub.keyservice import oprf, protocol
from boldhub.keyservice.service import KeyService

Authorization = Annotated[str | None, Header()]


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


_SHAPE = '{"domain": "<name>", "elements": ["<64 hex digits>", ...]}'


def _elements(body: bytes) -> tuple[str, list[bytes]] | str:
    """The body's domain and elements, or what is wrong with it."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return f"the body is not JSON; send {_SHAPE}"
    items = parsed.get("elements") if isinstance(parsed, dict) else None
    if not isinstance(items, list):
        return f'the body has no list "elements"; send {_SHAPE}'
    domain = parsed.get("domain")
    problem = protocol.domain_problem(domain)
    if problem is not None:
        return f'the body\'s "domain" is missing or not valid: {problem}; send {_SHAPE}'
    assert isinstance(domain, str)
    out = []
    for i, item in enumerate(items):
        try:
            raw = bytes.fromhex(item) if isinstance(item, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != oprf.ELEMENT_BYTES:
            return f"element {i} is not {2 * oprf.ELEMENT_BYTES} hex digits; nothing was evaluated"
        out.append(raw)
    return domain, out


async def _body(request: Request) -> bytes | None:
    """The request body, or None once it passes the size limit (the rest is not read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > protocol.MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > protocol.MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(status: int, detail: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def create_app(service: KeyService) -> FastAPI:
    app = FastAPI(
        title="BOLD Hub key service",
        version=__version__,
        summary=f"Oblivious PRF evaluation, RFC 9497 {protocol.SUITE}, mode 0x00.",
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(KeyServiceRefused)
    async def refused(request: Request, exc: KeyServiceRefused) -> JSONResponse:
        return _refusal(exc.status, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _refusal(400, "the request is malformed; see the key service's documentation")

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        return _refusal(500, "the key service failed; its administrator's log has the details")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/agreements/{agreement}/public-key")
    def public_key(agreement: str) -> dict[str, Any]:
        public = service.public_key(agreement)
        return {
            "agreement": agreement,
            "suite": protocol.SUITE,
            "mode": oprf.MODE_OPRF,
            "public_key": public.hex(),
            "fingerprint": protocol.fingerprint(public),
        }

    @app.post("/v1/agreements/{agreement}/evaluate")
    async def evaluate(
        agreement: str, request: Request, authorization: Authorization = None
    ) -> dict[str, Any]:
        # The token first (Argon2, off the event loop), so that every refusal after it
        # is audited under the party that made the request.
        party = await run_in_threadpool(service.authenticate, agreement, _bearer(authorization))
        body = await _body(request)
        if body is None:
            await run_in_threadpool(
                service.refuse,
                agreement,
                party,
                0,
                BatchTooLarge(
                    f"the body is over {protocol.MAX_BODY_BYTES} bytes; send at most "
                    f"{protocol.MAX_BATCH} elements a request"
                ),
            )
        assert body is not None  # refuse() raised
        parsed = _elements(body)
        if isinstance(parsed, str):
            await run_in_threadpool(
                service.refuse,
                agreement,
                party,
                0,
                KeyServiceRefused(parsed),
                outcome="malformed request",
            )
        assert not isinstance(parsed, str)
        domain, elements = parsed
        result = await run_in_threadpool(service.evaluate_as, agreement, party, domain, elements)
        return {"evaluated": [e.hex() for e in result.elements], "remaining": result.remaining}

    @app.get("/v1/audit")
    def audit(authorization: Authorization = None) -> dict[str, Any]:
        check, rows = service.read_audit(_bearer(authorization))
        return {
            "verified": check.ok,
            "problem": check.problem,
            "rows": [asdict(row) for row in rows],
        }

    return app
