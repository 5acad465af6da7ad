"""The organisations a hub knows: the shipped register of English local authorities and
central bodies, and the bodies its admins have registered (central bodies, providers).

Registered bodies live in the ``organisations`` table; a council or built-in central body
gets its row there the first time the hub needs one (a user, say), so that the table never
has to hold the whole register. Every registration is audited in its own transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from boldhub.errors import SchemaError, UserError
from boldhub.hub import audit
from boldhub.hub.store.models import Organisation as OrganisationRow
from boldhub.schemas.organisations import (
    BODY_CODE_RE,
    GSS_RE,
    Organisation,
    get_organisation,
    local_authorities,
)

KINDS = ("central", "provider")


def registered(session: Session) -> dict[str, Organisation]:
    """The bodies other than councils that this hub has rows for (the built-in central
    bodies and those its admins registered), by code, in code order."""
    rows = session.execute(
        select(OrganisationRow)
        .where(OrganisationRow.kind.in_(KINDS))
        .order_by(OrganisationRow.code)
    ).scalars()
    return {r.code: Organisation(r.code, r.name, r.kind) for r in rows}


def lookup(session: Session, code: str) -> Organisation:
    """The organisation ``code`` names at this hub; SchemaError saying which codes exist."""
    return get_organisation(code, registered(session))


def ensure_row(session: Session, code: str) -> None:
    """Give a known organisation its row (users refer to it); unknown codes are refused."""
    if session.get(OrganisationRow, code) is not None:
        return
    org = lookup(session, code)
    session.add(OrganisationRow(code=org.code, name=org.name, kind=org.kind))
    session.flush()


def add_organisation(
    session: Session, *, code: str, name: str, kind: str, actor: str
) -> Organisation:
    """Register a central body or provider (audited in the caller's transaction)."""
    code, name = code.strip(), " ".join(name.split())
    if kind not in KINDS:
        raise UserError(f"kind must be one of: {', '.join(KINDS)}")
    if GSS_RE.match(code) or code in local_authorities():
        raise UserError(
            f"{code} is a local authority's GSS code: councils come from the shipped register "
            "and need no registration"
        )
    if not BODY_CODE_RE.match(code):
        raise UserError(
            "code must be upper-case letters and digits in 2 to 4 parts joined by '-', such "
            "as PROVIDER-STMUNGOS or DLUHC-HOMELESS"
        )
    if not 3 <= len(name) <= 200:
        raise UserError("name must be 3 to 200 characters, the body's full name")
    try:
        get_organisation(code)
    except SchemaError:
        pass
    else:
        raise UserError(f"{code} is one of the hub's built-in central bodies already")
    if session.get(OrganisationRow, code) is not None:
        raise UserError(f"an organisation with code {code} is already registered")
    session.add(OrganisationRow(code=code, name=name, kind=kind))
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="organisation.registered",
        subject=code,
        organisation=code,
        details={"name": name, "kind": kind},
    )
    return Organisation(code, name, kind)
