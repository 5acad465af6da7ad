"""The one place that reads "now".

Retention, purpose locks and audit timestamps all depend on the clock; tests move it by
setting ``BOLDHUB_NOW`` (the ``now`` setting) to an ISO 8601 timestamp.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from boldhub.config import get_settings


def now() -> datetime:
    """The current time, timezone-aware in UTC (the ``now`` setting overrides it).

    Settings are read on every call, not once: tests change ``BOLDHUB_NOW`` between calls.
    """
    return get_settings().now or datetime.now(UTC)


def utc(stored: datetime) -> datetime:
    """A time read back from the database, with its offset: SQLite hands back what was
    stored without it, and every time the hub stores is UTC (:func:`now`)."""
    return stored if stored.tzinfo is not None else stored.replace(tzinfo=UTC)


def today() -> date:
    return now().date()
