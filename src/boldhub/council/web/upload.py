"""/upload and /sheet: step 2, the export file (and H-CLIC's personal-data file).

An upload is written to a staging folder and kept only once it has been read: the new
upload then replaces the old in one move. A workbook with several sheets asks which one.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from boldhub.council.export import Export, ReadOptions
from boldhub.council.read import read_export
from boldhub.council.web.deps import FormDep, Page, PageDep, redirect
from boldhub.council.web.state import Job
from boldhub.council.web.wording import sentence, size
from boldhub.errors import UserError

router = APIRouter()

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@router.get("/upload", response_class=HTMLResponse)
def upload_page(page: PageDep, error: str = "") -> Response:
    if page.job.dataset is None:
        return redirect("/dataset")
    errors = []
    limit = page.settings.max_upload_bytes
    if error == "too-large":
        errors.append(("export", f"The selected file must be smaller than {size(limit)}"))
    return _upload_view(page, errors, status=413 if errors else 200)


@router.post("/upload")
async def upload_post(page: PageDep, form: FormDep) -> Response:
    job = page.job
    if job.dataset is None:
        return redirect("/dataset")
    main = form.get("export")
    personal = form.get("personal")
    if not isinstance(main, UploadFile) or not main.filename:
        return _upload_view(page, [("export", "Select the export file")], status=400)
    if not isinstance(personal, UploadFile) or not personal.filename:
        personal = None
    staging = job.folder / "uploads.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        main_path = await _save_upload(main, staging, "export")
        personal_path = await _save_upload(personal, staging, "personal") if personal else None
        try:
            export = read_export(main_path, ReadOptions(), personal=personal_path)
        except UserError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            field_id, message = _unreadable(exc, main, main_path, personal, personal_path)
            return _upload_view(page, [(field_id, message)], status=400)
        # Only a file that reads is kept: the new upload replaces the old in one move.
        final = job.folder / "uploads"
        shutil.rmtree(final, ignore_errors=True)
        staging.replace(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _keep(job, export, final / main_path.name, main, personal, personal_path)
    if export.format == "xlsx" and len(export.sheets) > 1:
        return redirect("/sheet")
    return redirect("/mapping")


@router.get("/sheet", response_class=HTMLResponse)
def sheet_page(page: PageDep) -> Response:
    export = page.job.export
    if export is None or export.format != "xlsx":
        return redirect("/upload")
    return page.render("page_sheet.html", sheets=export.sheets, chosen=export.sheet)


@router.post("/sheet")
async def sheet_post(page: PageDep, form: FormDep) -> Response:
    job = page.job
    if job.export is None or job.upload is None:
        return redirect("/upload")
    sheet = str(form.get("sheet") or "")
    if sheet not in job.export.sheets:
        return page.render(
            "page_sheet.html",
            status=400,
            errors=[("sheet", "Select the sheet that holds the data")],
            sheets=job.export.sheets,
            chosen=None,
        )
    job.sheet = sheet
    try:
        job.reload_export()
    except UserError as exc:
        return page.render(
            "page_sheet.html",
            status=400,
            errors=[("sheet", sentence(str(exc).replace(str(job.upload), job.upload_name)))],
            sheets=job.export.sheets if job.export else (),
            chosen=sheet,
        )
    return redirect("/mapping")


def _upload_view(page: Page, errors: list[tuple[str, str]], status: int) -> Response:
    limit = size(page.settings.max_upload_bytes)
    return page.render("page_upload.html", status=status, errors=errors, limit=limit)


async def _save_upload(upload: UploadFile, folder: Path, stem: str) -> Path:
    suffix = Path(_SAFE_NAME.sub("_", upload.filename or "")).suffix.lower()[:10]
    path = folder / f"{stem}{suffix}"
    with path.open("wb") as fh:
        while chunk := await upload.read(1024**2):
            fh.write(chunk)
    return path


def _unreadable(
    exc: UserError,
    main: UploadFile,
    main_path: Path,
    personal: UploadFile | None,
    personal_path: Path | None,
) -> tuple[str, str]:
    """The form field to blame and the message, naming the files as the officer chose them."""
    names = {str(main_path): main.filename or "export"}
    if personal is not None and personal_path is not None:
        names[str(personal_path)] = personal.filename or "personal"
    message = str(exc)
    for internal, shown in names.items():
        message = message.replace(internal, shown)
    field_id = "personal" if personal_path and str(personal_path) in str(exc) else "export"
    return field_id, sentence(message)


def _keep(
    job: Job,
    export: Export,
    upload: Path,
    main: UploadFile,
    personal: UploadFile | None,
    personal_path: Path | None,
) -> None:
    """Start the job again from this upload, now in its kept folder."""
    job.forget_from_upload()
    job.upload = upload
    job.personal = upload.parent / personal_path.name if personal_path else None
    job.upload_name = main.filename or "export"
    job.personal_name = personal.filename if personal is not None and personal.filename else ""
    job.export = _relocate(export, upload)


def _relocate(export: Export, path: Path) -> Export:
    """The same export, pointing at where its file now lives."""
    files = tuple(path.parent / p.name for p in export.files)
    return replace(export, path=path, files=files)
