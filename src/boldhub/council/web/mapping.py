"""/mapping: step 3, which column of the export holds which field; then prepare runs.

A saved mapping profile can be chosen (``?profile=``) and the chosen mapping saved as one.
"""

from __future__ import annotations

import shutil

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from boldhub.council import mapping as mapping_mod
from boldhub.council.export import Export, ReadOptions
from boldhub.council.prepare import prepare
from boldhub.council.web.deps import FormDep, Page, PageDep, redirect
from boldhub.council.web.state import Job
from boldhub.council.web.wording import sentence
from boldhub.errors import UserError
from boldhub.schemas import Dataset, get_dataset

router = APIRouter()


@router.get("/mapping", response_class=HTMLResponse)
def mapping_page(page: PageDep, profile: str = "") -> Response:
    job = page.job
    if job.dataset is None:
        return redirect("/dataset")
    if job.export is None:
        return redirect("/upload")
    dataset = get_dataset(job.dataset)
    errors: list[tuple[str, str]] = []
    chosen = job.mapping
    if profile:
        try:
            chosen = mapping_mod.load_profile(profile, page.settings.profiles)
            if chosen.dataset != dataset.name:
                raise UserError(f"profile '{profile}' is for {chosen.dataset} exports")
        except UserError as exc:
            errors.append(("profile", sentence(str(exc))))
            chosen = job.mapping
    if chosen is None:
        chosen = _first_mapping(dataset, job.export)
    return _mapping_view(page, chosen, errors, status=400 if errors else 200)


@router.post("/mapping")
async def mapping_post(page: PageDep, form: FormDep) -> Response:
    job = page.job
    if job.dataset is None or job.export is None or job.upload is None:
        return redirect("/upload")
    dataset = get_dataset(job.dataset)
    chosen, save_as = _posted_mapping(form, dataset, job.sheet)
    errors = [
        (f"field-{name}", sentence(problem))
        for name, problem in mapping_mod.problems(dataset, chosen, job.export.header)
    ]
    if save_as:
        try:
            mapping_mod.check_profile_name(save_as)
        except UserError as exc:
            errors.append(("save_as", sentence(str(exc))))
    if errors:
        return _mapping_view(page, chosen, errors, status=400, save_as=save_as)
    if save_as:
        mapping_mod.save_profile(page.settings.profiles, chosen)
    try:
        _prepare(job, dataset, chosen)
    except UserError as exc:
        assert job.upload is not None
        message = str(exc).replace(str(job.upload), job.upload_name)
        return _mapping_view(page, chosen, [("mapping", sentence(message))], status=400)
    return redirect("/report")


def _posted_mapping(
    form: FormData, dataset: Dataset, sheet: str | None
) -> tuple[mapping_mod.Mapping, str]:
    """The mapping the form chose, and the profile name to save it as ("" for none)."""
    columns = {
        f.name: str(form.get(f"field-{f.name}") or "")
        for f in mapping_mod.canonical_fields(dataset)
    }
    date_order = str(form.get("date_order") or "auto")
    save_as = str(form.get("save_as") or "").strip()
    chosen = mapping_mod.Mapping(
        dataset.name,
        {k: v for k, v in columns.items() if v},
        save_as or "chosen on this page",
        {
            "date_order": date_order if date_order in mapping_mod.DATE_ORDERS else "auto",
            "sheet": sheet,
        },
    )
    return chosen, save_as


def _prepare(job: Job, dataset: Dataset, chosen: mapping_mod.Mapping) -> None:
    """Prepare the job's export with this mapping, into a fresh prepared folder."""
    assert job.upload is not None
    job.forget_from_mapping()
    job.mapping = chosen
    shutil.rmtree(job.prepared, ignore_errors=True)
    job.result = prepare(
        job.upload,
        dataset.name,
        job.prepared,
        job.organisation,
        mapping=chosen,
        read_options=ReadOptions(sheet=job.sheet),
        personal=job.personal,
        export=job.export,
        source_name=job.upload_name,
    )


def _mapping_view(
    page: Page,
    chosen: mapping_mod.Mapping,
    errors: list[tuple[str, str]],
    status: int = 200,
    save_as: str = "",
) -> HTMLResponse:
    job = page.job
    assert job.dataset is not None and job.export is not None
    dataset = get_dataset(job.dataset)
    export = job.export
    lower = {h.lower(): h for h in export.header}
    selected = {k: lower.get(v.lower(), "") for k, v in chosen.columns.items()}
    return page.render(
        "page_mapping.html",
        status=status,
        errors=errors,
        fields=mapping_mod.canonical_fields(dataset),
        headers=[(h, export.samples(i)) for i, h in enumerate(export.header)],
        selected=selected,
        date_order=chosen.date_order,
        profiles=mapping_mod.list_profiles(page.settings.profiles, dataset.name),
        profile_name=chosen.name,
        save_as=save_as,
        read_as=export.describe(),
        rows=export.rows,
    )


def _first_mapping(dataset: Dataset, export: Export) -> mapping_mod.Mapping:
    """The body's own layout when the export has it, else a suggestion from the headers."""
    builtin = mapping_mod.builtin_mapping(dataset)
    lower = {h.lower() for h in export.header}
    present = {k: v for k, v in builtin.columns.items() if v.lower() in lower}
    if not mapping_mod.problems(dataset, mapping_mod.Mapping(dataset.name, present), export.header):
        return mapping_mod.Mapping(dataset.name, present, mapping_mod.BUILTIN)
    return mapping_mod.suggested_mapping(dataset, export.header)
