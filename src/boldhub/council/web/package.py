"""/encode and /done: step 5, encode the prepared rows, then save or submit the package."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from boldhub import clock
from boldhub.council.submit import NOT_AVAILABLE
from boldhub.council.web.deps import FormDep, Page, PageDep, redirect
from boldhub.council.web.state import CouncilSettings, Job
from boldhub.council.web.wording import sentence
from boldhub.errors import UserError
from boldhub.privacy.package import package_files

router = APIRouter()


@router.get("/encode", response_class=HTMLResponse)
def encode_page(page: PageDep) -> Response:
    if page.job.result is None:
        return redirect("/")
    return _encode_view(page)


@router.post("/encode")
async def encode_post(page: PageDep, form: FormDep) -> Response:
    job = page.job
    if job.result is None or job.dataset is None:
        return redirect("/")
    action = str(form.get("action") or "save")
    errors: list[tuple[str, str]] = []
    if action == "submit" and not page.state.hub.available():
        errors.append(("submit", NOT_AVAILABLE))
    elif job.result.accepted == 0:
        errors.append(("save", "No rows were accepted, so there is nothing to encode"))
    if errors:
        return _encode_view(page, errors)
    if job.package is None:
        try:
            job.package = _write_package(page.settings, job)
        except UserError as exc:
            return _encode_view(page, [("save", sentence(str(exc)))])
    if action == "submit":
        try:
            # Here as well as in the client: whatever client the page has, a folder that
            # holds more than the signed package is refused before it is handed over.
            package_files(job.package)
            receipt = page.state.hub.submit(job.package)
        except UserError as exc:
            return _encode_view(page, [("submit", sentence(str(exc)))])
        return page.render("page_done.html", receipt=receipt)
    return redirect("/done")


@router.get("/done", response_class=HTMLResponse)
def done(page: PageDep) -> Response:
    if page.job.package is None:
        return redirect("/")
    return page.render("page_done.html", receipt=None)


def _encode_view(page: Page, errors: list[tuple[str, str]] | None = None) -> Response:
    return page.render(
        "page_encode.html",
        status=400 if errors else 200,
        errors=errors,
        result=page.job.result,
        fingerprint=page.settings.key_fingerprint,
    )


def _write_package(settings: CouncilSettings, job: Job) -> Path:
    """Encode the job into a new folder under ``packages/``, named for it and the time."""
    stamp = clock.now().strftime("%Y%m%dT%H%M%S")
    target = settings.workdir / "packages" / f"{job.dataset}-{job.organisation}-{stamp}"
    k = 2
    while target.exists():
        target = target.with_name(f"{job.dataset}-{job.organisation}-{stamp}-{k}")
        k += 1
    settings.write_package(job.prepared, target)
    return target
