"""Alembic environment: the hub's own migrations, run by `open_hub` on every start.

The URL comes from the caller's connection (``config.attributes["connection"]``) or,
for the alembic command line, from BOLDHUB_DATABASE_URL / the hub home's SQLite file.
SQLite gets batch mode, so that column changes work there too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from boldhub.config import get_settings
from boldhub.hub.store.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    settings = get_settings()
    url = settings.database_url or f"sqlite:///{settings.home / 'hub.sqlite'}"
    with create_engine(url).connect() as conn:
        _run(conn)
