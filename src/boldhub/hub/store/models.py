"""The hub's metadata tables (SQLAlchemy 2). Record-level data never goes here: it lives
in Parquet files under the hub's home, encodings and attributes in separate folders.

The tables themselves are made by the Alembic migrations (``migrations/versions``);
tests/unit/test_migrations.py fails when these models and the migrations disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    # Manifests, run summaries and audit details are documents: JSON on SQLite and PostgreSQL.
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class HubState(Base):
    """Single named facts about this hub. ``audit_head`` holds the audit log's last
    sequence number and hash apart from the chain, so that dropping the newest entries is
    noticed; appends lock it, so that two writers cannot take the same number."""

    __tablename__ = "hub_state"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("manifest_sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    dataset: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(32), index=True)
    period: Mapped[str] = mapped_column(String(32))
    record_count: Mapped[int] = mapped_column(Integer)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    key_fingerprint: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="current")
    superseded_by: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    manifest: Mapped[dict[str, Any]]


RUN_STATES: tuple[str, ...] = ("running", "failed", "done")


class LinkageRun(Base):
    """One linkage run, from the moment it starts: ``running`` (``worker`` names the
    process), then ``done`` (its files are in place) or ``failed`` (``error`` says why; a
    run whose process died is marked failed by hub.run_state.recover). Only a done run's
    links, model and report are ever read."""

    __tablename__ = "linkage_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="done", index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # None while running; a failed run's is when it was found to have failed.
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    records: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[float]
    submissions: Mapped[dict[str, Any]]
    summary: Mapped[dict[str, Any]]


ROLES: tuple[str, ...] = (
    "submitter",
    "dpo",
    "analyst",
    "linkage_operator",
    "output_checker",
    "admin",
)


class Organisation(Base):
    """A council (by ONS GSS code), a central body, or the hub's own operating team."""

    __tablename__ = "organisations"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # council, central or hub


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for the API (`boldhub submit`, scripts): only its SHA-256 is stored
    (tokens are 256 random bits, so a slow hash adds nothing; passwords, which are
    guessable, get Argon2)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(default=False)
    # None for tokens made before tokens expired (migration 0006 gives them a year).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignInFailure(Base):
    """Failed sign-ins for one email from one client in the current window: what the
    sign-in throttle counts (hub/throttle.py). Both are kept as SHA-256 digests: an email
    tried may be nobody's, and a client's address is personal data."""

    __tablename__ = "signin_failures"

    email_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEvent(Base):
    """One entry of the hash-chained audit log (see hub.audit)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Text, not DateTime: the hash covers the timestamp as written, and SQLite would drop
    # its UTC offset on the way back.
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    organisation: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutputRelease(Base):
    """A linkage run's outcome release: drafted from the run, checked by two output
    checkers, and only then visible to the parties (``hub.releases``). Its files live in
    ``HOME/reports/<id>/``; a rejected draft keeps its reason."""

    __tablename__ = "output_releases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # No foreign key: a release keeps its own retention period after its run has gone.
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    agreement_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # draft, approved or rejected
    # Whoever started the run may not check its outputs (the audit actor of linkage.run).
    run_started_by: Mapped[str] = mapped_column(String(128))
    drafted_by: Mapped[str] = mapped_column(String(128))
    drafted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Areas, indicators, cells suppressed: what the checkers are asked to look at.
    summary: Mapped[dict[str, Any]]


class ReleaseDecision(Base):
    """One output checker's decision on a draft: one per person per release."""

    __tablename__ = "release_decisions"

    release_id: Mapped[str] = mapped_column(ForeignKey("output_releases.id"), primary_key=True)
    checker: Mapped[str] = mapped_column(String(128), primary_key=True)  # "user:<id>"
    decision: Mapped[str] = mapped_column(String(16))  # approve or reject
    comment: Mapped[str] = mapped_column(String(2000))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
