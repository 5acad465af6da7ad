"""The words the hub's pages use for codes: audit actions, success messages, periods.

Success messages are fixed texts chosen by a short code in the redirect, so no address
can put words of its own in the page's success box.
"""

from __future__ import annotations

from datetime import date

from boldhub.hub.web.queries import period_bounds

ACTIONS = {
    "submission.accepted": "Package accepted",
    "signin": "Signed in",
    "signin.failed": "Sign-in failed (wrong password)",
    "signin.paused": "Sign-in paused after five wrong passwords from one device",
    "token.created": "API token created",
    "token.revoked": "API token revoked",
    "user.disabled": "Account disabled",
    "user.enabled": "Account enabled again",
    "user.created": "Account created",
    "user.role_changed": "Role changed",
    "agreement.registered": "Agreement registered",
    "agreement.key_rotated": "Linkage key replaced",
    "linkage.run": "Linkage run",
    "links.exported": "Links exported",
    "reports.released": "Reports released",
}

# code -> message; "{id}" is a submission the reader may see, checked before it is shown.
MESSAGES = {
    "accepted": "Package accepted as submission {id}.",
    "already": "This package was already received as submission {id}. Nothing was changed.",
}


def action_words(action: str) -> str:
    """Plain words for an audit action; an action added later still reads as words."""
    if action in ACTIONS:
        return ACTIONS[action]
    return sentence(action.replace(".", " ").replace("_", " "))


def sentence(text: str) -> str:
    """A message as a sentence: refusals are written for logs and start lower-case."""
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def period_words(period: str) -> str:
    bounds = period_bounds(period)
    if bounds is None:
        return "No dated events" if period == "none" else period
    return f"{long_date(bounds[0])} to {long_date(bounds[1])}"
