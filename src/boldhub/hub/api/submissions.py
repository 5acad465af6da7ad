"""/api/v1/submissions: upload a package (streamed tar), list and read submissions."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from boldhub.config import Settings
from boldhub.errors import Problem, UploadTooLarge, UserError
from boldhub.hub.access import require
from boldhub.hub.accounts import Principal
from boldhub.hub.api.deps import CurrentUser, HubDep, SettingsDep
from boldhub.hub.api.problems import problems
from boldhub.hub.service import submissions_for
from boldhub.hub.store import Hub, disk_space
from boldhub.hub.upload import ingest_in_turn, staging_dir, unpack_tar

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])


class UploadReceipt(BaseModel):
    """The submission an uploaded package became."""

    id: str = Field(description="The submission's id.")
    source: str = Field(description="dataset:organisation, e.g. homelessness:E08000025.")
    records: int = Field(description="Records the package holds.")
    created: bool = Field(description="False when this package was received before.")
    supersedes: str | None = Field(
        description="The submission it replaces (same source and period), if any."
    )


class SubmissionPublic(BaseModel):
    """A submission as its organisation (and the hub's staff) see it: no record data."""

    id: str = Field(description="The submission's id.")
    source: str = Field(description="dataset:organisation, e.g. homelessness:E08000025.")
    dataset: str = Field(description="homelessness, probation, treatment or victims.")
    organisation: str = Field(description="The submitting organisation's code.")
    period: str = Field(description="The period the export covers, start/end.")
    records: int = Field(description="Records the package holds.")
    status: str = Field(
        description="current; superseded (a later package for the same source and period "
        "replaced it); or retired (sent under a linkage key since rotated)."
    )
    state: str = Field(description="Where it stands, in words (e.g. linked in run <id>).")
    received_at: str = Field(description="ISO 8601 timestamp.")
    linked_in: str | None = Field(description="The latest linkage run that linked it.")
    quality: dict[str, float] = Field(
        description="Per key field, the percentage of records that carry it."
    )


@router.post(
    "",
    status_code=201,
    summary="Upload a package",
    description=(
        "Send the package folder as an uncompressed tar (Content-Type: application/x-tar). "
        "All or nothing: the package is verified completely before anything is stored. "
        "Idempotent: sending the same package again answers 200 with the same submission."
    ),
    response_description="A new submission; Location names it.",
    responses={
        200: {"model": UploadReceipt, "description": "This package was received before."},
        **problems(
            400,
            401,
            403,
            409,
            413,
            422,
            503,
            507,
            said={
                400: "The body is empty, or the agreement does not admit this package.",
                403: "Your role may not send packages, or the package is another organisation's.",
                409: "The hub lacks what the package needs (its agreement, an active key).",
                422: "The package failed a check (the detail names it), or is not a tar.",
            },
        ),
    },
    # The body is read as a stream, so FastAPI cannot see it: say what it is.
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The package folder's files as an uncompressed tar archive.",
            "content": {"application/x-tar": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(
    request: Request, response: Response, hub: HubDep, settings: SettingsDep, user: CurrentUser
) -> UploadReceipt:
    require(user, "submission.create", user.organisation)
    try:
        return await _receive(request, response, hub, settings, user)
    except UserError as exc:
        request.app.state.metrics.refused(exc)
        raise


async def _receive(
    request: Request, response: Response, hub: Hub, settings: Settings, user: Principal
) -> UploadReceipt:
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(limit)
    folder = staging_dir(hub)
    buffer = folder / "upload.tar.partial"
    received = 0
    try:
        with disk_space("the upload"), buffer.open("wb") as fh:
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    raise UploadTooLarge(limit)
                fh.write(chunk)
        if received == 0:
            raise Problem(
                400, "Bad request", "the request body is empty; send the package as a tar archive"
            )
        # Unpacked in a worker thread, so that other requests go on meanwhile; the files
        # cannot add up to more than the archive that carries them.
        await run_in_threadpool(_unpack, buffer, folder, received)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    result = await ingest_in_turn(request.app.state.ingest_slots, hub, folder, user)
    if not result.created:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/submissions/{result.submission_id}"
    return UploadReceipt(
        id=result.submission_id,
        source=result.source,
        records=result.records,
        created=result.created,
        supersedes=result.superseded,
    )


def _unpack(buffer: Path, folder: Path, limit: int) -> None:
    with buffer.open("rb") as fh:
        unpack_tar(fh, folder, limit)
    buffer.unlink()


@router.get("", summary="Submissions you may see", responses=problems(401))
def list_submissions(hub: HubDep, user: CurrentUser) -> list[SubmissionPublic]:
    return [SubmissionPublic.model_validate(s.as_dict()) for s in submissions_for(hub, user)]


@router.get(
    "/{submission_id}",
    summary="One submission",
    responses=problems(401, 404),
)
def get_submission(
    submission_id: Annotated[str, PathParam(description="The submission's id.")],
    hub: HubDep,
    user: CurrentUser,
) -> SubmissionPublic:
    for s in submissions_for(hub, user):
        if s.id == submission_id:
            return SubmissionPublic.model_validate(s.as_dict())
    # Not found and not yours look the same: existence is not disclosed across organisations.
    raise Problem(404, "Not found", f"no submission {submission_id} that you may see")
