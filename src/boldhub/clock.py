"""The one place that reads "now".

Retention, purpose locks and audit timestamps all depend on the clock; tests move it by
setting ``BOLDHUB_NOW`` to an ISO 8601 timestamp.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from boldhub.errors import UserError


def now() -> datetime:
    """The current time, timezone-aware in UTC (``BOLDHUB_NOW`` overrides it)."""
    override = os.environ.get("BOLDHUB_NOW")
    if override:
        try:
            parsed = datetime.fromisoformat(override)
        except ValueError as exc:
            raise UserError(
                f"BOLDHUB_NOW={override!r} is not an ISO 8601 timestamp; "
                "use e.g. 2026-04-01T09:00:00+00:00 or unset it"
            ) from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def today() -> date:
    return now().date()
