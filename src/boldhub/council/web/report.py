"""/report and /files: step 4, the validation report and the files prepare wrote."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from boldhub.council.prepare import QUARANTINE_FILE, REPORT_FILE, WARNINGS_FILE
from boldhub.council.web.deps import PageDep, redirect

router = APIRouter()


@router.get("/report", response_class=HTMLResponse)
def report_page(page: PageDep) -> Response:
    job = page.job
    if job.result is None or job.result.report is None:
        return redirect("/mapping" if job.export else "/")
    job.report_seen = True
    return page.render("page_report.html", report=job.result.report)


@router.get("/files/{name}")
def files(page: PageDep, name: str) -> Response:
    job = page.job
    if name not in (QUARANTINE_FILE, WARNINGS_FILE, REPORT_FILE) or job.result is None:
        return Response("Not found", status_code=404)
    path = job.prepared / name
    if not path.is_file():
        return Response("Not found", status_code=404)
    media = "text/csv" if name.endswith(".csv") else "text/html"
    return FileResponse(path, media_type=media, filename=name)
