"""The hub's trust records: agreements, their parties and the parties' signing keys.

Defined on the shared ``Base``; ``hub.store`` imports this module so that the tables are
created with the others. The registered document is kept whole (``document``): terms the
columns do not hold, such as ``linkage``, are read from it (``privacy.agreement``), so the
agreement can grow into agreements-as-code without a new table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from boldhub.hub.store.models import Base
from boldhub.privacy.agreement import Party


class Agreement(Base):
    """An agreement as registered, with what every package under it must share."""

    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The current key's: after `agreement rotate-key` it differs from the document's.
    key_fingerprint: Mapped[str] = mapped_column(String(32))
    # Every encoding parameter as this version had it at registration, not just the
    # document's overrides: a later version's new defaults must not change the terms.
    encoding: Mapped[dict[str, Any]]
    document: Mapped[dict[str, Any]]
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A new version is a new agreement that names the one it replaces; the old one is
    # kept for the record (its submissions and runs refer to it) and refuses new packages.
    supersedes: Mapped[str | None] = mapped_column(String(64), nullable=True)
    superseded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AgreementParty(Base):
    """An organisation that submits under an agreement, with its registered signing key."""

    __tablename__ = "agreement_parties"

    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(32), primary_key=True)
    signing_key: Mapped[str] = mapped_column(String(80))
    signing_key_id: Mapped[str] = mapped_column(String(16))
    datasets: Mapped[list[str]] = mapped_column(JSON)

    def party(self) -> Party:
        """The party as the agreement rule (``privacy.agreement.admit``) takes it."""
        return Party(self.organisation, self.signing_key, tuple(self.datasets))


class AgreementSignature(Base):
    """A party's sign-off: its DPO's (or its organisation's registered) Ed25519 signature
    over the agreement's canonical bytes, whose SHA-256 is kept beside it."""

    __tablename__ = "agreement_signatures"

    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(32), primary_key=True)
    signer: Mapped[str] = mapped_column(String(16))  # "dpo" or "organisation"
    key_id: Mapped[str] = mapped_column(String(16))
    document_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
