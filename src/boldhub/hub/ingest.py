"""Accept a submission package into the hub: verify it, store it, record it. All or nothing.

Steps: verify the package completely (manifest, hashes, counts, schema, record keys);
check the key fingerprint against the hub's; write the two data files to temporary names
in their separate stores; in one database transaction add the submission, supersede an
earlier one for the same source and period, and append the audit entry; only then move the
files to their final names. Any failure removes whatever was written.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select

from boldhub import clock
from boldhub.errors import PackageError
from boldhub.hub import audit
from boldhub.hub.store import ATTRIBUTES_DIR, ENCODINGS_DIR, MANIFESTS_DIR, Hub
from boldhub.hub.store.models import HubState, Submission
from boldhub.privacy.package import verify_package


@dataclass(frozen=True)
class IngestResult:
    submission_id: str
    source: str
    records: int
    created: bool
    superseded: str | None


def ingest(hub: Hub, package: Path, actor: str = "cli") -> IngestResult:
    pkg = verify_package(package)
    m = pkg.manifest
    with hub.sessions() as session:
        existing = session.execute(
            select(Submission).where(Submission.manifest_sha256 == pkg.manifest_sha256)
        ).scalar_one_or_none()
        if existing is not None:
            return IngestResult(existing.id, existing.source, existing.record_count, False, None)
        fp_state = session.get(HubState, "key_fingerprint")
        if fp_state is not None and fp_state.value != m["key_fingerprint"]:
            raise PackageError(
                "key check failed: the package was encoded with a different linkage key "
                f"(fingerprint {m['key_fingerprint'][:8]}..., the hub's parties use "
                f"{fp_state.value[:8]}...); encode again with the agreement's key"
            )

    sub_id = secrets.token_hex(8)
    finals = {
        "enc": hub.path(ENCODINGS_DIR, f"{sub_id}.parquet"),
        "attr": hub.path(ATTRIBUTES_DIR, f"{sub_id}.parquet"),
        "manifest": hub.path(MANIFESTS_DIR, f"{sub_id}.json"),
    }
    temps = {k: p.with_name(p.name + ".partial") for k, p in finals.items()}
    try:
        pq.write_table(pkg.encodings, temps["enc"], compression="zstd")
        pq.write_table(pkg.attributes, temps["attr"], compression="zstd")
        temps["manifest"].write_bytes((package / "manifest.json").read_bytes())
        superseded: str | None = None
        with hub.sessions() as session, session.begin():
            if session.get(HubState, "key_fingerprint") is None:
                session.add(HubState(name="key_fingerprint", value=m["key_fingerprint"]))
            earlier = session.execute(
                select(Submission).where(
                    Submission.source == pkg.source,
                    Submission.period == m["period"],
                    Submission.status == "current",
                )
            ).scalar_one_or_none()
            session.add(
                Submission(
                    id=sub_id,
                    source=pkg.source,
                    dataset=m["dataset"],
                    organisation=m["organisation"],
                    period=m["period"],
                    record_count=m["record_count"],
                    manifest_sha256=pkg.manifest_sha256,
                    key_fingerprint=m["key_fingerprint"],
                    status="current",
                    received_at=clock.now(),
                    manifest=m,
                )
            )
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
                organisation=m["organisation"],
                details={
                    "source": pkg.source,
                    "records": m["record_count"],
                    "period": m["period"],
                    "manifest_sha256": pkg.manifest_sha256,
                    "supersedes": superseded,
                },
            )
            for k in finals:
                temps[k].replace(finals[k])
    except BaseException:
        for p in (*temps.values(), *finals.values()):
            p.unlink(missing_ok=True)
        raise
    return IngestResult(sub_id, pkg.source, int(m["record_count"]), True, superseded)


def current_submissions(hub: Hub) -> list[Submission]:
    with hub.sessions() as session:
        return list(
            session.execute(
                select(Submission).where(Submission.status == "current").order_by(Submission.source)
            ).scalars()
        )
