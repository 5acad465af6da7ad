"""linkage runs have a state (running, failed, done), the process running them, and why
one failed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("linkage_runs") as batch:
        # Every run recorded before states existed was recorded when it finished.
        batch.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="done")
        )
        batch.add_column(sa.Column("worker", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("error", sa.String(length=500), nullable=True))
        batch.alter_column("finished_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        batch.create_index("ix_linkage_runs_state", ["state"])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM linkage_runs WHERE state <> 'done'"))
    with op.batch_alter_table("linkage_runs") as batch:
        batch.drop_index("ix_linkage_runs_state")
        batch.alter_column("finished_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_column("error")
        batch.drop_column("worker")
        batch.drop_column("state")
