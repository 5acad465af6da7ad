"""/ (the task list) and /restart (start again with a new job)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from boldhub.council.web.deps import FormDep, PageDep, redirect
from boldhub.council.web.state import Job
from boldhub.schemas import get_dataset

router = APIRouter()


@dataclass(frozen=True)
class Task:
    name: str
    href: str | None
    status: str  # "Completed", "Not yet started", "Cannot start yet"
    hint: str = ""


@router.get("/", response_class=HTMLResponse)
def index(page: PageDep) -> Response:
    return page.render("page_index.html", tasks=tasks(page.job))


@router.post("/restart")
async def restart(page: PageDep, _form: FormDep) -> Response:
    page.state.restart(page.session)
    return redirect("/")


def tasks(job: Job) -> list[Task]:
    def status(done: bool, can: bool) -> str:
        return "Completed" if done else ("Not yet started" if can else "Cannot start yet")

    chosen = job.dataset is not None
    uploaded = job.export is not None
    mapped = job.result is not None
    hint_dataset = f"{get_dataset(job.dataset).title}, {job.organisation}" if job.dataset else ""
    return [
        Task("Choose the dataset and organisation", "/dataset", status(chosen, True), hint_dataset),
        Task(
            "Upload the export",
            "/upload" if chosen else None,
            status(uploaded, chosen),
            job.upload_name + (f" and {job.personal_name}" if job.personal_name else ""),
        ),
        Task(
            "Check the column mapping", "/mapping" if uploaded else None, status(mapped, uploaded)
        ),
        Task(
            "Check the validation report",
            "/report" if mapped else None,
            status(job.report_seen, mapped),
        ),
        Task(
            "Encode, then save or submit the package",
            "/encode" if job.report_seen else None,
            status(job.package is not None, job.report_seen),
        ),
    ]
