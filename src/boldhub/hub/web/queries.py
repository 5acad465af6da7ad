"""Read-only queries the pages need and the service does not give: one submission in
full, overlapping periods, people's names, and the audit trail filtered for a DPO.

Kept here rather than in hub.service so that the pages can ask for more without the API
changing; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from boldhub.hub import audit
from boldhub.hub.store import Hub
from boldhub.hub.store.models import AuditEvent, LinkageRun, Submission, User

AUDIT_PAGE_LIMIT = 500
AUDIT_EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class SubmissionDetail:
    submission: Submission
    sent_by: str
    replaced: Submission | None
    replaced_by: Submission | None
    run: LinkageRun | None


def submission(hub: Hub, submission_id: str) -> Submission | None:
    with hub.sessions() as s:
        return s.get(Submission, submission_id)


def submission_detail(hub: Hub, sub: Submission) -> SubmissionDetail:
    """Who sent ``sub`` (from its audit entry), what it replaced and which run linked it."""
    with hub.sessions() as s:
        entry = s.execute(
            select(AuditEvent).where(
                AuditEvent.action == "submission.accepted", AuditEvent.subject == sub.id
            )
        ).scalar_one_or_none()
        replaced = s.execute(
            select(Submission).where(Submission.superseded_by == sub.id)
        ).scalar_one_or_none()
        replaced_by = s.get(Submission, sub.superseded_by) if sub.superseded_by else None
        runs = s.execute(
            select(LinkageRun)
            .where(LinkageRun.state == "done")
            .order_by(LinkageRun.finished_at.desc())
        ).scalars()
        run = next((r for r in runs if sub.id in r.submissions), None)
    sent_by = people_names(hub, [entry.actor]).get(entry.actor, "") if entry else ""
    return SubmissionDetail(sub, sent_by or "not recorded", replaced, replaced_by, run)


def period_bounds(period: str) -> tuple[date, date] | None:
    """A package's period ("2019-04-01/2020-03-31"); None when it holds no dated event."""
    first, sep, last = period.partition("/")
    if not sep:
        return None
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        return None


def overlapping(subs: Iterable[Any]) -> list[tuple[Any, Any]]:
    """Pairs of current submissions of one source whose periods overlap.

    Ingest supersedes only an identical period, so 2019-2020 beside 2019-2025 are both
    current and both linked: the people in the overlap would count twice.
    """
    current = [s for s in subs if s.status == "current" and period_bounds(s.period)]
    pairs = []
    for i, a in enumerate(current):
        for b in current[i + 1 :]:
            if a.source != b.source:
                continue
            a_from, a_to = period_bounds(a.period) or (date.max, date.min)
            b_from, b_to = period_bounds(b.period) or (date.max, date.min)
            if a_from <= b_to and b_from <= a_to:
                pairs.append((a, b))
    return pairs


def people_names(hub: Hub, actors: Iterable[str]) -> dict[str, str]:
    """Audit actors ("user:3", "cli") to what a person reads: a name, or who acted."""
    ids = {int(a[5:]) for a in actors if a.startswith("user:") and a[5:].isdigit()}
    names: dict[str, str] = {}
    if ids:
        with hub.sessions() as s:
            users = s.execute(select(User).where(User.id.in_(ids))).scalars()
            names = {f"user:{u.id}": u.name for u in users}
    out = {}
    for actor in actors:
        if actor in names:
            out[actor] = names[actor]
        elif actor.startswith("user:"):
            out[actor] = "An account that no longer exists"
        elif actor.startswith("cli"):
            out[actor] = "The hub's operators (command line)"
        else:
            out[actor] = "The hub (automatic)"
    return out


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    since: date | None = None
    until: date | None = None


def audit_entries(
    hub: Hub, organisation: str, wanted: AuditFilter, limit: int = AUDIT_PAGE_LIMIT
) -> list[AuditEvent]:
    """An organisation's audit entries, newest first, narrowed by action and date."""
    q = select(AuditEvent).where(AuditEvent.organisation == organisation)
    if wanted.action:
        q = q.where(AuditEvent.action == wanted.action)
    # Timestamps are ISO 8601 text in UTC, so text order is time order.
    if wanted.since is not None:
        q = q.where(AuditEvent.at >= wanted.since.isoformat())
    if wanted.until is not None:
        q = q.where(AuditEvent.at < _day_after(wanted.until))
    with hub.sessions() as s:
        return list(s.execute(q.order_by(AuditEvent.seq.desc()).limit(limit)).scalars())


def _day_after(day: date) -> str:
    return date.fromordinal(day.toordinal() + 1).isoformat()


def audit_actions(hub: Hub, organisation: str) -> list[str]:
    with hub.sessions() as s:
        q = select(AuditEvent.action).where(AuditEvent.organisation == organisation).distinct()
        return sorted(s.execute(q).scalars())


def chain_check(hub: Hub) -> audit.VerifyResult:
    with hub.sessions() as s:
        return audit.verify(s)
