"""The council page: prepare, check and encode an export without the command line.

``boldhub council`` serves this app on 127.0.0.1 only, for the data officer sitting at the
machine. The flow follows GOV.UK Design System patterns: a task list, one question per
page, an error summary at the top of any page with a problem:

    task list -> dataset and organisation -> upload -> (sheet) -> column mapping
              -> validation report -> encode -> package saved (or submitted)

Each browser session has one *job*, a folder under ``WORKDIR/jobs/`` holding the upload
and the prepared folder; packages are written to ``WORKDIR/packages/`` and mapping
profiles to ``WORKDIR/profiles/``. Everything stays on this machine: the page shows values
in clear (the officer's own data), and only the encoded package is meant to leave.

Security, although only this machine can reach the page: the server never binds to
anything but loopback; a Host header other than 127.0.0.1 or localhost is refused
(DNS-rebinding); every form post carries a per-session CSRF token; the session cookie is
HttpOnly and SameSite=Strict; request bodies are capped (uploads are size-limited before
they are read) and an upload is kept only once it has been read successfully.
"""

from __future__ import annotations

import hmac
import re
import secrets
import shutil
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import FormData, UploadFile
from starlette.middleware.trustedhost import TrustedHostMiddleware

from boldhub import clock
from boldhub.council import mapping as mapping_mod
from boldhub.council.prepare import (
    QUARANTINE_FILE,
    REPORT_FILE,
    PrepareResult,
    check_organisation,
    default_organisation,
    prepare,
)
from boldhub.council.read import Export, ReadOptions, read_export
from boldhub.council.report import STATIC, environment
from boldhub.council.submit import NOT_AVAILABLE, HubClient, NoHubClient
from boldhub.errors import UserError
from boldhub.schemas import CENTRAL_BODIES, COUNCILS, DATASETS, get_dataset

SESSION_COOKIE = "boldhub_council_session"
DEFAULT_MAX_UPLOAD = 512 * 1024**2
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class PackageWriter(Protocol):
    """Encodes a prepared folder into a new package folder (``boldhub encode``'s work).

    The command line builds it from the key files it was given, so the page itself never
    holds a path to a key, and the way encoding is called lives in one place.
    """

    def __call__(self, prepared: Path, out: Path) -> None: ...


@dataclass(frozen=True)
class CouncilSettings:
    workdir: Path
    write_package: PackageWriter
    key_fingerprint: str
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD

    @property
    def profiles(self) -> Path:
        return self.workdir / "profiles"


@dataclass
class Job:
    """One export on its way from upload to package, in its own folder."""

    folder: Path
    dataset: str | None = None
    organisation: str | None = None
    upload: Path | None = None
    personal: Path | None = None
    upload_name: str = ""
    personal_name: str = ""
    sheet: str | None = None
    export: Export | None = None
    mapping: mapping_mod.Mapping | None = None
    result: PrepareResult | None = None
    report_seen: bool = False
    package: Path | None = None

    @property
    def prepared(self) -> Path:
        return self.folder / "prepared"

    def forget_from_upload(self) -> None:
        self.upload = self.personal = None
        self.upload_name = self.personal_name = ""
        self.sheet = None
        self.forget_from_export()

    def forget_from_export(self) -> None:
        self.export = None
        self.mapping = None
        self.forget_from_mapping()

    def forget_from_mapping(self) -> None:
        self.result = None
        self.report_seen = False
        self.package = None


@dataclass
class Session:
    csrf: str
    job: Job


@dataclass
class _State:
    settings: CouncilSettings
    hub: HubClient
    sessions: dict[str, Session] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class BodyTooLarge(Exception):
    pass


class CSRFError(Exception):
    """A form post without this session's token: refused with 403."""


class LimitBody:
    """Refuse request bodies over ``limit`` bytes, before and while they arrive.

    A form post that is too big is answered with a redirect back to the upload page, which
    then shows the error summary; nothing of it is kept. The rest of the body is read and
    thrown away first (up to a cap), because a browser that is cut off mid-upload shows a
    connection error instead of following the redirect.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit
        self.drain_cap = max(8 * limit, 64 * 1024**2)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._drain(receive, 0)
            await self._too_large(send)
            return
        seen = 0
        started = False
        finished = False

        async def limited_receive() -> Message:
            nonlocal seen, finished
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                finished = not message.get("more_body", False)
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                if not finished:
                    await self._drain(receive, seen)
                await self._too_large(send)

    async def _drain(self, receive: Receive, seen: int) -> None:
        while seen <= self.drain_cap:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _too_large(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", b"/upload?error=too-large"), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    # Pages show the officer's data in clear: keep them out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def create_app(settings: CouncilSettings, hub: HubClient | None = None) -> FastAPI:
    state = _State(settings, hub or NoHubClient())
    for sub in ("jobs", "packages", "profiles"):
        (settings.workdir / sub).mkdir(parents=True, exist_ok=True)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="BOLD Hub council page")
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    env = environment()
    limit = settings.max_upload_bytes

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        return _security_headers(await call_next(request))

    def session_for(request: Request) -> tuple[Session, str | None]:
        """The caller's session; a new one (and its cookie value) when there is none."""
        sid = request.cookies.get(SESSION_COOKIE, "")
        with state.lock:
            found = state.sessions.get(sid)
            if found is not None:
                return found, None
            sid = secrets.token_urlsafe(32)
            job = _new_job(settings.workdir)
            found = Session(secrets.token_urlsafe(32), job)
            state.sessions[sid] = found
            return found, sid

    def render(
        request: Request,
        template: str,
        status: int = 200,
        errors: list[tuple[str, str]] | None = None,
        **ctx: Any,
    ) -> HTMLResponse:
        session, new_sid = session_for(request)
        html = env.get_template(template).render(
            csrf=session.csrf,
            job=session.job,
            errors=errors or [],
            datasets=DATASETS,
            hub_available=state.hub.available(),
            not_available=NOT_AVAILABLE,
            limit_bytes=limit,
            **ctx,
        )
        response = HTMLResponse(html, status_code=status)
        if new_sid:
            _set_cookie(response, new_sid)
        return response

    async def form_of(request: Request) -> tuple[Session, FormData]:
        session, _ = session_for(request)
        form = await request.form(max_files=2, max_fields=200, max_part_size=64 * 1024)
        token = form.get("csrf_token")
        if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf):
            raise CSRFError
        return session, form

    def redirect(path: str) -> RedirectResponse:
        return RedirectResponse(path, status_code=303)

    @app.exception_handler(CSRFError)
    async def forbidden(request: Request, _exc: Exception) -> Response:
        return render(request, "page_forbidden.html", status=403)

    # -- task list ---------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        return render(request, "page_index.html", tasks=_tasks(session_for(request)[0].job))

    @app.post("/restart")
    async def restart(request: Request) -> Response:
        session, _ = await form_of(request)
        with state.lock:
            session.job = _new_job(settings.workdir)
        return redirect("/")

    # -- 1. dataset and organisation -----------------------------------------------------

    @app.get("/dataset", response_class=HTMLResponse)
    def dataset_page(request: Request) -> Response:
        job = session_for(request)[0].job
        return render(
            request,
            "page_dataset.html",
            councils=COUNCILS,
            central=CENTRAL_BODIES,
            chosen=job.dataset,
            org=job.organisation,
        )

    @app.post("/dataset")
    async def dataset_post(request: Request) -> Response:
        session, form = await form_of(request)
        job = session.job
        chosen = str(form.get("dataset") or "")
        org = str(form.get("organisation") or "")
        errors: list[tuple[str, str]] = []
        if chosen not in DATASETS:
            errors.append(("dataset", "Select the dataset the export holds"))
        else:
            dataset = get_dataset(chosen)
            org = org or (default_organisation(chosen) or "")
            if not org:
                errors.append(("organisation", "Select your council"))
            else:
                try:
                    check_organisation(dataset, org)
                except UserError as exc:
                    errors.append(("organisation", _sentence(str(exc))))
        if errors:
            return render(
                request,
                "page_dataset.html",
                status=400,
                errors=errors,
                councils=COUNCILS,
                central=CENTRAL_BODIES,
                chosen=chosen,
                org=org,
            )
        if (chosen, org) != (job.dataset, job.organisation):
            if job.dataset != chosen:
                job.forget_from_export()  # the mapping belongs to the dataset
                if job.upload is not None:
                    _load_export(job)
            else:
                job.forget_from_mapping()
            job.dataset, job.organisation = chosen, org
        return redirect("/upload" if job.upload is None else "/mapping")

    # -- 2. upload -------------------------------------------------------------------------

    @app.get("/upload", response_class=HTMLResponse)
    def upload_page(request: Request, error: str = "") -> Response:
        job = session_for(request)[0].job
        if job.dataset is None:
            return redirect("/dataset")
        errors = []
        if error == "too-large":
            errors.append(("export", f"The selected file must be smaller than {_size(limit)}"))
        return render(
            request,
            "page_upload.html",
            status=413 if errors else 200,
            errors=errors,
            limit=_size(limit),
        )

    @app.post("/upload")
    async def upload_post(request: Request) -> Response:
        session, form = await form_of(request)
        job = session.job
        if job.dataset is None:
            return redirect("/dataset")
        main = form.get("export")
        personal = form.get("personal")
        errors: list[tuple[str, str]] = []
        if not isinstance(main, UploadFile) or not main.filename:
            errors.append(("export", "Select the export file"))
        if errors:
            return render(
                request, "page_upload.html", status=400, errors=errors, limit=_size(limit)
            )
        assert isinstance(main, UploadFile)
        staging = job.folder / "uploads.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            main_path = await _save_upload(main, staging, "export")
            personal_path = None
            if isinstance(personal, UploadFile) and personal.filename:
                personal_path = await _save_upload(personal, staging, "personal")
            names = {str(main_path): main.filename or "export"}
            if personal_path is not None and isinstance(personal, UploadFile):
                names[str(personal_path)] = personal.filename or "personal"
            try:
                export = read_export(main_path, ReadOptions(), personal=personal_path)
            except UserError as exc:
                message = str(exc)
                for internal, shown in names.items():
                    message = message.replace(internal, shown)
                field_id = (
                    "personal" if personal_path and str(personal_path) in str(exc) else "export"
                )
                shutil.rmtree(staging, ignore_errors=True)
                return render(
                    request,
                    "page_upload.html",
                    status=400,
                    errors=[(field_id, _sentence(message))],
                    limit=_size(limit),
                )
            # Only a file that reads is kept: the new upload replaces the old in one move.
            final = job.folder / "uploads"
            shutil.rmtree(final, ignore_errors=True)
            staging.replace(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        job.forget_from_upload()
        job.upload = final / main_path.name
        job.personal = final / personal_path.name if personal_path else None
        job.upload_name = main.filename or "export"
        job.personal_name = (
            personal.filename if isinstance(personal, UploadFile) and personal.filename else ""
        )
        job.export = _relocate(export, job.upload)
        if export.format == "xlsx" and len(export.sheets) > 1:
            return redirect("/sheet")
        return redirect("/mapping")

    # -- 2b. sheet -------------------------------------------------------------------------

    @app.get("/sheet", response_class=HTMLResponse)
    def sheet_page(request: Request) -> Response:
        job = session_for(request)[0].job
        if job.export is None or job.export.format != "xlsx":
            return redirect("/upload")
        return render(request, "page_sheet.html", sheets=job.export.sheets, chosen=job.export.sheet)

    @app.post("/sheet")
    async def sheet_post(request: Request) -> Response:
        session, form = await form_of(request)
        job = session.job
        if job.export is None or job.upload is None:
            return redirect("/upload")
        sheet = str(form.get("sheet") or "")
        if sheet not in job.export.sheets:
            return render(
                request,
                "page_sheet.html",
                status=400,
                errors=[("sheet", "Select the sheet that holds the data")],
                sheets=job.export.sheets,
                chosen=None,
            )
        job.sheet = sheet
        try:
            _load_export(job)
        except UserError as exc:
            return render(
                request,
                "page_sheet.html",
                status=400,
                errors=[("sheet", _sentence(str(exc).replace(str(job.upload), job.upload_name)))],
                sheets=job.export.sheets if job.export else (),
                chosen=sheet,
            )
        return redirect("/mapping")

    # -- 3. mapping ------------------------------------------------------------------------

    @app.get("/mapping", response_class=HTMLResponse)
    def mapping_page(request: Request, profile: str = "") -> Response:
        job = session_for(request)[0].job
        if job.dataset is None:
            return redirect("/dataset")
        if job.export is None:
            return redirect("/upload")
        dataset = get_dataset(job.dataset)
        errors: list[tuple[str, str]] = []
        chosen = job.mapping
        if profile:
            try:
                chosen = mapping_mod.load_profile(profile, settings.profiles)
                if chosen.dataset != dataset.name:
                    raise UserError(f"profile '{profile}' is for {chosen.dataset} exports")
            except UserError as exc:
                errors.append(("profile", _sentence(str(exc))))
                chosen = job.mapping
        if chosen is None:
            chosen = _first_mapping(dataset, job.export)
        return _mapping_view(request, job, chosen, errors, status=400 if errors else 200)

    def _mapping_view(
        request: Request,
        job: Job,
        chosen: mapping_mod.Mapping,
        errors: list[tuple[str, str]],
        status: int = 200,
        save_as: str = "",
    ) -> HTMLResponse:
        assert job.dataset is not None and job.export is not None
        dataset = get_dataset(job.dataset)
        export = job.export
        lower = {h.lower(): h for h in export.header}
        selected = {k: lower.get(v.lower(), "") for k, v in chosen.columns.items()}
        return render(
            request,
            "page_mapping.html",
            status=status,
            errors=errors,
            fields=mapping_mod.canonical_fields(dataset),
            headers=[(h, export.samples(i)) for i, h in enumerate(export.header)],
            selected=selected,
            date_order=chosen.date_order,
            profiles=mapping_mod.list_profiles(settings.profiles, dataset.name),
            profile_name=chosen.name,
            save_as=save_as,
            read_as=export.describe(),
            rows=export.rows,
        )

    @app.post("/mapping")
    async def mapping_post(request: Request) -> Response:
        session, form = await form_of(request)
        job = session.job
        if job.dataset is None or job.export is None or job.upload is None:
            return redirect("/upload")
        dataset = get_dataset(job.dataset)
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
                "sheet": job.sheet,
            },
        )
        errors = [
            (f"field-{name}", _sentence(problem))
            for name, problem in mapping_mod.problems(dataset, chosen, job.export.header)
        ]
        if save_as:
            try:
                mapping_mod.check_profile_name(save_as)
            except UserError as exc:
                errors.append(("save_as", _sentence(str(exc))))
        if errors:
            return _mapping_view(request, job, chosen, errors, status=400, save_as=save_as)
        if save_as:
            mapping_mod.save_profile(settings.profiles, chosen)
        job.forget_from_mapping()
        job.mapping = chosen
        shutil.rmtree(job.prepared, ignore_errors=True)
        try:
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
        except UserError as exc:
            message = str(exc).replace(str(job.upload), job.upload_name)
            return _mapping_view(
                request, job, chosen, [("mapping", _sentence(message))], status=400
            )
        return redirect("/report")

    # -- 4. report -------------------------------------------------------------------------

    @app.get("/report", response_class=HTMLResponse)
    def report_page(request: Request) -> Response:
        job = session_for(request)[0].job
        if job.result is None or job.result.report is None:
            return redirect("/mapping" if job.export else "/")
        job.report_seen = True
        return render(request, "page_report.html", report=job.result.report)

    @app.get("/files/{name}")
    def files(request: Request, name: str) -> Response:
        job = session_for(request)[0].job
        if name not in (QUARANTINE_FILE, REPORT_FILE) or job.result is None:
            return Response("Not found", status_code=404)
        path = job.prepared / name
        if not path.is_file():
            return Response("Not found", status_code=404)
        media = "text/csv" if name.endswith(".csv") else "text/html"
        return FileResponse(path, media_type=media, filename=name)

    # -- 5. encode -------------------------------------------------------------------------

    @app.get("/encode", response_class=HTMLResponse)
    def encode_page(request: Request) -> Response:
        job = session_for(request)[0].job
        if job.result is None:
            return redirect("/")
        return render(
            request,
            "page_encode.html",
            result=job.result,
            fingerprint=settings.key_fingerprint,
        )

    @app.post("/encode")
    async def encode_post(request: Request) -> Response:
        session, form = await form_of(request)
        job = session.job
        if job.result is None or job.dataset is None:
            return redirect("/")
        action = str(form.get("action") or "save")
        errors: list[tuple[str, str]] = []
        if action == "submit" and not state.hub.available():
            errors.append(("submit", NOT_AVAILABLE))
        elif job.result.accepted == 0:
            errors.append(("save", "No rows were accepted, so there is nothing to encode"))
        if errors:
            return render(
                request,
                "page_encode.html",
                status=400,
                errors=errors,
                result=job.result,
                fingerprint=settings.key_fingerprint,
            )
        if job.package is None:
            stamp = clock.now().strftime("%Y%m%dT%H%M%S")
            target = settings.workdir / "packages" / f"{job.dataset}-{job.organisation}-{stamp}"
            k = 2
            while target.exists():
                target = target.with_name(f"{job.dataset}-{job.organisation}-{stamp}-{k}")
                k += 1
            try:
                settings.write_package(job.prepared, target)
            except UserError as exc:
                return render(
                    request,
                    "page_encode.html",
                    status=400,
                    errors=[("save", _sentence(str(exc)))],
                    result=job.result,
                    fingerprint=settings.key_fingerprint,
                )
            job.package = target
        if action == "submit":
            try:
                receipt = state.hub.submit(job.package)
            except UserError as exc:
                return render(
                    request,
                    "page_encode.html",
                    status=400,
                    errors=[("submit", _sentence(str(exc)))],
                    result=job.result,
                    fingerprint=settings.key_fingerprint,
                )
            return render(request, "page_done.html", receipt=receipt)
        return redirect("/done")

    @app.get("/done", response_class=HTMLResponse)
    def done(request: Request) -> Response:
        job = session_for(request)[0].job
        if job.package is None:
            return redirect("/")
        return render(request, "page_done.html", receipt=None)

    # Outermost, so that it sees the body before anything reads it. The margin lets a
    # file of exactly the limit through with the form's other fields.
    app.add_middleware(LimitBody, limit=limit + 64 * 1024)
    return app


def _new_job(workdir: Path) -> Job:
    # The folder is made when something is first written to it, not for every visitor.
    folder = workdir / "jobs" / f"{clock.now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
    return Job(folder)


def _set_cookie(response: Response, sid: str) -> None:
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict", path="/")


def _size(n: int) -> str:
    return f"{n / 1024**2:.0f} MB" if n >= 1024**2 else f"{n / 1024:.0f} KB"


def _sentence(message: str) -> str:
    """A one-line CLI message as a sentence for the page."""
    text = message.strip()
    first = text.split(" ", 1)[0]
    if not text or any(ch in first for ch in ".:/_") or first.isupper():
        return text  # a file name, a code such as E08000025: keep it exactly
    return text[:1].upper() + text[1:]


async def _save_upload(upload: UploadFile, folder: Path, stem: str) -> Path:
    suffix = Path(_SAFE_NAME.sub("_", upload.filename or "")).suffix.lower()[:10]
    path = folder / f"{stem}{suffix}"
    with path.open("wb") as fh:
        while chunk := await upload.read(1024**2):
            fh.write(chunk)
    return path


def _relocate(export: Export, path: Path) -> Export:
    """The same export, pointing at where its file now lives."""
    files = tuple(path.parent / p.name for p in export.files)
    return replace(export, path=path, files=files)


def _load_export(job: Job) -> None:
    assert job.upload is not None
    export = read_export(job.upload, ReadOptions(sheet=job.sheet), personal=job.personal)
    job.forget_from_export()
    job.export = export


def _first_mapping(dataset: Any, export: Export) -> mapping_mod.Mapping:
    """The body's own layout when the export has it, else a suggestion from the headers."""
    builtin = mapping_mod.builtin_mapping(dataset)
    lower = {h.lower() for h in export.header}
    present = {k: v for k, v in builtin.columns.items() if v.lower() in lower}
    if not mapping_mod.problems(dataset, mapping_mod.Mapping(dataset.name, present), export.header):
        return mapping_mod.Mapping(dataset.name, present, mapping_mod.BUILTIN)
    return mapping_mod.suggested_mapping(dataset, export.header)


@dataclass(frozen=True)
class Task:
    name: str
    href: str | None
    status: str  # "Completed", "Not yet started", "Cannot start yet"
    hint: str = ""


def _tasks(job: Job) -> list[Task]:
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
