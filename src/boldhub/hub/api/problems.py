"""Client errors as RFC 9457 problem details (application/problem+json), never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from boldhub.errors import (
    Denied,
    HubStateError,
    NotYours,
    PackageError,
    Problem,
    SchemaError,
    UploadTooLarge,
    UserError,
)
from boldhub.hub.web.render import error_page

log = logging.getLogger("boldhub.hub")
PROBLEM = "application/problem+json"


def problem_response(
    request: Request, status: int, title: str, detail: str, **extra: Any
) -> Response:
    if not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", ""):
        # A person in a browser gets a page, in the same words, with the navigation.
        return error_page(request, status, title, detail)
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _status_for(exc: UserError) -> tuple[int, str]:
    if isinstance(exc, UploadTooLarge):
        return 413, "Upload too large"
    if isinstance(exc, NotYours):
        return 403, "Forbidden"
    if isinstance(exc, PackageError):
        return 422, "Package rejected"
    if isinstance(exc, SchemaError):
        return 422, "Invalid data"
    if isinstance(exc, HubStateError):
        return 409, "Not possible yet"
    return 400, "Bad request"


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(request, exc.status, exc.title, exc.detail)

    @app.exception_handler(Denied)
    async def _denied(request: Request, exc: Denied) -> Response:
        return problem_response(request, 403, "Forbidden", exc.detail)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        status, title = _status_for(exc)
        log.info(
            "request refused", extra={"status": status, "path": request.url.path, "reason": title}
        )
        return problem_response(request, status, title, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not found",
            405: "Method not allowed",
        }.get(exc.status_code, "Error")
        return problem_response(request, exc.status_code, title, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = (
            "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "the request is not valid"
        )
        return problem_response(request, 422, "Invalid request", detail, errors=errors)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        # A bug, not the client's fault: log the class (messages may quote data), answer 500.
        log.error(
            "unhandled error", extra={"path": request.url.path, "error": exc.__class__.__name__}
        )
        return problem_response(
            request, 500, "Internal error", "the hub hit an internal error; it has been logged"
        )
