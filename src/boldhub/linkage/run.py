"""One linkage run: encodings in, person keys out, with Splink 5 on DuckDB.

The run trains the model unsupervised (u by random sampling, m by EM on two blockings),
scores the blocked pairs, clusters them at the threshold, and gives every record a person
key. It reads only encodings: attributes never enter linkage.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker

from boldhub.linkage import model

log = logging.getLogger("boldhub.linkage")

LINKS_SCHEMA = pa.schema(
    [
        ("record_key", pa.string()),
        ("source", pa.string()),
        ("person_key", pa.string()),
        ("match_probability", pa.float64()),
    ]
)

_BLOOM_COLUMNS = ("fn_bf", "sn_bf")


@dataclass(frozen=True)
class LinkInput:
    source: str
    encodings: Path


@dataclass
class LinkResult:
    links: pa.Table
    records: int
    persons: int
    pairs_scored: int
    seconds: dict[str, float] = field(default_factory=dict)
    model_json: dict[str, Any] = field(default_factory=dict)


Step = Callable[[str], None]


def link(
    inputs: list[LinkInput],
    *,
    threshold: float,
    memory_limit: str = "4GB",
    seed: int = 1,
    on_step: Step | None = None,
) -> LinkResult:
    """Link every record of every input into persons (deduplicate and link at once)."""
    step = on_step or (lambda _name: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    step("loading encodings")
    _load(con, inputs)
    n = con.execute("SELECT count(*) FROM records").fetchall()[0][0]
    timings["load"] = time.perf_counter() - t0

    db_api = DuckDBAPI(connection=con)
    records = db_api.register("records")
    # Splink's messages go to the "splink" logger; the caller decides where they land
    # (JSON lines in the service, nothing below errors on the command line).
    linker = Linker(records, model.settings(), log_level=None)

    step("training the model")
    t = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        list(model.DETERMINISTIC_RULES), recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    trained = 0
    for rule in model.TRAINING_BLOCKING_RULES:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
            trained += 1
        except ValueError as exc:
            # On small inputs a level can be unobserved among the blocked pairs, and
            # Splink 5 refuses the m = 0 that EM then estimates. The other blocking's
            # session (or Splink's starting values) still covers those comparisons.
            log.warning(
                "EM session skipped", extra={"blocking_rule": rule, "reason": str(exc)[:120]}
            )
    if trained == 0:
        log.warning("no EM session converged; scoring with starting m values")
    timings["train"] = time.perf_counter() - t

    step("scoring candidate pairs")
    t = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=0.05)
    pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
    timings["predict"] = time.perf_counter() - t

    step("clustering into persons")
    t = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    links = _links_table(con, clusters.physical_name, predictions.physical_name, threshold)
    timings["cluster"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    persons = len(set(links.column("person_key").to_pylist()))
    model_json = linker.misc.save_model_to_json()
    con.close()
    return LinkResult(
        links=links,
        records=int(n),
        persons=persons,
        pairs_scored=int(pairs),
        seconds=timings,
        model_json=model_json,
    )


def _load(con: duckdb.DuckDBPyConnection, inputs: list[LinkInput]) -> None:
    selects = []
    for i, item in enumerate(inputs):
        con.execute(
            f"CREATE VIEW input_{i} AS SELECT * FROM read_parquet({_quote(str(item.encodings))})"
        )
        selects.append(f"SELECT *, {_quote(item.source)} AS source FROM input_{i}")
    # Filters arrive salted (XOR-masked) with their unmasked weights in ``{c}_pop``.
    bloom = ", ".join(f"{c}::BIT AS {c}" for c in _BLOOM_COLUMNS)
    con.execute(
        f"CREATE TABLE records AS SELECT * EXCLUDE ({', '.join(_BLOOM_COLUMNS)}), {bloom} "
        f"FROM ({' UNION ALL '.join(selects)})"
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _links_table(
    con: duckdb.DuckDBPyConnection, clusters: str, predictions: str, threshold: float
) -> pa.Table:
    # A record's match_probability is that of its strongest link inside its own cluster
    # (NULL for a record that matched nobody): an operator's view of how sure the join is.
    rows = con.execute(
        f"""
        WITH edges AS (
            SELECT record_key_l AS k, match_probability AS p FROM {predictions}
              WHERE match_probability >= ?
            UNION ALL
            SELECT record_key_r AS k, match_probability AS p FROM {predictions}
              WHERE match_probability >= ?
        ), best AS (SELECT k, max(p) AS p FROM edges GROUP BY k)
        SELECT c.record_key, c.source, c.cluster_id, best.p
        FROM {clusters} c LEFT JOIN best ON best.k = c.record_key
        ORDER BY c.cluster_id, c.record_key
        """,
        [threshold, threshold],
    ).fetchall()
    person_of: dict[str, str] = {}
    keys, sources, persons, probs = [], [], [], []
    for record_key, source, cluster_id, p in rows:
        pk = person_of.get(cluster_id)
        if pk is None:
            # Person keys are random, not derived from any record key: a person key
            # must not lead back to a record.
            pk = person_of[cluster_id] = "PK" + secrets.token_hex(8)
        keys.append(record_key)
        sources.append(source)
        persons.append(pk)
        probs.append(p)
    return pa.table(
        {"record_key": keys, "source": sources, "person_key": persons, "match_probability": probs},
        schema=LINKS_SCHEMA,
    )
