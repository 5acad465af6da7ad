"""Organisations, users, roles, API tokens and browser sessions.

Passwords are hashed with Argon2 (argon2-cffi's defaults, RFC 9106 low-memory profile).
API tokens and session ids are 256-bit random values: only their SHA-256 is stored, so a
copy of the database lets nobody sign in. Every change of who may do what (a new user, a
role change) is written to the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from boldhub import clock
from boldhub.errors import UserError
from boldhub.hub import audit, organisations, throttle
from boldhub.hub.store.models import ROLES, ApiToken, Organisation, User, WebSession
from boldhub.schemas import CENTRAL_BODIES, COUNCILS

HUB_ORG = "HUB"
SESSION_HOURS = 8
TOKEN_DAYS = 365
MAX_TOKEN_DAYS = 2 * 365
_HASHER = PasswordHasher()
# Verifying against this keeps sign-in time the same for unknown emails (no user probing).
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user and what they may see."""

    user_id: int
    email: str
    name: str
    organisation: str
    org_kind: str
    role: str

    @property
    def actor(self) -> str:
        # Staff are named by id in the audit log; their email stays in the users table.
        return f"user:{self.user_id}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ensure_organisations(session: Session) -> None:
    """Register the known councils, central bodies and the hub's own team, once."""
    existing = set(session.execute(select(Organisation.code)).scalars())
    for org in (*COUNCILS, *CENTRAL_BODIES):
        if org.code not in existing:
            session.add(Organisation(code=org.code, name=org.name, kind=org.kind))
    if HUB_ORG not in existing:
        session.add(Organisation(code=HUB_ORG, name="BOLD Hub operations", kind="hub"))
    session.flush()


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    organisation: str,
    role: str,
    password: str | None,
    actor: str,
) -> User:
    ensure_organisations(session)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    if organisation != HUB_ORG:
        # Any council of the register or registered body; the row is made on first use.
        organisations.ensure_row(session, organisation)
    email = email.strip().lower()
    if "@" not in email:
        raise UserError("email must be an email address")
    if session.execute(select(User).where(User.email == email)).scalar_one_or_none():
        raise UserError(f"a user with email {email} already exists")
    if password is not None and len(password) < 12:
        raise UserError("passwords must be at least 12 characters")
    user = User(
        email=email,
        name=name,
        organisation=organisation,
        role=role,
        password_hash=_HASHER.hash(password) if password else None,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="user.created",
        subject=f"user:{user.id}",
        organisation=organisation,
        details={"role": role},
    )
    return user


def user_by_email(session: Session, email: str) -> User:
    user = session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise UserError(f"no user with email {email}; create it with `boldhub admin create-user`")
    return user


def change_role(session: Session, user_id: int, role: str, *, actor: str) -> User:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    user = session.get(User, user_id)
    if user is None:
        raise UserError(f"no user with id {user_id}")
    old = user.role
    user.role = role
    audit.append(
        session,
        actor=actor,
        action="user.role_changed",
        subject=f"user:{user.id}",
        organisation=user.organisation,
        details={"from": old, "to": role},
    )
    return user


def create_token(session: Session, user: User, label: str, *, days: int = TOKEN_DAYS) -> str:
    """A new API token, valid for ``days``; the caller shows it once, the hub keeps only
    its hash."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise UserError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}")
    token = "bh_" + secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        ApiToken(
            user_id=user.id,
            token_sha256=sha256(token),
            label=label,
            created_at=now,
            revoked=False,
            expires_at=now + timedelta(days=days),
        )
    )
    audit.append(
        session,
        actor=f"user:{user.id}",
        action="token.created",
        subject=f"user:{user.id}",
        organisation=user.organisation,
        details={"label": label, "days": days},
    )
    return token


def revoke_tokens(session: Session, user: User, *, label: str | None, actor: str) -> int:
    """Revoke the user's tokens (those with ``label``, or all); returns how many."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
    if label is not None:
        query = query.where(ApiToken.label == label)
    rows = list(session.execute(query).scalars())
    if not rows:
        which = f" labelled {label!r}" if label is not None else ""
        raise UserError(f"{user.email} has no token{which} to revoke")
    for row in rows:
        row.revoked = True
    audit.append(
        session,
        actor=actor,
        action="token.revoked",
        subject=f"user:{user.id}",
        organisation=user.organisation,
        details={"label": label, "tokens": len(rows)},
    )
    return len(rows)


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    """Disable a user (every session ends at once, tokens stop working) or enable again."""
    if user.active == active:
        raise UserError(f"{user.email} is already {'enabled' if active else 'disabled'}")
    user.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.append(
        session,
        actor=actor,
        action="user.enabled" if active else "user.disabled",
        subject=f"user:{user.id}",
        organisation=user.organisation,
        details={},
    )


def principal_of(session: Session, user: User) -> Principal:
    """Who a user is, as the access rules ask (an inactive user is refused elsewhere)."""
    org = session.get(Organisation, user.organisation)
    assert org is not None
    return Principal(user.id, user.email, user.name, user.organisation, org.kind, user.role)


def principal_for_token(session: Session, token: str) -> Principal | None:
    row = session.execute(
        select(ApiToken).where(ApiToken.token_sha256 == sha256(token), ApiToken.revoked.is_(False))
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.expires_at is not None and clock.utc(row.expires_at) <= clock.now():
        return None
    user = session.get(User, row.user_id)
    return principal_of(session, user) if user and user.active else None


def sign_in(
    session: Session, email: str, password: str, *, client: str = "local"
) -> tuple[str, str] | None:
    """Check a password; on success start a session and return (session id, CSRF token).

    ``client`` is the address the attempt came from: failures are throttled per email and
    client (:mod:`boldhub.hub.throttle`), which raises ``TooManyAttempts`` while paused.
    """
    normalised = email.strip().lower()
    email_key, client_key = sha256(normalised), sha256(client)
    throttle.check(session, email_key, client_key)
    user = session.execute(select(User).where(User.email == normalised)).scalar_one_or_none()
    stored = user.password_hash if user and user.active and user.password_hash else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        failure = throttle.failed(session, email_key, client_key)
        if user is not None:
            # The first failure of a window and the start of a pause; not every one.
            for action, happened in (
                ("signin.failed", failure.first_in_window),
                ("signin.paused", failure.paused),
            ):
                if happened:
                    audit.append(
                        session,
                        actor=f"user:{user.id}",
                        action=action,
                        subject=f"user:{user.id}",
                        organisation=user.organisation,
                        details={},
                    )
        return None
    if user is None or stored is None:
        return None
    throttle.succeeded(session, email_key, client_key)
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_sha256=sha256(session_id),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=clock.now() + timedelta(hours=SESSION_HOURS),
        )
    )
    audit.append(
        session,
        actor=f"user:{user.id}",
        action="signin",
        subject=f"user:{user.id}",
        organisation=user.organisation,
        details={},
    )
    return session_id, csrf


def principal_for_session(session: Session, session_id: str) -> tuple[Principal, str] | None:
    row = session.get(WebSession, sha256(session_id))
    if row is None:
        return None
    if clock.utc(row.expires_at) < clock.now():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return principal_of(session, user), row.csrf_token


def sign_out(session: Session, session_id: str) -> None:
    row = session.get(WebSession, sha256(session_id))
    if row is not None:
        session.delete(row)
