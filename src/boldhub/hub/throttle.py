"""Sign-in throttling that cannot be turned against the people it protects.

Failures are counted per email and client address (the address as the server sees it:
run behind a proxy with ``--proxy-headers`` so that it is the browser's) in windows of 15
minutes. Five wrong passwords for one email from one client pause that email's sign-in
from that client for 15 minutes; twenty from one client, whatever the emails, pause that
client. Nothing is keyed on the email alone, so someone guessing from elsewhere cannot
lock a council's staff out of their own hub, and a paused attempt is refused before the
password is checked, so guessing on gains nothing.

The audit trail records the first failure for an email in a window and the start of each
pause, not every failure: a flood of wrong passwords cannot push a council's real events
out of its DPO's view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from boldhub import clock
from boldhub.errors import TooManyAttempts
from boldhub.hub.store.models import SignInFailure

WINDOW = timedelta(minutes=15)
PAUSE = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_CLIENT = 20


@dataclass(frozen=True)
class Failure:
    """What one failure means for the audit trail."""

    first_in_window: bool  # the first for this email in its window, from any client
    paused: bool  # this failure started a pause


def check(session: Session, email_sha256: str, client_sha256: str) -> None:
    """Raise :class:`TooManyAttempts` if this email may not be tried from this client now."""
    now = clock.now()
    row = session.get(SignInFailure, (email_sha256, client_sha256))
    if row is not None and row.locked_until is not None and clock.utc(row.locked_until) > now:
        raise TooManyAttempts(clock.utc(row.locked_until) - now)
    recent = session.execute(
        select(
            func.coalesce(func.sum(SignInFailure.failures), 0), func.min(SignInFailure.window_start)
        )
        .where(SignInFailure.client_sha256 == client_sha256)
        .where(SignInFailure.window_start > now - WINDOW)
    ).one()
    if recent[0] >= PER_CLIENT:
        raise TooManyAttempts(clock.utc(recent[1]) + WINDOW - now)


def failed(session: Session, email_sha256: str, client_sha256: str) -> Failure:
    """Count one failure (and drop windows long over, which keeps the table small)."""
    now = clock.now()
    forget_old(session)
    earlier = session.execute(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.email_sha256 == email_sha256)
        .where(SignInFailure.window_start > now - WINDOW)
    ).scalar_one()
    row = session.get(SignInFailure, (email_sha256, client_sha256))
    if row is None:
        row = SignInFailure(
            email_sha256=email_sha256, client_sha256=client_sha256, failures=0, window_start=now
        )
        session.add(row)
    elif clock.utc(row.window_start) <= now - WINDOW:
        row.failures, row.window_start, row.locked_until = 0, now, None
    row.failures += 1
    paused = row.failures == PER_ACCOUNT
    if paused:
        row.locked_until = now + PAUSE
    session.flush()
    return Failure(first_in_window=earlier == 0, paused=paused)


def succeeded(session: Session, email_sha256: str, client_sha256: str) -> None:
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.email_sha256 == email_sha256,
            SignInFailure.client_sha256 == client_sha256,
        )
    )


def forget_old(session: Session) -> int:
    """Drop windows long over; returns how many rows went."""
    cutoff = clock.now() - WINDOW - PAUSE
    result = session.execute(delete(SignInFailure).where(SignInFailure.window_start < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
