"""Client errors as RFC 9457 problem details (application/problem+json), never a 500."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from boldhub.errors import (
    Denied,
    DiskFull,
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


class ProblemResponse(JSONResponse):
    media_type = PROBLEM


class FieldProblem(BaseModel):
    """One part of a request that is not valid."""

    field: str = Field(description="Where it is, e.g. body.role or path.user_id.")
    message: str = Field(description="What is wrong with it.")


class ProblemDetail(BaseModel):
    """An RFC 9457 problem: why the hub refused a request, in words for the person who
    sent it. Never a value of the request, never a path on the hub's disk."""

    type: str = Field(description="Always about:blank: the status and title say the kind.")
    title: str = Field(description="The kind of problem, e.g. Forbidden, Package rejected.")
    status: int = Field(description="The HTTP status code, repeated.")
    detail: str = Field(description="What is wrong and what to do about it.")
    instance: str = Field(description="The path that was asked for.")
    errors: list[FieldProblem] = Field(
        default_factory=list,
        description="For 422 Invalid request only: each part of the request that is not valid.",
    )


# What each status means anywhere in the API; a route may say it more exactly.
_MEANING = {
    400: "The request cannot be carried out as sent; the detail says why.",
    401: "No API token or session was sent, or the token is not valid (mistyped, revoked, "
    "expired, or its user disabled).",
    403: "Your role or organisation may not do this; the detail names who may. Also a "
    "session-signed change sent from another site's page.",
    404: "Nothing by that name that you may see: not found and not yours look the same.",
    409: "Not possible in the hub's present state; the detail says what is needed first.",
    413: "The upload is larger than the hub accepts (BOLDHUB_MAX_UPLOAD_BYTES).",
    422: "The request is not valid: each part that is not is in errors.",
    503: "The hub's database cannot be reached just now (restarting); nothing was done: "
    "try again in a minute.",
    507: "The hub's disk is full; nothing of the upload was kept. The hub's team must free "
    "space before it is sent again.",
}
_REF = "#/components/schemas/"


def problems(*statuses: int, said: Mapping[int, str] | None = None) -> dict[int | str, Any]:
    """The ``responses`` of a route that may answer these statuses with a problem, for
    its OpenAPI document; ``said`` words a status more exactly for this route."""
    said = said or {}
    return {
        status: {
            "description": said.get(status, _MEANING[status]),
            "content": {PROBLEM: {"schema": {"$ref": f"{_REF}ProblemDetail"}}},
        }
        for status in statuses
    }


def _document_problems(app: FastAPI) -> None:
    """Put the problem models in the app's OpenAPI document, which the routes' ``problems``
    responses point at: FastAPI registers only the models it serves as JSON itself."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()  # which FastAPI keeps as app.openapi_schema
        schema = ProblemDetail.model_json_schema(ref_template=_REF + "{model}")
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(schema.pop("$defs", {}))
        schemas["ProblemDetail"] = schema
        # FastAPI documents a 422 of its own shape for every route with a parameter that
        # does not name one; the handler below answers every 422 as a problem.
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "HTTPValidationError" in str(responses.get("422", "")):
                    responses["422"] = problems(422)[422]
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


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
    return ProblemResponse(body, status_code=status)


def _status_for(exc: UserError) -> tuple[int, str]:
    if isinstance(exc, UploadTooLarge):
        return 413, "Upload too large"
    if isinstance(exc, DiskFull):
        return 507, "Insufficient storage"
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
    _document_problems(app)

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
            400: "Bad request",
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

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> Response:
        # The database stopped, restarted, is unreachable or has no connection free for
        # now: not a bug, and passing. The class only: a message may quote SQL parameters.
        cause = exc.orig if isinstance(exc, OperationalError) else exc
        log.warning(
            "database unavailable",
            extra={"path": request.url.path, "error": type(cause).__name__},
        )
        return problem_response(
            request,
            503,
            "Service unavailable",
            "the hub's database cannot be reached just now, so nothing was done; try again "
            "in a minute",
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        # A bug, not the client's fault: log the class (messages may quote data), answer 500.
        log.error(
            "unhandled error", extra={"path": request.url.path, "error": exc.__class__.__name__}
        )
        return problem_response(
            request, 500, "Internal error", "the hub hit an internal error; it has been logged"
        )
