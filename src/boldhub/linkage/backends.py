"""The SQL engines a linkage run can use: embedded DuckDB, or Spark for national scale.

Each backend owns its I/O: it takes the run's records (an Arrow table), hands Splink its
database API, answers our own queries as Arrow tables, and cleans up. The model's SQL is
written once (model.py) and rendered in the backend's dialect. Spark is imported only
when asked for; without it the error names the extra to install.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from splink import DuckDBAPI

from boldhub.errors import UserError
from boldhub.linkage.model import Dialect

BackendName = Literal["duckdb", "spark"]

RECORDS_TABLE = "records"


class Backend(Protocol):
    dialect: Dialect
    db_api: Any

    def register(self, table: pa.Table) -> Any:
        """Load the records and return Splink's handle on them (a SplinkDataFrame)."""

    def register_as(self, name: str, table: pa.Table) -> Any:
        """Load records as table ``name`` (as ``register`` would) and return Splink's handle."""

    def fetch(self, sql: str) -> pa.Table:
        """Run one query and return its result as Arrow."""

    def load(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable as ``name``."""

    def create(self, name: str, sql: str) -> Any:
        """Materialise a query as table ``name``; return Splink's handle on it."""

    def close(self) -> None: ...


class DuckDBBackend:
    dialect: Dialect = "duckdb"

    def __init__(self, memory_limit: str = "2.5GB", temp_limit: str = "20GB") -> None:
        self.con = duckdb.connect()
        # Spill to a private scratch folder (removed on close), not ./.tmp of the caller.
        self.scratch = Path(tempfile.mkdtemp(prefix="boldhub-duckdb-"))
        self.con.execute(f"SET temp_directory = '{self.scratch}'")
        self.con.execute(f"SET memory_limit = '{memory_limit.replace(chr(39), '')}'")
        # DuckDB would take up to 90% of the free disk: the scratch it may fill is capped.
        self.con.execute(f"SET max_temp_directory_size = '{temp_limit.replace(chr(39), '')}'")
        self.con.execute("SET preserve_insertion_order = false")
        self.db_api = DuckDBAPI(connection=self.con)

    def register(self, table: pa.Table) -> Any:
        return self.register_as(RECORDS_TABLE, table)

    def register_as(self, name: str, table: pa.Table) -> Any:
        self.con.register(f"{name}_arrow", table)
        columns = ", ".join(_compact_token_sql(f) for f in table.schema)
        self.con.execute(f"CREATE TABLE {name} AS SELECT {columns} FROM {name}_arrow")
        self.con.unregister(f"{name}_arrow")
        return self.db_api.register(name)

    def fetch(self, sql: str) -> pa.Table:
        result: pa.Table = self.con.sql(sql).to_arrow_table()
        return result

    def load(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def create(self, name: str, sql: str) -> Any:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        return self.db_api.register(name)

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _compact_token_sql(field: pa.Field) -> str:
    """A column of the records as DuckDB should hold it. Keyed tokens (``*_tok``, and lists
    of them, ``*_toks``) arrive as hex text; held as 128-bit integers instead they take
    16 bytes inline rather than a 32-byte string each (a million records carry about 25),
    and compare as one integer. Only equality is ever asked of them."""
    name = f'"{field.name}"'
    if field.name.endswith("_tok") and pa.types.is_string(field.type):
        return f"CAST('0x' || {name} AS UHUGEINT) AS {name}"
    if field.name.endswith("_toks") and pa.types.is_list(field.type):
        return f"list_transform({name}, lambda t: CAST('0x' || t AS UHUGEINT)) AS {name}"
    return name


class SparkBackend:
    """Splink's Spark backend on a session of its own (``master``, e.g. ``local[2]``).

    Records travel to Spark as Parquet in a scratch folder, which also holds Splink's
    checkpoints; the folder is removed when the run ends."""

    dialect: Dialect = "spark"

    def __init__(self, master: str = "local[*]") -> None:
        try:
            from pyspark.sql import SparkSession
            from splink.backends.spark import SparkAPI
        except ImportError as exc:
            raise UserError(
                "BOLDHUB_LINKAGE_BACKEND=spark needs pyspark and a Java runtime: install the "
                "'spark' extra (pip install 'boldhub[spark]') or unset BOLDHUB_LINKAGE_BACKEND"
            ) from exc
        self.scratch = Path(tempfile.mkdtemp(prefix="boldhub-spark-"))
        self.spark = (
            SparkSession.builder.master(master)
            .appName("boldhub-linkage")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.default.parallelism", "8")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "2g")
            # Python workers (Splink builds a few small frames from Python rows) run this
            # interpreter, not whatever python3 is first on PATH.
            .config("spark.pyspark.python", sys.executable)
            .config("spark.pyspark.driver.python", sys.executable)
            .config("spark.sql.warehouse.dir", str(self.scratch / "warehouse"))
            .config("spark.driver.extraJavaOptions", "-Dderby.system.home=" + str(self.scratch))
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        self.spark.sparkContext.setCheckpointDir(str(self.scratch / "checkpoints"))
        self.db_api = SparkAPI(  # type: ignore[no-untyped-call]
            spark_session=self.spark,
            break_lineage_method="parquet",
            num_partitions_on_repartition=8,
            register_udfs_automatically=False,
        )

    def register(self, table: pa.Table) -> Any:
        return self.register_as(RECORDS_TABLE, table)

    def register_as(self, name: str, table: pa.Table) -> Any:
        self.load(name, table)
        return self.db_api.register(name)

    def fetch(self, sql: str) -> pa.Table:
        return pa.Table.from_pandas(self.spark.sql(sql).toPandas(), preserve_index=False)

    def load(self, name: str, table: pa.Table) -> None:
        path = self.scratch / f"{name}.parquet"
        pq.write_table(table, path)
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def create(self, name: str, sql: str) -> Any:
        self.spark.sql(sql).createOrReplaceTempView(name)
        return self.db_api.register(name)

    def close(self) -> None:
        try:
            self.spark.catalog.clearCache()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)


def open_backend(
    name: BackendName,
    *,
    memory_limit: str = "2.5GB",
    temp_limit: str = "20GB",
    spark_master: str = "local[*]",
) -> Backend:
    if name == "duckdb":
        return DuckDBBackend(memory_limit, temp_limit)
    if name == "spark":
        return SparkBackend(spark_master)
    raise UserError(f"unknown linkage backend {name!r}; use duckdb or spark")
