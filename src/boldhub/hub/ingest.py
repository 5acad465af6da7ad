"""Accept a submission package into the hub: verify it, store it, record it. All or nothing.

The hub keeps exactly the bytes it verified. A package folder is first copied into a
private staging folder under the hub's home (an upload already is one), so that nothing
can change it between the checks and the storing; it is verified completely against the
agreement its manifest names (signature by the organisation's registered key, encoding
parameters, key fingerprint, hashes, counts, schema, record keys); its four files are then
moved, never rewritten, to temporary names in their separate stores; in one database
transaction the submission is added, an earlier one for the same source and period
superseded, and the audit entry appended; only then do the files take their final names.
Any failure removes whatever was written. ``verify_store`` checks later that every stored
file is still the one its signed manifest names.
"""

from __future__ import annotations

import errno
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boldhub import clock
from boldhub.errors import UserError
from boldhub.hub import audit, organisations
from boldhub.hub.agreements import admit_contents, expectations
from boldhub.hub.store import (
    ATTRIBUTES_DIR,
    ENCODINGS_DIR,
    MANIFESTS_DIR,
    Hub,
    disk_space,
    staging_dir,
)
from boldhub.hub.store.models import Submission
from boldhub.privacy.package import (
    ATTRIBUTES_FILE,
    ENCODINGS_FILE,
    MANIFEST_FILE,
    PACKAGE_FILES,
    SIGNATURE_FILE,
    load_manifest,
    verify_package,
)


def stored_files(hub: Hub, submission_id: str) -> dict[str, Path]:
    """Where the hub keeps each file of a submission's package, by its name there."""
    return {
        ENCODINGS_FILE: hub.path(ENCODINGS_DIR, f"{submission_id}.parquet"),
        ATTRIBUTES_FILE: hub.path(ATTRIBUTES_DIR, f"{submission_id}.parquet"),
        MANIFEST_FILE: hub.path(MANIFESTS_DIR, f"{submission_id}.json"),
        SIGNATURE_FILE: hub.path(MANIFESTS_DIR, f"{submission_id}.sig"),
    }


@dataclass(frozen=True)
class IngestResult:
    submission_id: str
    source: str
    records: int
    created: bool
    superseded: str | None


def ingest(hub: Hub, package: Path, actor: str = "cli", *, private: bool = False) -> IngestResult:
    """Ingest the package folder ``package``. ``private``: the folder is the hub's own
    staging folder (an upload), used as it is and emptied; otherwise it is copied first,
    and left as it was. A disk that fills on the way stops it as DiskFull, nothing kept."""
    if private:
        with disk_space("the package"):
            return _ingest(hub, package, actor)
    if not package.is_dir():
        load_manifest(package)  # says what the path is instead (missing, a file)
    staged = staging_dir(hub, "ingest-")
    try:
        with disk_space("the package"):
            for name in PACKAGE_FILES:
                if (package / name).is_file():
                    shutil.copyfile(package / name, staged / name)
            return _ingest(hub, staged, actor)
    except UserError as exc:
        # The sender knows their folder, not the hub's staging folder.
        exc.args = (str(exc).replace(str(staged), str(package)), *exc.args[1:])
        raise
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _move(src: Path, dst: Path) -> None:
    """Rename; a store on another volume gets a byte-for-byte copy instead."""
    try:
        src.replace(dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.copyfile(src, dst)


def _ingest(hub: Hub, package: Path, actor: str) -> IngestResult:
    with hub.sessions() as session:
        bodies = organisations.registered(session)
    pkg = verify_package(package, expectations(hub), bodies)
    admit_contents(hub, pkg)
    m = pkg.manifest
    stored = _already_stored(hub, pkg.manifest_sha256)
    if stored is not None:
        return stored

    sub_id = secrets.token_hex(8)
    finals = stored_files(hub, sub_id)
    temps = {k: p.with_name(p.name + ".partial") for k, p in finals.items()}
    try:
        # The verified files themselves: the stored bytes are the signed bytes.
        for name, temp in temps.items():
            _move(package / name, temp)
        superseded: str | None = None
        with hub.sessions() as session, session.begin():
            earlier = session.execute(
                select(Submission).where(
                    Submission.source == pkg.source,
                    Submission.period == m.period,
                    Submission.status == "current",
                )
            ).scalar_one_or_none()
            session.add(
                Submission(
                    id=sub_id,
                    source=pkg.source,
                    dataset=m.dataset,
                    organisation=m.organisation,
                    period=m.period,
                    record_count=m.record_count,
                    manifest_sha256=pkg.manifest_sha256,
                    key_fingerprint=m.key_fingerprint,
                    status="current",
                    received_at=clock.now(),
                    manifest=m.to_stored(),
                )
            )
            # The pages name organisations from their rows: a council's first package
            # gives it one.
            organisations.ensure_row(session, m.organisation)
            session.flush()
            if earlier is not None:
                earlier.status = "superseded"
                earlier.superseded_by = sub_id
                superseded = earlier.id
            audit.append(
                session,
                actor=actor,
                action="submission.accepted",
                subject=sub_id,
                organisation=m.organisation,
                details={
                    "source": pkg.source,
                    "records": m.record_count,
                    "period": m.period,
                    "manifest_sha256": pkg.manifest_sha256,
                    "agreement_id": m.agreement_id,
                    "signing_key_id": m.signing_key_id,
                    "supersedes": superseded,
                },
            )
            for k in finals:
                temps[k].replace(finals[k])
    except BaseException as exc:
        for p in (*temps.values(), *finals.values()):
            p.unlink(missing_ok=True)
        # The same package, sent again while this one was being stored (two uploads at
        # once): the other one was recorded first, and this is a repeat of it.
        if isinstance(exc, IntegrityError):
            stored = _already_stored(hub, pkg.manifest_sha256)
            if stored is not None:
                return stored
        raise
    return IngestResult(sub_id, pkg.source, m.record_count, True, superseded)


def _already_stored(hub: Hub, manifest_sha256: str) -> IngestResult | None:
    """The submission this package already is, if it was received before."""
    with hub.sessions() as session:
        existing = session.execute(
            select(Submission).where(Submission.manifest_sha256 == manifest_sha256)
        ).scalar_one_or_none()
        if existing is None:
            return None
        return IngestResult(existing.id, existing.source, existing.record_count, False, None)


def current_submissions(hub: Hub) -> list[Submission]:
    with hub.sessions() as session:
        return list(
            session.execute(
                select(Submission).where(Submission.status == "current").order_by(Submission.source)
            ).scalars()
        )
