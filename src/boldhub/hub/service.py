"""What the API and the pages both need: visible submissions, their status and quality,
linkage runs (one at a time, in the background) and released reports."""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select

from boldhub import clock
from boldhub.errors import UserError
from boldhub.hub.access import allowed
from boldhub.hub.accounts import Principal
from boldhub.hub.analysis import add_match_rates
from boldhub.hub.linking import run_linkage, runs
from boldhub.hub.releases import draft_release, latest_approved
from boldhub.hub.store import ENCODINGS_DIR, Hub
from boldhub.hub.store.models import AuditEvent, Organisation, Submission
from boldhub.hub.store.trust import Agreement, AgreementParty
from boldhub.linkage.run import LinkOptions

log = logging.getLogger("boldhub.hub")
# Completeness is reported for these encodings: the share of records that carry them.
QUALITY_FIELDS = {
    "dob_tok": "date of birth",
    "pc_tok": "postcode",
    "sn_init_tok": "surname",
    "nhs_tok": "NHS number",
}


@dataclass(frozen=True)
class SubmissionView:
    id: str
    source: str
    dataset: str
    organisation: str
    period: str
    records: int
    status: str
    received_at: datetime
    linked_in: str | None
    quality: dict[str, float]

    @property
    def state(self) -> str:
        if self.status == "superseded":
            return "superseded"
        return f"linked in run {self.linked_in}" if self.linked_in else "accepted, awaiting linkage"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "dataset": self.dataset,
            "organisation": self.organisation,
            "period": self.period,
            "records": self.records,
            "status": self.status,
            "state": self.state,
            "received_at": self.received_at.isoformat(),
            "linked_in": self.linked_in,
            "quality": self.quality,
        }


def quality(hub: Hub, submission_id: str) -> dict[str, float]:
    """Share of records carrying each key encoding: data quality without seeing any value."""
    return dict(_quality_of(str(hub.path(ENCODINGS_DIR, f"{submission_id}.parquet"))))


# A submission's encodings never change once stored, so their figures are cached by file;
# bounded, because a long-running service sees submissions without end.
@functools.lru_cache(maxsize=1024)
def _quality_of(path: str) -> tuple[tuple[str, float], ...]:
    table = pq.read_table(path, columns=list(QUALITY_FIELDS))
    n = max(table.num_rows, 1)
    return tuple(
        (label, round(100.0 * (n - table.column(col).null_count) / n, 1))
        for col, label in QUALITY_FIELDS.items()
    )


def submissions_for(
    hub: Hub, p: Principal, organisation: str | None = None
) -> list[SubmissionView]:
    done = runs(hub)
    with hub.sessions() as s:
        q = select(Submission).order_by(Submission.received_at.desc())
        if organisation is not None:
            q = q.where(Submission.organisation == organisation)
        subs = list(s.execute(q).scalars())
    out = []
    for sub in subs:
        if not allowed(p, "submission.read", sub.organisation):
            continue
        linked = next((r.id for r in done if sub.id in r.submissions), None)
        out.append(
            SubmissionView(
                sub.id,
                sub.source,
                sub.dataset,
                sub.organisation,
                sub.period,
                sub.record_count,
                sub.status,
                sub.received_at,
                linked,
                quality(hub, sub.id),
            )
        )
    return out


def agreements(hub: Hub) -> list[dict[str, Any]]:
    """Registered agreements for the overview: id, title, parties, key fingerprint."""
    with hub.sessions() as s:
        rows = list(s.execute(select(Agreement).order_by(Agreement.id)).scalars())
        parties = list(s.execute(select(AgreementParty)).scalars())
    return [
        {
            "id": a.id,
            "title": str(a.document.get("title") or a.id),
            "parties": sorted(p.organisation for p in parties if p.agreement_id == a.id),
            "key_fingerprint": a.key_fingerprint,
            "registered_at": a.registered_at,
            "key_rotated_at": a.key_rotated_at,
        }
        for a in rows
    ]


def organisations(hub: Hub) -> list[Organisation]:
    with hub.sessions() as s:
        return list(
            s.execute(select(Organisation).order_by(Organisation.kind, Organisation.code)).scalars()
        )


def participation(hub: Hub) -> list[dict[str, Any]]:
    """Per organisation with a current submission: sources, records, latest receipt.

    Counts of submissions per organisation are not sensitive: the status page shows every
    participant where the initiative stands.
    """
    with hub.sessions() as s:
        subs = list(s.execute(select(Submission).where(Submission.status == "current")).scalars())
        names = {o.code: o.name for o in s.execute(select(Organisation)).scalars()}
    done = runs(hub)
    rows: dict[str, dict[str, Any]] = {}
    for sub in subs:
        row = rows.setdefault(
            sub.organisation,
            {
                "organisation": sub.organisation,
                "name": names.get(sub.organisation, sub.organisation),
                "sources": [],
                "latest": sub.received_at,
                "linked": True,
            },
        )
        row["sources"].append(sub.dataset)
        row["latest"] = max(row["latest"], sub.received_at)
        row["linked"] = row["linked"] and any(sub.id in r.submissions for r in done)
    return sorted(rows.values(), key=lambda r: str(r["organisation"]))


class LinkageJobs:
    """At most one linkage run at a time per hub, in a background thread, run with the
    options the service was configured with."""

    def __init__(self, options: LinkOptions) -> None:
        self.options = options
        self._lock = threading.Lock()
        self.running_since: datetime | None = None
        self.last_error: str | None = None

    def start(self, hub: Hub, actor: str, agreement: str | None = None) -> None:
        """Start linking ``agreement``'s submissions (left out: the one agreement every
        current submission comes under)."""
        if not self._lock.acquire(blocking=False):
            raise UserError("a linkage run is already in progress; wait for it to finish")
        self.running_since = clock.now()
        self.last_error = None
        thread = threading.Thread(target=self._run, args=(hub, actor, agreement), daemon=True)
        thread.start()

    def _run(self, hub: Hub, actor: str, agreement: str | None) -> None:
        try:
            run_id, _ = run_linkage(hub, actor=actor, options=self.options, agreement=agreement)
            add_match_rates(hub, run_id)
            draft_release(hub, actor=actor, run_id=run_id)
        except UserError as exc:
            self.last_error = str(exc)
        except Exception as exc:  # a bug: keep the hub up and say so on the runs page
            self.last_error = f"internal error ({exc.__class__.__name__}); see the hub's log"
            log.exception("linkage run failed", extra={"error": exc.__class__.__name__})
        finally:
            self.running_since = None
            self._lock.release()

    def wait(self, timeout: float = 600) -> None:
        """Block until no run is in progress (tests and the CLI)."""
        if self._lock.acquire(timeout=timeout):
            self._lock.release()


def latest_reports(hub: Hub) -> tuple[str, Path] | None:
    """The release every party sees: the newest one two output checkers approved."""
    return latest_approved(hub)


def visible_reports(hub: Hub, p: Principal) -> list[str]:
    found = latest_reports(hub)
    if found is None:
        return []
    _, folder = found
    areas = sorted(f.stem for f in folder.glob("*.html") if f.stem != "index")
    return [a for a in areas if allowed(p, "report.read", a)]


def report_html(hub: Hub, area: str) -> str | None:
    found = latest_reports(hub)
    if found is None:
        return None
    path = found[1] / f"{area}.html"
    if area == "index" or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def audit_trail(hub: Hub, p: Principal, organisation: str) -> list[AuditEvent]:
    with hub.sessions() as s:
        q = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(500)
        if organisation != "*":
            q = q.where(AuditEvent.organisation == organisation)
        return list(s.execute(q).scalars())
