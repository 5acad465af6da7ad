"""The hub's storage: a metadata database (SQLite by default, PostgreSQL by setting) and
Parquet files under the hub's home."""

from __future__ import annotations

import enum
import errno
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from boldhub.config import get_settings
from boldhub.errors import DiskFull, HubStateError
from boldhub.hub.store.models import Base as Base

# Importing the trust models registers their tables on Base.metadata, which the
# migrations are checked against; the tables themselves come from the migrations.
from boldhub.hub.store.trust import Agreement as Agreement

# The linkage side's store and the analysis side's (hub/analysis.py): apart, so that a
# deployment can give each its own volume and role.
ENCODINGS_DIR = "store/encodings"
ATTRIBUTES_DIR = "analysis/attributes"
_OLD_ATTRIBUTES_DIR = "store/attributes"
MANIFESTS_DIR = "store/manifests"
RUNS_DIR = "runs"
# Saved models, HOME/models/<agreement>/v<N>/ (hub.linking).
MODELS_DIR = "models"


# Where a write in progress keeps its ``*.partial`` files and folders (ingest, a linkage
# run, a release draft, a sample) and where uploads are staged (``tmp/upload-*``).
_PARTIAL_DIRS = (ENCODINGS_DIR, ATTRIBUTES_DIR, MANIFESTS_DIR, RUNS_DIR, "reports", "samples")
STALE_AFTER_SECONDS = 3600


def clean_partials(home: Path, *, now: float | None = None) -> list[str]:
    """Remove what writes that never finished left behind (a crash, a ``kill -9``): every
    ``*.partial`` file or folder, and every staged upload, older than an hour (a younger
    one may belong to a write still running in another process). Returns their paths,
    relative to ``home``. Nothing here was ever visible: a write becomes visible only when
    its partial is renamed into place."""
    cutoff = (time.time() if now is None else now) - STALE_AFTER_SECONDS
    found = [p for d in _PARTIAL_DIRS for p in home.joinpath(d).glob("*.partial")]
    found += [p for prefix in STAGING_PREFIXES for p in home.joinpath("tmp").glob(f"{prefix}*")]
    removed = []
    for path in sorted(found):
        try:
            if path.lstat().st_mtime >= cutoff:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            continue  # another process cleaned it first
        removed.append(str(path.relative_to(home)))
    return removed


# Staging folders under HOME/tmp: uploads being received, packages being ingested.
STAGING_PREFIXES = ("upload-", "ingest-")


def staging_dir(hub: Hub, prefix: str) -> Path:
    """A new private folder under ``HOME/tmp`` (on the hub's volume, so that what is
    staged there can be moved into the stores)."""
    base = hub.path("tmp")
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


@contextmanager
def disk_space(what: str) -> Iterator[None]:
    """Turn the disk filling up (a write's ENOSPC or EDQUOT, SQLite's "database or disk is
    full") into DiskFull naming ``what``: the caller removes what it wrote."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(what) from None
        raise
    except OperationalError as exc:
        if "disk is full" in str(exc.orig):
            raise DiskFull(what) from None
        raise


class _Default(enum.Enum):
    FROM_SETTINGS = enum.auto()


FROM_SETTINGS = _Default.FROM_SETTINGS


@dataclass
class Hub:
    """An open hub home: its folder and its metadata database."""

    home: Path
    engine: Engine
    sessions: sessionmaker[Session]

    def path(self, *parts: str) -> Path:
        return self.home.joinpath(*parts)


def open_hub(
    home: Path,
    *,
    create: bool = False,
    database_url: str | _Default | None = FROM_SETTINGS,
) -> Hub:
    """Open (or with ``create``, make) the hub home and bring its database up to date.

    ``database_url`` is the ``database_url`` setting, passed down by the command or app
    that read the settings; None means SQLite at HOME/hub.sqlite. Callers that do not
    pass it get the setting read here.
    """
    if database_url is FROM_SETTINGS:
        database_url = get_settings().database_url
    _check_home(home, create=create, external_database=bool(database_url))
    if create:
        for d in (ENCODINGS_DIR, ATTRIBUTES_DIR, MANIFESTS_DIR, RUNS_DIR):
            (home / d).mkdir(parents=True, exist_ok=True)
    if (home / _OLD_ATTRIBUTES_DIR).is_dir() and not (home / ATTRIBUTES_DIR).exists():
        # A home from before the sides were apart: move its attributes to the analysis side.
        (home / ATTRIBUTES_DIR).parent.mkdir(parents=True, exist_ok=True)
        (home / _OLD_ATTRIBUTES_DIR).rename(home / ATTRIBUTES_DIR)
    # A pooled connection is checked before use, so that a database restarted under the
    # running service costs no request after it is back.
    engine = create_engine(database_url or f"sqlite:///{home / 'hub.sqlite'}", pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    migrate(engine)
    return Hub(home=home, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def _check_home(home: Path, *, create: bool, external_database: bool) -> None:
    if not home.exists():
        if not create:
            raise HubStateError(
                f"hub home {home} does not exist; ingest a package first with `boldhub ingest`"
            )
        home.mkdir(parents=True)
    elif not home.is_dir():
        raise HubStateError(f"hub home {home} is a file; give a folder with --home")
    elif not create and not external_database and not (home / "hub.sqlite").exists():
        # With a database elsewhere the home may hold no file yet; with SQLite, a missing
        # hub.sqlite means --home points at the wrong folder, and opening would make one.
        raise HubStateError(f"{home} is not a BOLD Hub home (no hub.sqlite); check --home")


MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(engine: Engine) -> None:
    """Bring the metadata database to the newest schema with the hub's Alembic migrations.

    Every table comes from a migration (``migrations/versions``), never from
    ``create_all``: a hub upgraded in place gets exactly what a new one gets.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
