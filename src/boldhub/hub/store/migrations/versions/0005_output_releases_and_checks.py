"""output releases: a run's draft release and the output checkers' decisions on it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 15:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "output_releases",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("run_id", sa.String(length=32), nullable=False, index=True),
        sa.Column("agreement_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_started_by", sa.String(length=128), nullable=False),
        sa.Column("drafted_by", sa.String(length=128), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_table(
        "release_decisions",
        sa.Column(
            "release_id",
            sa.String(length=40),
            sa.ForeignKey("output_releases.id"),
            primary_key=True,
        ),
        sa.Column("checker", sa.String(length=128), primary_key=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("release_decisions")
    op.drop_table("output_releases")
