"""sign-in failures (what the sign-in throttle counts) and API tokens that expire

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 20:20:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    # Tokens made before they expired get a year from now, like a new one.
    op.execute(
        sa.text("UPDATE api_tokens SET expires_at = :when").bindparams(
            when=datetime.now(UTC) + timedelta(days=365)
        )
    )
    op.create_table(
        "signin_failures",
        sa.Column("email_sha256", sa.String(length=64), primary_key=True),
        sa.Column("client_sha256", sa.String(length=64), primary_key=True, index=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("signin_failures")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
