"""One linkage run: encodings in, person keys out, with Splink 5 on DuckDB.

The run trains the model unsupervised (u by random sampling, m by EM on two blockings),
scores the blocked pairs, clusters them at the threshold, and gives every record a person
key. It reads only encodings: attributes never enter linkage.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from splink import Linker

from boldhub.linkage import model, quality
from boldhub.linkage.backends import BackendName, open_backend

log = logging.getLogger("boldhub.linkage")

LINKS_SCHEMA = pa.schema(
    [
        ("record_key", pa.string()),
        ("source", pa.string()),
        ("person_key", pa.string()),
        ("match_probability", pa.float64()),
    ]
)

BLOOM_COLUMNS = ("fn_bf", "sn_bf")


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
    # Scored pairs per whole match weight, for the quality report (quality.pair_stats_sql).
    pair_stats: pa.Table | None = None


Step = Callable[[str], None]


def link(
    inputs: list[LinkInput],
    *,
    threshold: float,
    memory_limit: str = "4GB",
    seed: int = 1,
    on_step: Step | None = None,
    backend: BackendName = "duckdb",
    spark_master: str = "local[*]",
    allowed_pairs: model.SourcePairs | None = None,
    one_to_one: Sequence[str] = (),
) -> LinkResult:
    """Link every record of every input into persons (deduplicate and link at once).

    ``allowed_pairs`` limits which pairs of sources are compared (model.source_pairs_sql);
    ``one_to_one`` names sources that hold at most one record per person: their persons
    are formed by Splink's single-best-links clustering, which never puts two of their
    records in one cluster."""
    step = on_step or (lambda _name: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    step("loading encodings")
    table, words = load_records(inputs)
    engine = open_backend(backend, memory_limit=memory_limit, spark_master=spark_master)
    try:
        records = engine.register(table)
        del table
        timings["load"] = time.perf_counter() - t0
        linker = Linker(
            records, model.settings(words, engine.dialect, allowed_pairs), log_level=None
        )
        step("training the model")
        t = time.perf_counter()
        train(linker, seed=seed)
        timings["train"] = time.perf_counter() - t

        step("scoring candidate pairs")
        t = time.perf_counter()
        predictions = linker.inference.predict(threshold_match_probability=0.05)
        timings["predict"] = time.perf_counter() - t

        step("clustering into persons")
        t = time.perf_counter()
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        counts = engine.fetch(
            f"SELECT (SELECT count(*) FROM {records.physical_name}) AS n, "
            f"(SELECT count(*) FROM {predictions.physical_name}) AS pairs"
        )
        rows = engine.fetch(
            _links_sql(clusters.physical_name, predictions.physical_name, threshold)
        )
        if one_to_one:
            edges = engine.fetch(
                f"SELECT record_key_l, record_key_r, match_probability FROM "
                f"{predictions.physical_name} WHERE match_probability >= {float(threshold)!r}"
            )
            rows = one_to_one_clusters(rows, edges, set(one_to_one))
        links = _links_table(rows)
        stats = engine.fetch(quality.pair_stats_sql(predictions.physical_name, threshold))
        timings["cluster"] = time.perf_counter() - t
        model_json = linker.misc.save_model_to_json()
    finally:
        engine.close()
    timings["total"] = time.perf_counter() - t0
    persons = len(set(links.column("person_key").to_pylist()))
    return LinkResult(
        links=links,
        records=int(counts.column("n")[0].as_py()),
        persons=persons,
        pairs_scored=int(counts.column("pairs")[0].as_py()),
        seconds=timings,
        model_json=model_json,
        pair_stats=stats,
    )


def train(linker: Linker, *, seed: int = 1) -> int:
    """Unsupervised training: lambda from deterministic rules, u by sampling, m by EM.
    Returns how many EM sessions converged."""
    linker.training.estimate_probability_two_random_records_match(
        list(model.DETERMINISTIC_RULES), recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    trained = 0
    for rule in model.TRAINING_BLOCKING_RULES:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=model.EM_MAX_PAIRS
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
    return trained


def load_records(inputs: list[LinkInput]) -> tuple[pa.Table, int]:
    """Every input's encodings in one table with its ``source``, and each Bloom filter
    split into 64-bit words (``fn_bf_w0`` ...). Returns the table and the words per filter."""
    tables = []
    for item in inputs:
        t = pq.read_table(item.encodings)
        t = t.append_column("source", pa.array([item.source] * t.num_rows, pa.string()))
        dataset = item.source.split(":", 1)[0]
        tables.append(t.append_column("dataset", pa.array([dataset] * t.num_rows, pa.string())))
    table = pa.concat_tables(tables, promote_options="default") if tables else pa.table({})
    words = 0
    for col in BLOOM_COLUMNS:
        arrays, words = filter_words(table.column(col))
        index = table.schema.get_field_index(col)
        table = table.remove_column(index)
        for i, arr in enumerate(arrays):
            table = table.append_column(f"{col}_w{i}", arr)
    return table, words


def filter_words(column: pa.ChunkedArray) -> tuple[list[pa.Array], int]:
    """Split equal-length binary filters into 64-bit words (nulls stay null)."""
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    lengths = pc.binary_length(arr).drop_null()
    nbytes = int(pc.max(lengths).as_py() or 8) if len(lengths) else 8
    if len(lengths) and int(pc.min(lengths).as_py()) != nbytes:
        raise ValueError("Bloom filters of different lengths in one run")
    if nbytes % 8:
        raise ValueError(f"Bloom filters of {nbytes * 8} bits are not whole 64-bit words")
    words = nbytes // 8
    valid = pc.is_valid(arr)
    filled = pc.fill_null(arr, pa.scalar(b"\0" * nbytes, pa.binary())).cast(pa.binary())
    offsets = np.frombuffer(filled.buffers()[1], dtype=np.int32)[
        filled.offset : filled.offset + len(filled) + 1
    ]
    data = np.frombuffer(filled.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    matrix = data.view("<i8").reshape(len(filled), words)
    mask = ~np.asarray(valid.to_numpy(zero_copy_only=False), dtype=bool)
    out = [pa.array(np.ascontiguousarray(matrix[:, i]), mask=mask) for i in range(words)]
    return out, words


def one_to_one_clusters(rows: pa.Table, edges: pa.Table, sources: set[str]) -> pa.Table:
    """Re-cluster so that no person holds two records of a one-to-one source: links are
    taken strongest first, and a link that would join two records of such a source into
    one person is skipped (greedy, as Kruskal's algorithm builds a spanning forest)."""
    keys = rows.column("record_key").to_pylist()
    source_of = dict(zip(keys, rows.column("source").to_pylist(), strict=True))
    parent = {k: k for k in keys}
    held: dict[str, set[str]] = {
        k: ({source_of[k]} if source_of[k] in sources else set()) for k in keys
    }

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    order = edges.sort_by([("match_probability", "descending")])
    for left, right in zip(
        order.column("record_key_l").to_pylist(),
        order.column("record_key_r").to_pylist(),
        strict=True,
    ):
        a, b = find(left), find(right)
        if a == b or held[a] & held[b]:
            continue
        parent[a] = b
        held[b] |= held.pop(a)
    cluster = pa.array([find(k) for k in keys], pa.string())
    index = rows.schema.get_field_index("cluster_id")
    return rows.set_column(index, "cluster_id", cluster)


def _links_sql(clusters: str, predictions: str, threshold: float) -> str:
    # A record's match_probability is that of its strongest link inside its own cluster
    # (NULL for a record that matched nobody): an operator's view of how sure the join is.
    t = float(threshold)
    return f"""
        WITH edges AS (
            SELECT record_key_l AS k, match_probability AS p FROM {predictions}
              WHERE match_probability >= {t!r}
            UNION ALL
            SELECT record_key_r AS k, match_probability AS p FROM {predictions}
              WHERE match_probability >= {t!r}
        ), best AS (SELECT k, max(p) AS p FROM edges GROUP BY k)
        SELECT c.record_key, c.source, c.cluster_id, best.p AS p
        FROM {clusters} c LEFT JOIN best ON best.k = c.record_key
        """


def person_keys(links: pa.Table) -> dict[str, str]:
    """A links table (LINKS_SCHEMA) as record_key -> person_key."""
    return dict(
        zip(
            links.column("record_key").to_pylist(),
            links.column("person_key").to_pylist(),
            strict=True,
        )
    )


def _links_table(rows: pa.Table) -> pa.Table:
    rows = rows.sort_by([("cluster_id", "ascending"), ("record_key", "ascending")])
    clusters = rows.column("cluster_id").combine_chunks()
    distinct = pc.unique(clusters)
    # Person keys are random, not derived from any record key: a person key must not
    # lead back to a record.
    keys = pa.array(["PK" + secrets.token_hex(8) for _ in range(len(distinct))], pa.string())
    person = keys.take(pc.index_in(clusters, value_set=distinct))
    return pa.table(
        {
            "record_key": rows.column("record_key").cast(pa.string()),
            "source": rows.column("source").cast(pa.string()),
            "person_key": person,
            "match_probability": rows.column("p").cast(pa.float64()),
        },
        schema=LINKS_SCHEMA,
    )
