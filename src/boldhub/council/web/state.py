"""What the council page keeps between requests: its settings, sessions and their jobs.

One :class:`CouncilState` lives on ``app.state.council``. Each browser session has one
:class:`Job`, a folder under ``WORKDIR/jobs/`` holding the upload and the prepared folder.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from jinja2 import Environment

from boldhub import clock
from boldhub.council import mapping as mapping_mod
from boldhub.council.export import Export, ReadOptions
from boldhub.council.prepare import PrepareResult
from boldhub.council.read import read_export
from boldhub.council.submit import HubClient

DEFAULT_MAX_UPLOAD = 512 * 1024**2


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
    # The organisations the page can sign for: the agreement's parties that registered its
    # signing key (see council.encode.signing_organisations). Empty: not known, offer all.
    organisations: tuple[str, ...] = ()

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

    def reload_export(self) -> None:
        """Read the kept upload again (another sheet, or another dataset's mapping to come)."""
        assert self.upload is not None
        export = read_export(self.upload, ReadOptions(sheet=self.sheet), personal=self.personal)
        self.forget_from_export()
        self.export = export


def new_job(workdir: Path) -> Job:
    # The folder is made when something is first written to it, not for every visitor.
    folder = workdir / "jobs" / f"{clock.now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
    return Job(folder)


@dataclass
class Session:
    csrf: str
    job: Job


@dataclass
class CouncilState:
    """The app's shared state: one per app, on ``app.state.council``."""

    settings: CouncilSettings
    hub: HubClient
    env: Environment
    sessions: dict[str, Session] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def session_for(self, sid: str) -> tuple[Session, str | None]:
        """The session with this id; a new one (and its id, for the cookie) when there is none."""
        with self.lock:
            found = self.sessions.get(sid)
            if found is not None:
                return found, None
            sid = secrets.token_urlsafe(32)
            found = Session(secrets.token_urlsafe(32), new_job(self.settings.workdir))
            self.sessions[sid] = found
            return found, sid

    def restart(self, session: Session) -> None:
        with self.lock:
            session.job = new_job(self.settings.workdir)
