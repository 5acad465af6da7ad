"""Who may do what: one table of permissions, one function that checks it.

Every route asks ``require(principal, action, organisation)``; a refusal names the role
or organisation that would be needed, so users know what to ask for. Organisations see
only their own submissions, reports and audit trail; the hub's own team sees across
organisations only where its role needs to (operators link everything, output checkers
check every report, admins administer).
"""

from __future__ import annotations

from boldhub.errors import Denied
from boldhub.hub.accounts import Principal

# action -> roles allowed for their own organisation's resources
_OWN: dict[str, frozenset[str]] = {
    "submission.create": frozenset({"submitter", "admin"}),
    "submission.read": frozenset({"submitter", "dpo", "analyst", "admin"}),
    # A council's submitter sees what the council gets back for the data it sent.
    "report.read": frozenset({"submitter", "analyst", "dpo", "admin", "output_checker"}),
    "audit.read": frozenset({"dpo", "admin"}),
    "users.manage": frozenset({"admin"}),
}
# action -> roles of the hub's own team allowed across every organisation
_HUB_WIDE: dict[str, frozenset[str]] = {
    "submission.read": frozenset({"linkage_operator", "admin"}),
    "linkage.run": frozenset({"linkage_operator", "admin"}),
    "linkage.read": frozenset({"linkage_operator", "output_checker", "admin"}),
    "links.export": frozenset({"linkage_operator"}),
    "report.read": frozenset({"output_checker", "admin"}),
    "audit.read": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "organisations.manage": frozenset({"admin"}),
}
NATIONAL = "national"


def allowed(p: Principal, action: str, organisation: str | None = None) -> bool:
    if p.org_kind == "hub" and p.role in _HUB_WIDE.get(action, frozenset()):
        return True
    if organisation is None:
        return False
    if action == "report.read" and organisation == NATIONAL:
        # The national benchmark is for every participant's analysts and DPOs.
        return p.role in _OWN["report.read"]
    return organisation == p.organisation and p.role in _OWN.get(action, frozenset())


# What each action lets a person do, and each role's name, as a refusal says them.
_DOING = {
    "submission.create": "send packages",
    "submission.read": "see submissions",
    "report.read": "read outcome reports",
    "audit.read": "read the audit trail",
    "users.manage": "manage accounts",
    "linkage.run": "start linkage runs",
    "linkage.read": "see linkage runs",
    "links.export": "export links",
    "organisations.manage": "register organisations",
}
_ROLE_NAMES = {
    "submitter": "submitter",
    "dpo": "data protection officer",
    "analyst": "analyst",
    "linkage_operator": "linkage operator",
    "output_checker": "output checker",
    "admin": "admin",
}


def role_name(role: str) -> str:
    """A role as people say it ("data protection officer", not "dpo")."""
    return _ROLE_NAMES.get(role, role.replace("_", " "))


def _roles(roles: frozenset[str]) -> str:
    order = list(_ROLE_NAMES)
    names = [_ROLE_NAMES.get(r, r) for r in sorted(roles, key=order.index)]
    names = [f"{'an' if n[0] in 'aeiou' else 'a'} {n}" for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def require(p: Principal, action: str, organisation: str | None = None) -> None:
    if allowed(p, action, organisation):
        return
    doing = _DOING.get(action, "do this")
    if (
        organisation is not None
        and organisation not in (p.organisation, NATIONAL)
        and p.org_kind != "hub"
    ):
        raise Denied(
            f"This belongs to another organisation. Your account can {doing} only for "
            "your own organisation."
        )
    own, hub = _OWN.get(action, frozenset()), _HUB_WIDE.get(action, frozenset())
    who = []
    if own:
        who.append(f"{_roles(own)} of the organisation concerned")
    if hub:
        who.append(f"{_roles(hub)} on the hub's team")
    role = role_name(p.role)
    raise Denied(
        f"Your role ({role}) cannot {doing}. Only {', or '.join(who) or 'nobody'} can. "
        "If you need to, ask your organisation's admin to change your role."
    )
