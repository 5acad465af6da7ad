"""Settings, read from ``BOLDHUB_*`` environment variables.

Every setting is documented here and in docs/configuration.md; a test fails when one is not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from boldhub.errors import UserError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOLDHUB_", extra="ignore")

    home: Path = Field(
        default=Path("boldhub-home"),
        description="The hub's home folder: metadata database, stored packages, linkage runs.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the hub's metadata database. Unset: SQLite at HOME/hub.sqlite. "
            "Set to postgresql+psycopg://... to run the hub on PostgreSQL."
        ),
    )
    linkage_backend: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="Splink backend used for linkage runs: duckdb (embedded) or spark.",
    )
    linkage_threshold: float = Field(
        # 0.7 was chosen from measurements: it gives the best F1 with precision >= 0.99 on
        # the synthetic population, and on FEBRL4 (see docs/encoding.md).
        default=0.7,
        ge=0.0,
        le=1.0,
        description="Match probability at or above which two records are clustered as one person.",
    )
    linkage_threshold_one_to_one: float = Field(
        # Between two one-to-one sources a link must also be the strongest left for both of
        # its records, which rules out most weak false links. 0.05 is the lowest match
        # probability a run scores; chosen on FEBRL4 (docs/linkage.md), where precision
        # stays 1.000 at 0.05, 0.1 and 0.2 and recall is highest at 0.05.
        default=0.05,
        ge=0.0,
        le=1.0,
        description=(
            "Match probability at or above which a record of one one-to-one source links to "
            "a record of another (each keeps only its strongest such link)."
        ),
    )
    linkage_compiled_max_records: int = Field(
        # Splink's pipeline costs about 0.9 s per run before it scores a pair (FEBRL4), but
        # its DuckDB SQL scores candidate pairs faster than NumPy, and candidates grow
        # faster than records: on the synthetic population the saved model scored 50,000 /
        # 100,000 / 200,000 records in 0.8 / 3.0 / 10.4 s with NumPy, 1.9 / 5.0 / 8.7 s
        # through Splink (benchmarks/compiled_crossover.py, docs/linkage.md).
        default=100_000,
        ge=0,
        description=(
            "Largest run (in records) whose saved model is scored with NumPy instead of "
            "Splink's pipeline (same weights); 0 sends every run through Splink."
        ),
    )
    sample_persons: int = Field(
        default=3_000,
        ge=200,
        le=100_000,
        description=(
            "People in the synthetic population behind the hub's 'What you would get back' "
            "page (built once, in the background, on the first visit)."
        ),
    )
    spark_master: str = Field(
        default="local[*]",
        description="Spark master for linkage runs when BOLDHUB_LINKAGE_BACKEND=spark (e.g. local[2], spark://host:7077).",
    )
    duckdb_memory_limit: str = Field(
        # 2.5GB keeps a run over a million records under 4 GiB in all (3.2 GiB measured,
        # README); DuckDB spills the rest to a scratch folder.
        default="2.5GB",
        description="Memory limit handed to DuckDB for linkage runs (DuckDB syntax, e.g. 4GB).",
    )
    duckdb_temp_limit: str = Field(
        # DuckDB's own default is 90% of the free disk: a run over millions of records
        # filled a shared machine's disk under the load benchmark.
        default="20GB",
        description="Most scratch disk a linkage run may spill to beyond its memory limit "
        "(DuckDB syntax, e.g. 50GB); a run that needs more fails, saying so.",
    )
    max_upload_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="Largest package upload the hub accepts, in bytes; larger ones get 413.",
    )
    ingest_concurrency: int = Field(
        default=4,
        ge=1,
        description="How many uploaded packages the service checks and stores at once; "
        "more wait their turn (each holds its package's tables in memory meanwhile).",
    )
    slow_request_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A request whose headers take longer than this, or whose body stops "
        "for this long or trickles in slower than 1 KiB/s after twice this, gets 408 and "
        "its connection is closed.",
    )
    cookie_secure: bool = Field(
        default=True,
        description=(
            "Mark the web session cookie Secure (sent over HTTPS only; browsers also allow "
            "it on http://127.0.0.1 and localhost). Leave on in production."
        ),
    )
    log_level: str = Field(
        default="INFO",
        description="Level of the hub service's JSON logs (DEBUG, INFO, WARNING, ERROR).",
    )
    retention_interval_hours: float = Field(
        default=24.0,
        ge=0.0,
        description=(
            "Hours between the retention runs `boldhub serve` makes itself (the first a minute "
            "after it starts); 0 turns the job off (run `boldhub retention run` instead)."
        ),
    )
    now: datetime | None = Field(
        default=None,
        description=(
            "Override the clock with an ISO 8601 timestamp (tests); without a UTC offset it "
            "is taken as UTC. Read via boldhub.clock."
        ),
    )

    @field_validator("now", mode="before")
    @classmethod
    def _iso_8601(cls, value: object) -> object:
        # Python's own ISO 8601 parser, not pydantic's looser one (which also takes Unix
        # seconds): BOLDHUB_NOW means the same as before it was a setting. A UserError is
        # not wrapped by pydantic, so the CLI shows this one line.
        if not isinstance(value, str):
            return value
        if not value:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise UserError(
                f"BOLDHUB_NOW={value!r} is not an ISO 8601 timestamp; "
                "use e.g. 2026-04-01T09:00:00+00:00 or unset it"
            ) from exc

    @field_validator("now")
    @classmethod
    def _in_utc_when_naive(cls, value: datetime | None) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def get_settings() -> Settings:
    # Not cached: every call reads the environment afresh, so a test that changes a
    # BOLDHUB_* variable (monkeypatch.setenv) is seen by the next call.
    return Settings()
