"""/dataset: step 1, the dataset the export holds and the organisation it comes from."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from boldhub.council.prepare import check_organisation, default_organisation
from boldhub.council.web.deps import FormDep, Page, PageDep, redirect
from boldhub.council.web.state import Job
from boldhub.council.web.wording import sentence
from boldhub.errors import UserError
from boldhub.schemas import (
    CENTRAL_BODIES,
    COUNCILS,
    DATASETS,
    Organisation,
    get_dataset,
    get_organisation,
)

router = APIRouter()


@router.get("/dataset", response_class=HTMLResponse)
def dataset_page(page: PageDep) -> Response:
    own = page.settings.organisations
    chosen_org = page.job.organisation or (own[0] if len(own) == 1 else None)
    return _view(page, page.job.dataset, chosen_org)


@router.post("/dataset")
async def dataset_post(page: PageDep, form: FormDep) -> Response:
    job = page.job
    chosen = str(form.get("dataset") or "")
    org = str(form.get("organisation") or "")
    errors: list[tuple[str, str]] = []
    if chosen not in DATASETS:
        errors.append(("dataset", "Select the dataset the export holds"))
    else:
        dataset = get_dataset(chosen)
        org = org or _default(page.settings.organisations, chosen)
        own = page.settings.organisations
        if not org:
            errors.append(("organisation", "Select your organisation"))
        elif own and org not in own:
            errors.append(("organisation", "Select your organisation from the list"))
        else:
            try:
                check_organisation(dataset, org)
            except UserError as exc:
                errors.append(("organisation", sentence(str(exc))))
    if errors:
        return _view(page, chosen, org, errors, status=400)
    if (chosen, org) != (job.dataset, job.organisation):
        _change(job, chosen, org)
    return redirect("/upload" if job.upload is None else "/mapping")


def _default(own: tuple[str, ...], dataset: str) -> str:
    """The organisation when none was chosen: the page's only one, else the dataset's
    central body (when the page may sign for it)."""
    if len(own) == 1:
        return own[0]
    central = default_organisation(dataset) or ""
    return central if not own or central in own else ""


def _choices(own: tuple[str, ...]) -> tuple[list[Organisation], list[Organisation]]:
    """The councils and the central bodies to offer: the page's own, else every one."""
    if not own:
        return list(COUNCILS), list(CENTRAL_BODIES)
    orgs = [get_organisation(code) for code in own]
    return [o for o in orgs if o.kind == "council"], [o for o in orgs if o.kind != "council"]


def _change(job: Job, dataset: str, organisation: str) -> None:
    if job.dataset != dataset:
        job.forget_from_export()  # the mapping belongs to the dataset
        if job.upload is not None:
            job.reload_export()
    else:
        job.forget_from_mapping()
    job.dataset, job.organisation = dataset, organisation


def _view(
    page: Page,
    chosen: str | None,
    org: str | None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    councils, central = _choices(page.settings.organisations)
    return page.render(
        "page_dataset.html",
        status=status,
        errors=errors,
        councils=councils,
        central=central,
        own=bool(page.settings.organisations),
        chosen=chosen,
        org=org,
    )
