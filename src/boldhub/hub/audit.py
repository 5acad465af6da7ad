"""The hash-chained audit log: every state change at the hub is appended here.

Each entry's hash covers its own content and the previous entry's hash, so editing,
inserting, deleting or reordering any entry breaks the chain from that point on, and
``verify`` names the first entry that no longer fits. Details must never hold an
identifier in clear: callers pass codes, counts and ids only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boldhub import clock
from boldhub.hub.store.models import AuditEvent, HubState

GENESIS = "0" * 64


def _digest(e: AuditEvent) -> str:
    body = json.dumps(
        [e.seq, e.at, e.actor, e.action, e.subject, e.organisation, e.details, e.prev_hash],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    organisation: str | None = None,
) -> AuditEvent:
    """Append one entry inside the caller's transaction, so it commits with the change.

    ``organisation`` is the organisation whose trail the entry belongs to (its DPO can
    read it); None for hub-wide events such as a linkage run.
    """
    # Appends are serialised by locking the head row (PostgreSQL) or the database
    # (SQLite takes a write lock for the transaction), so two uploads at once cannot
    # both claim the same sequence number.
    head = session.execute(
        select(HubState).where(HubState.name == "audit_head").with_for_update()
    ).scalar_one_or_none()
    last = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one_or_none()
    seq = (last.seq + 1) if last else 1
    entry = AuditEvent(
        seq=seq,
        at=clock.now().isoformat(),
        actor=actor,
        action=action,
        subject=subject,
        organisation=organisation,
        details=details,
        prev_hash=last.hash if last else GENESIS,
        hash="",
    )
    entry.hash = _digest(entry)
    session.add(entry)
    # The head is kept apart from the chain so that removing the newest entries (which
    # leaves a valid shorter chain) is still detected.
    if head is None:
        session.add(HubState(name="audit_head", value=f"{seq}:{entry.hash}"))
    else:
        head.value = f"{seq}:{entry.hash}"
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    problem: str | None = None


def verify(session: Session) -> VerifyResult:
    prev = GENESIS
    expected_seq = 1
    count = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    for e in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        if e.seq != expected_seq:
            return VerifyResult(False, count, f"entry {expected_seq} is missing (next is {e.seq})")
        if e.prev_hash != prev:
            return VerifyResult(
                False, count, f"entry {e.seq} does not follow entry {e.seq - 1} (chain broken)"
            )
        if _digest(e) != e.hash:
            return VerifyResult(False, count, f"entry {e.seq} ({e.action}) was edited")
        prev = e.hash
        expected_seq += 1
    head = session.get(HubState, "audit_head")
    if head is not None and head.value != f"{expected_seq - 1}:{prev}":
        recorded = head.value.split(":", 1)[0]
        return VerifyResult(
            False,
            count,
            f"entries after {expected_seq - 1} were deleted (head records entry {recorded})",
        )
    return VerifyResult(True, count)
