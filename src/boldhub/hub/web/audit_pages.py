"""The audit trail a DPO reads: names and plain words, the chain's check, filters, and a
CSV export of what the filters show."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from boldhub.hub.access import require
from boldhub.hub.api.deps import HubDep, MaybeUser
from boldhub.hub.service import organisations
from boldhub.hub.store import Hub
from boldhub.hub.store.models import AuditEvent
from boldhub.hub.web.queries import (
    AUDIT_EXPORT_LIMIT,
    AUDIT_PAGE_LIMIT,
    AuditFilter,
    audit_actions,
    audit_entries,
    chain_check,
    people_names,
)
from boldhub.hub.web.render import render, to_sign_in
from boldhub.hub.web.wording import action_words
from boldhub.safecsv import escape_cell

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Row:
    seq: int
    at: str
    who: str
    what: str
    subject: str
    subject_link: str


def _day(text: str) -> tuple[date | None, str]:
    """A date from the filter form; an error message when it is not one."""
    if not text:
        return None, ""
    try:
        return date.fromisoformat(text), ""
    except ValueError:
        return None, "Enter a real date, for example 2026-03-31"


def _rows(hub: Hub, events: list[AuditEvent]) -> list[Row]:
    subjects = [e.subject for e in events if e.subject.startswith("user:")]
    names = people_names(hub, [e.actor for e in events] + subjects)
    rows = []
    for e in events:
        subject, link = e.subject, ""
        if e.subject.startswith("user:"):
            subject = names[e.subject]
        elif e.action == "submission.accepted":
            subject, link = f"Submission {e.subject}", f"/submissions/{e.subject}"
        rows.append(
            Row(
                e.seq,
                e.at[:16].replace("T", " "),
                names[e.actor],
                action_words(e.action),
                subject,
                link,
            )
        )
    return rows


def _wanted(action: str, since: str, until: str) -> tuple[AuditFilter, list[tuple[str, str]]]:
    since_day, since_error = _day(since)
    until_day, until_error = _day(until)
    errors = [(f, m) for f, m in (("since", since_error), ("until", until_error)) if m]
    return AuditFilter(action, since_day, until_day), errors


@router.get("/audit")
def audit_page(
    request: Request,
    hub: HubDep,
    user: MaybeUser,
    action: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    if user is None:
        return to_sign_in(request)
    require(user, "audit.read", user.organisation)
    wanted, errors = _wanted(action, since, until)
    events = audit_entries(hub, user.organisation, wanted)
    form = {"action": action, "since": since, "until": until}
    return render(
        request,
        "audit.html",
        user,
        400 if errors else 200,
        rows=_rows(hub, events),
        limited=len(events) >= AUDIT_PAGE_LIMIT,
        limit=AUDIT_PAGE_LIMIT,
        actions=[(a, action_words(a)) for a in audit_actions(hub, user.organisation)],
        chain=chain_check(hub),
        organisation=next(
            (o.name for o in organisations(hub) if o.code == user.organisation), user.organisation
        ),
        form=form,
        query=urlencode({k: v for k, v in form.items() if v}),
        errors=errors,
    )


@router.get("/audit.csv")
def audit_export(
    request: Request,
    hub: HubDep,
    user: MaybeUser,
    action: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    if user is None:
        return to_sign_in(request)
    require(user, "audit.read", user.organisation)
    wanted, _ = _wanted(action, since, until)
    rows = _rows(hub, audit_entries(hub, user.organisation, wanted, AUDIT_EXPORT_LIMIT))
    out = io.StringIO()
    writer = csv.writer(out)
    # Names and subjects are typed by people: safecsv keeps a spreadsheet from running them.
    writer.writerow(["entry", "when (UTC)", "who", "what", "subject"])
    for r in rows:
        writer.writerow([escape_cell(v) for v in (r.seq, r.at, r.who, r.what, r.subject)])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-trail.csv"'},
    )
