"""'What you would get back': a public page where a council that has not joined sees a
sample release built from synthetic data under its own name (``boldhub.sample``).

The synthetic run behind every sample is built once per hub, in a background thread on
the first visit (a minute or two), into ``HOME/samples/base/``; each council's sample is
then drawn from it in seconds and kept in ``HOME/samples/<code>/``. Nothing real is read.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from markupsafe import Markup

from boldhub.errors import UserError
from boldhub.hub.api.deps import HubDep, MaybeUser, SettingsDep
from boldhub.hub.store import Hub
from boldhub.hub.web.release_pages import with_csp
from boldhub.hub.web.render import render, report_content
from boldhub.sample import build_base, check_council, sample_for
from boldhub.schemas.organisations import local_authorities

router = APIRouter(include_in_schema=False)
log = logging.getLogger("boldhub.hub")
SAMPLES_DIR = "samples"


class _Builds:
    """The one background build of the synthetic base, per hub home."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: set[Path] = set()
        self.failed: dict[Path, str] = {}

    def base(self, hub: Hub, persons: int) -> Path | None:
        """The base's folder once built; otherwise start building it (once) and say None."""
        folder = hub.path(SAMPLES_DIR, "base")
        if (folder / "national.csv").is_file():
            return folder
        with self.lock:
            if folder not in self.running and folder not in self.failed:
                self.running.add(folder)
                threading.Thread(target=self._build, args=(folder, persons), daemon=True).start()
        return None

    def _build(self, folder: Path, persons: int) -> None:
        tmp = folder.with_name(".base.partial")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            build_base(tmp, persons=persons)
            tmp.rename(folder)
        except Exception as exc:  # a bug: the page says so instead of waiting for ever
            self.failed[folder] = exc.__class__.__name__
            log.exception("sample build failed", extra={"error": exc.__class__.__name__})
            shutil.rmtree(tmp, ignore_errors=True)
        finally:
            with self.lock:
                self.running.discard(folder)


BUILDS = _Builds()


@router.get("/get-back")
def get_back_page(request: Request, user: MaybeUser, council: str | None = None) -> Response:
    if council:
        try:
            check_council(council)
        except UserError as exc:
            return render(
                request,
                "get_back.html",
                user,
                400,
                councils=_councils(),
                errors=[("council", str(exc))],
            )
        return RedirectResponse(f"/get-back/{council.strip().upper()}", status_code=303)
    return render(request, "get_back.html", user, councils=_councils())


@router.get("/get-back/{code}")
def sample_page(
    request: Request, code: str, hub: HubDep, user: MaybeUser, settings: SettingsDep
) -> Response:
    try:
        name = check_council(code)
    except UserError:
        return render(request, "not_found.html", user, 404, what=f"a council {code}")
    base = BUILDS.base(hub, settings.sample_persons)
    if base is None:
        failed = BUILDS.failed.get(hub.path(SAMPLES_DIR, "base"))
        return render(
            request, "get_back_wait.html", user, 503 if failed else 202, name=name, failed=failed
        )
    folder = hub.path(SAMPLES_DIR, code)
    if not (folder / f"{code}.html").is_file():
        tmp = hub.path(SAMPLES_DIR, f".{code}.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        sample_for(base, code, tmp)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    title, body = report_content((folder / f"{code}.html").read_text(encoding="utf-8"))
    # The sample's files stay on the hub: its download section points at them here.
    for f in sorted(folder.glob("*.csv")):
        body = Markup(  # noqa: S704 (the sample's own page)
            str(body).replace(f'href="{f.name}"', f'href="/get-back/{code}/files/{f.name}"')
        )
    return with_csp(render(request, "report.html", user, title=title, body=body, sample=name))


@router.get("/get-back/{code}/files/{name}")
def sample_file(request: Request, code: str, name: str, hub: HubDep, user: MaybeUser) -> Response:
    folder = hub.path(SAMPLES_DIR, code)
    allowed = {f.name for f in folder.glob("*.csv")} if folder.is_dir() else set()
    if code not in local_authorities() or name not in allowed:
        return render(request, "not_found.html", user, 404, what=f"a file {name}")
    return FileResponse(folder / name, media_type="text/csv; charset=utf-8", filename=name)


def _councils() -> list[tuple[str, str]]:
    return sorted(((c, o.name) for c, o in local_authorities().items()), key=lambda x: x[1])
