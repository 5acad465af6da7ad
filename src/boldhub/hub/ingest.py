"""Accept a submission package into the hub: verify it, store it, record it. All or nothing.

Steps: verify the package completely against the agreement its manifest names (signature
by the organisation's registered key, encoding parameters, key fingerprint, hashes,
counts, schema, record keys); write the data files to temporary names in their separate
stores; in one database transaction add the submission, supersede an earlier one for the
same source and period, and append the audit entry; only then move the files to their
final names. Any failure removes whatever was written, and nothing is written before the
package has passed every check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boldhub import clock
from boldhub.hub import audit, organisations
from boldhub.hub.agreements import admit_contents, expectations
from boldhub.hub.store import ATTRIBUTES_DIR, ENCODINGS_DIR, MANIFESTS_DIR, Hub
from boldhub.hub.store.models import Submission
from boldhub.privacy.package import verify_package, write_encodings


@dataclass(frozen=True)
class IngestResult:
    submission_id: str
    source: str
    records: int
    created: bool
    superseded: str | None


def ingest(hub: Hub, package: Path, actor: str = "cli") -> IngestResult:
    with hub.sessions() as session:
        bodies = organisations.registered(session)
    pkg = verify_package(package, expectations(hub), bodies)
    admit_contents(hub, pkg)
    m = pkg.manifest
    stored = _already_stored(hub, pkg.manifest_sha256)
    if stored is not None:
        return stored

    sub_id = secrets.token_hex(8)
    finals = {
        "enc": hub.path(ENCODINGS_DIR, f"{sub_id}.parquet"),
        "attr": hub.path(ATTRIBUTES_DIR, f"{sub_id}.parquet"),
        "manifest": hub.path(MANIFESTS_DIR, f"{sub_id}.json"),
        "signature": hub.path(MANIFESTS_DIR, f"{sub_id}.sig"),
    }
    temps = {k: p.with_name(p.name + ".partial") for k, p in finals.items()}
    try:
        write_encodings(pkg.encodings, temps["enc"])
        pq.write_table(pkg.attributes, temps["attr"], compression="zstd")
        # Exactly the bytes that were verified, not a second read of the package folder.
        temps["manifest"].write_bytes(pkg.manifest_bytes)
        temps["signature"].write_text(pkg.signature, encoding="ascii")
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
