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


def require(p: Principal, action: str, organisation: str | None = None) -> None:
    if allowed(p, action, organisation):
        return
    own = sorted(_OWN.get(action, frozenset()))
    hub = sorted(_HUB_WIDE.get(action, frozenset()))
    if (
        organisation is not None
        and organisation not in (p.organisation, NATIONAL)
        and p.org_kind != "hub"
    ):
        raise Denied(
            f"{action} is refused: this belongs to organisation {organisation}, and users of "
            f"{p.organisation} can only reach their own organisation's data"
        )
    needs = []
    if own:
        needs.append(f"one of the roles {', '.join(own)} in the organisation concerned")
    if hub:
        needs.append(f"one of the hub team roles {', '.join(hub)}")
    raise Denied(
        f"{action} is refused for role {p.role}: it needs {' or '.join(needs) or 'a role that does not exist'}; "
        "ask your organisation's admin"
    )
