"""One linkage run: encodings in, person keys out, with Splink 5 on DuckDB.

The run trains the model unsupervised (``train``: names within the date-of-birth blocking,
other u by random sampling, m by EM on two blockings),
scores the blocked pairs, clusters them at the threshold, and gives every record a person
key. It reads only encodings: attributes never enter linkage.
"""

from __future__ import annotations

import binascii
import copy
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from splink import Linker

from boldhub.linkage import compiled, dice, model, quality
from boldhub.linkage.backends import RECORDS_TABLE, Backend, BackendName, open_backend

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
    # Candidate pairs found by blocking on the filters (add_filter_pairs).
    filter_pairs: int = 0
    # What scored the pairs: Splink's pipeline, or the saved model compiled (compiled.py).
    scorer: str = "splink"


Step = Callable[[str], None]


def link(
    inputs: list[LinkInput],
    *,
    threshold: float,
    memory_limit: str = "2.5GB",
    seed: int = 1,
    on_step: Step | None = None,
    backend: BackendName = "duckdb",
    spark_master: str = "local[*]",
    allowed_pairs: model.SourcePairs | None = None,
    one_to_one: Sequence[str] = (),
    trained: dict[str, Any] | None = None,
    one_to_one_threshold: float | None = None,
    compiled_max_records: int = 100_000,
) -> LinkResult:
    """Link every record of every input into persons (deduplicate and link at once).

    ``allowed_pairs`` limits which pairs of sources are compared (model.source_pairs_sql);
    ``one_to_one`` names sources that hold at most one record per person: their persons
    are re-formed greedily from the strongest links (one_to_one_clusters), which never
    puts two of their records in one person.

    ``one_to_one_threshold`` (default: ``threshold``) applies to links between two
    different one-to-one sources: such a link is taken only when it is the strongest left
    for both of its records, so a weaker one can be trusted than between free sources.

    ``trained`` is a model saved by an earlier run (its ``model_json``): the run scores
    with its parameters instead of training (model.with_parameters), so that a quarter's
    run need not re-estimate what the agreement's model already knows. Such a run of at
    most ``compiled_max_records`` records on DuckDB is scored with NumPy (compiled.py:
    the same model and weights, without Splink's per-run cost)."""
    step = on_step or (lambda _name: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    step("loading encodings")
    table, words = load_records(inputs)
    # Blocking on the filters runs on the Arrow table, before it is handed to the engine
    # and released: only one copy of the records is held while the engine works.
    candidates = dice.filter_candidates(table, words, model.FILTER_BLOCKING_DICE)
    if trained is not None and backend == "duckdb" and table.num_rows <= compiled_max_records:
        step("scoring candidate pairs")
        try:
            result = _link_compiled(
                table,
                words,
                candidates,
                trained,
                threshold=threshold,
                allowed_pairs=allowed_pairs,
                one_to_one=one_to_one,
                one_to_one_threshold=one_to_one_threshold,
            )
        except compiled.NotCompilable as exc:
            log.warning("scoring through Splink", extra={"reason": str(exc)[:120]})
        else:
            result.seconds["load"] = result.seconds["load"] - t0
            result.seconds["total"] = time.perf_counter() - t0
            return result
    engine = open_backend(backend, memory_limit=memory_limit, spark_master=spark_master)
    try:
        records = engine.register(table)
        del table
        # Arrow's allocator keeps freed blocks for reuse; the engine holds the records now.
        pa.default_memory_pool().release_unused()
        timings["load"] = time.perf_counter() - t0
        current = model.settings_dict(words, engine.dialect, allowed_pairs)
        # validate_settings=False: Splink's check parses every comparison's SQL to look for
        # misspelt columns (a third of a small run); ours are generated by model.py and
        # exercised by the tests on both dialects.
        if trained is None:
            step("training the model")
            t = time.perf_counter()
            linker = train(records, current, seed=seed)
            timings["train"] = time.perf_counter() - t
        else:
            linker = Linker(
                records,
                model.with_parameters(current, trained),
                log_level=None,
                validate_settings=False,
            )

        step("scoring candidate pairs")
        t = time.perf_counter()
        filter_pairs = add_filter_pairs(linker, engine, candidates, allowed_pairs)
        predictions = linker.inference.predict(threshold_match_probability=quality.PAIR_FLOOR)
        timings["predict"] = time.perf_counter() - t

        step("clustering into persons")
        t = time.perf_counter()
        counts = engine.fetch(
            f"SELECT (SELECT count(*) FROM {records.physical_name}) AS n, "
            f"(SELECT count(*) FROM {predictions.physical_name}) AS pairs"
        )
        if one_to_one:
            # one_to_one_clusters builds every person from the links itself, so Splink's
            # connected components would be thrown away: start from single records.
            edges = engine.fetch(
                f"SELECT record_key_l, record_key_r, match_probability FROM "
                f"{predictions.physical_name} WHERE "
                + _edge_filter_sql(threshold, one_to_one, one_to_one_threshold)
            )
            singles = f"(SELECT record_key, source, record_key AS cluster_id FROM {records.physical_name})"
            rows = engine.fetch(_links_sql(singles, predictions.physical_name, threshold))
            rows = one_to_one_clusters(rows, edges, set(one_to_one))
        else:
            clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=threshold
            )
            rows = engine.fetch(
                _links_sql(clusters.physical_name, predictions.physical_name, threshold)
            )
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
        filter_pairs=filter_pairs,
    )


def _link_compiled(
    table: pa.Table,
    words: int,
    candidates: pa.Table,
    trained: dict[str, Any],
    *,
    threshold: float,
    allowed_pairs: model.SourcePairs | None,
    one_to_one: Sequence[str],
    one_to_one_threshold: float | None,
) -> LinkResult:
    """``link`` for a saved model, scored by compiled.predict: the same predictions as
    Splink's, clustered as the Splink path clusters them."""
    timings = {"load": time.perf_counter()}
    t = time.perf_counter()
    settings = model.with_parameters(model.settings_dict(words, "duckdb", allowed_pairs), trained)
    allowed = model.source_pairs_sql(allowed_pairs) if allowed_pairs is not None else "TRUE"
    predictions = compiled.predict(settings, table, candidates, allowed, quality.PAIR_FLOOR)
    timings["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    p = predictions.column("match_probability").to_numpy()
    strong = p >= threshold
    edges = strong
    if one_to_one and one_to_one_threshold is not None:
        sources = pa.array(sorted(one_to_one), pa.string())
        both = pc.and_(
            pc.and_(
                pc.is_in(predictions.column("source_l"), value_set=sources),
                pc.is_in(predictions.column("source_r"), value_set=sources),
            ),
            pc.not_equal(predictions.column("source_l"), predictions.column("source_r")),
        ).to_numpy(zero_copy_only=False)
        edges = strong | (both & (p >= one_to_one_threshold))
    keys = table.column("record_key").combine_chunks()
    # A record's probability: that of its strongest link at the threshold (_links_sql).
    ends = pa.concat_arrays(
        [
            predictions.column("record_key_l").combine_chunks().filter(pa.array(strong)),
            predictions.column("record_key_r").combine_chunks().filter(pa.array(strong)),
        ]
    )
    ps = np.concatenate([p[strong], p[strong]])
    best = np.full(len(keys), np.nan)
    where = np.asarray(pc.index_in(ends, value_set=keys).to_numpy(zero_copy_only=False), np.int64)
    np.fmax.at(best, where, ps)
    rows = pa.table(
        {
            "record_key": keys,
            "source": table.column("source").combine_chunks(),
            "cluster_id": keys,
            "p": pa.array(best, mask=np.isnan(best)),
        }
    )
    chosen = predictions.filter(pa.array(edges))
    links = _links_table(one_to_one_clusters(rows, chosen, set(one_to_one)))
    timings["cluster"] = time.perf_counter() - t
    return LinkResult(
        links=links,
        records=table.num_rows,
        persons=len(pc.unique(links.column("person_key"))),
        pairs_scored=predictions.num_rows,
        seconds=timings,
        model_json=settings,
        pair_stats=quality.pair_stats(predictions, threshold),
        filter_pairs=int(candidates.num_rows),
        scorer="numpy",
    )


def add_filter_pairs(
    linker: Linker,
    engine: Backend,
    extra: pa.Table,
    allowed_pairs: model.SourcePairs | None,
) -> int:
    """Blocking on the filters (``extra``, from dice.filter_candidates) on top of the
    model's keyed rules: the pairs only it finds are added to the pairs Splink will score.
    Returns how many candidates it found (before removing those the rules found too)."""
    if extra.num_rows == 0:
        return 0
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    engine.load("bh_filter_pairs", extra)
    pairs = engine.create(
        "bh_blocked_pairs",
        model.with_filter_pairs_sql(
            blocked.physical_name, "bh_filter_pairs", RECORDS_TABLE, allowed_pairs
        ),
    )
    linker.table_management.register_blocked_pairs_for_predict(pairs)
    return int(extra.num_rows)


def train(records: Any, settings: dict[str, Any], *, seed: int = 1) -> Linker:
    """Unsupervised training; returns the trained linker.

    1. The name comparisons (null unless the pair shares a salt, i.e. a date of birth:
       model.SAME_SALT) get u from one EM session blocked on the date of birth with u
       free. Random sampling cannot give it: among pairs of one date of birth a large
       share are the same person (a person's records share it), so "random" pairs that
       agree on a name are mostly true matches. Those u are then fixed.
    2. lambda from deterministic rules, every other u by random sampling, and m by EM on
       the two training blockings (model.TRAINING_BLOCKING_RULES).
    """
    names = _name_u(records, settings)
    linker = Linker(records, with_fixed_u(settings, names), log_level=None, validate_settings=False)
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
    return linker


# The smallest u a name level gets from the names' EM session: below it EM has seen too
# few non-matching pairs at that level to say more than "rare" (an exact name then weighs
# at most about 12 bits, as much as an exact date of birth among a few thousand).
MIN_NAME_U = 1e-4


def _name_u(records: Any, settings: dict[str, Any]) -> dict[tuple[str, str], float]:
    """(comparison, level label) -> u of the name comparisons' levels, from an EM session
    on the date-of-birth blocking with u estimated too (see ``train``)."""
    linker = Linker(records, settings, log_level=None, validate_settings=False)
    linker.training.estimate_probability_two_random_records_match(
        list(model.DETERMINISTIC_RULES), recall=0.7
    )
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(
            model.TRAINING_BLOCKING_RULES[0],
            estimate_without_term_frequencies=True,
            fix_u_probabilities=False,
            max_pairs=model.EM_MAX_PAIRS,
        )
    except ValueError as exc:
        log.warning("name EM session skipped", extra={"reason": str(exc)[:120]})
        return {}
    found: dict[tuple[str, str], float] = {}
    for comparison in linker.misc.save_model_to_json()["comparisons"]:
        if comparison["output_column_name"] not in model.NAME_COMPARISONS:
            continue
        for level in comparison["comparison_levels"]:
            u = level.get("u_probability")
            # A u that EM drove to (nearly) zero says only that no non-matching pair of
            # this blocking showed the level (few non-matches share a date of birth in a
            # small input): cap the evidence such a level can give instead.
            if isinstance(u, float):
                key = (comparison["output_column_name"], level["label_for_charts"])
                found[key] = max(u, MIN_NAME_U)
    return found


def with_fixed_u(settings: dict[str, Any], values: dict[tuple[str, str], float]) -> dict[str, Any]:
    """``settings`` with the given levels' u set and fixed against later training."""
    out = copy.deepcopy(settings)
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            found = values.get((comparison["output_column_name"], level["label_for_charts"]))
            if found is not None:
                level["u_probability"] = found
                level["fix_u_probability"] = True
    return out


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
    one person is skipped (greedy, as Kruskal's algorithm builds a spanning forest).
    With no ``sources`` this is connected components of ``edges``."""
    keys = rows.column("record_key").combine_chunks()
    source = pc.dictionary_encode(rows.column("source").combine_chunks())
    names = source.dictionary.to_pylist()
    flagged = [name for name in names if name in sources]
    if len(flagged) > 62:
        raise ValueError("more than 62 one-to-one sources in one run")
    # Each record's one-to-one source as one bit, so that a person's sources are a mask.
    bit = np.array([1 << flagged.index(n) if n in sources else 0 for n in names] + [0], np.int64)
    held = bit[compiled.indices(source)]
    order = np.argsort(-edges.column("match_probability").to_numpy(), kind="stable")
    left = compiled.indices(pc.index_in(edges.column("record_key_l"), value_set=keys))[order]
    right = compiled.indices(pc.index_in(edges.column("record_key_r"), value_set=keys))[order]
    if (left < 0).any() or (right < 0).any():
        raise ValueError("an edge names a record that is not in the run")
    root = greedy_forest(left, right, held)
    index = rows.schema.get_field_index("cluster_id")
    return rows.set_column(index, "cluster_id", keys.take(pa.array(root)))


@numba.njit(cache=True, nogil=True)
def greedy_forest(
    left: npt.NDArray[np.int64], right: npt.NDArray[np.int64], held: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:  # pragma: no cover - compiled
    """Union-find over the edges (``left[i]``, ``right[i]``) in the order given, skipping an
    edge whose two trees both hold a bit of ``held`` (a one-to-one source): each record's
    root (one_to_one_clusters)."""
    n = len(held)
    parent = np.arange(n)
    mask = held.copy()
    for e in range(len(left)):
        a = left[e]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = right[e]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a == b or (mask[a] & mask[b]) != 0:
            continue
        parent[a] = b
        mask[b] |= mask[a]
    root = np.empty(n, dtype=np.int64)
    for i in range(n):
        r = i
        while parent[r] != r:
            r = parent[r]
        root[i] = r
    return root


def _edge_filter_sql(
    threshold: float, one_to_one: Sequence[str], one_to_one_threshold: float | None
) -> str:
    """Which scored pairs are links: at or above ``threshold``, or between two different
    one-to-one sources at or above ``one_to_one_threshold``."""
    t = f"match_probability >= {float(threshold)!r}"
    if one_to_one_threshold is None or not one_to_one:
        return t
    names = ", ".join(model.sql_literal(s) for s in sorted(one_to_one))
    return (
        f"({t} OR (match_probability >= {float(one_to_one_threshold)!r} "
        f"AND source_l IN ({names}) AND source_r IN ({names}) AND source_l <> source_r))"
    )


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
    person = _person_keys(len(distinct)).take(pc.index_in(clusters, value_set=distinct))
    return pa.table(
        {
            "record_key": rows.column("record_key").cast(pa.string()),
            "source": rows.column("source").cast(pa.string()),
            "person_key": person,
            "match_probability": rows.column("p").cast(pa.float64()),
        },
        schema=LINKS_SCHEMA,
    )


def _person_keys(n: int) -> pa.Array:
    """``n`` random person keys, ``PK`` and 16 hex digits (64 random bits) each."""
    hexed = np.frombuffer(binascii.hexlify(secrets.token_bytes(8 * n)), np.uint8).reshape(n, 16)
    text = np.hstack([np.tile(np.frombuffer(b"PK", np.uint8), (n, 1)), hexed])
    offsets = np.arange(0, (n + 1) * 18, 18, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(text.tobytes())]
    )
