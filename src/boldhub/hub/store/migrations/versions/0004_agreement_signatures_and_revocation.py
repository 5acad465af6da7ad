"""agreement sign-off: each party's signature over the canonical bytes; revocation

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreement_signatures",
        sa.Column(
            "agreement_id", sa.String(length=64), sa.ForeignKey("agreements.id"), primary_key=True
        ),
        sa.Column("organisation", sa.String(length=32), primary_key=True),
        sa.Column("signer", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("agreements") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agreements") as batch:
        batch.drop_column("revoked_reason")
        batch.drop_column("revoked_at")
    op.drop_table("agreement_signatures")
