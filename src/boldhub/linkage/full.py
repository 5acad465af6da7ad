"""A full run: every record of every input linked into persons at once.

The model is trained (training.py), or a saved one is reused; blocked pairs are scored by
Splink on the backend's engine, or, for a small run with a saved model, by the same model
compiled to NumPy (compiled.py); the pairs are clustered into persons (clustering.py) and
each person gets a random key (links.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from splink import Linker

from boldhub.errors import NotCompilable
from boldhub.linkage import compiled, dice, model, quality
from boldhub.linkage.backends import RECORDS_TABLE, Backend, BackendName, open_backend
from boldhub.linkage.clustering import (
    cluster_pairs,
    edge_filter_sql,
    links_sql,
    one_to_one_clusters,
)
from boldhub.linkage.links import LinkResult, Step, links_table
from boldhub.linkage.records import LinkInput, load_records
from boldhub.linkage.training import train

log = logging.getLogger("boldhub.linkage")


def link(
    inputs: list[LinkInput],
    *,
    threshold: float,
    memory_limit: str = "2.5GB",
    temp_limit: str = "20GB",
    seed: int = 1,
    on_step: Step | None = None,
    backend: BackendName = "duckdb",
    spark_master: str = "local[*]",
    allowed_pairs: model.SourcePairs | None = None,
    one_to_one: Sequence[str] = (),
    trained: dict[str, Any] | None = None,
    one_to_one_threshold: float | None = None,
    compiled_max_records: int = 100_000,
    rng: np.random.Generator | None = None,
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
    the same model and weights, without Splink's per-run cost). ``rng`` draws the person
    keys (links.new_person_keys)."""
    step = on_step or (lambda _name: None)
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
                rng=rng,
            )
        except NotCompilable as exc:
            log.warning("scoring through Splink", extra={"reason": str(exc)[:120]})
        else:
            result.seconds["load"] = result.seconds["load"] - t0
            result.seconds["total"] = time.perf_counter() - t0
            return result
    engine = open_backend(
        backend, memory_limit=memory_limit, temp_limit=temp_limit, spark_master=spark_master
    )
    try:
        records = engine.register(table)
        del table
        # Arrow's allocator keeps freed blocks for reuse; the engine holds the records now.
        pa.default_memory_pool().release_unused()
        timings = {"load": time.perf_counter() - t0}
        linker = _linker(
            records,
            model.settings_dict(words, engine.dialect, allowed_pairs),
            trained,
            seed,
            step,
            timings,
        )
        step("scoring candidate pairs")
        t = time.perf_counter()
        filter_pairs = add_filter_pairs(linker, engine, candidates, allowed_pairs)
        predictions = linker.inference.predict(threshold_match_probability=quality.PAIR_FLOOR)
        timings["predict"] = time.perf_counter() - t
        step("clustering into persons")
        t = time.perf_counter()
        result = _clustered(
            engine, linker, records, predictions, threshold, one_to_one, one_to_one_threshold, rng
        )
        timings["cluster"] = time.perf_counter() - t
    finally:
        engine.close()
    timings["total"] = time.perf_counter() - t0
    result.seconds = timings
    result.filter_pairs = filter_pairs
    result.trained = trained is None
    return result


def _linker(
    records: Any,
    current: dict[str, Any],
    trained: dict[str, Any] | None,
    seed: int,
    step: Step,
    timings: dict[str, float],
) -> Linker:
    """A linker over the records: trained now, or with a saved model's parameters."""
    if trained is None:
        step("training the model")
        t = time.perf_counter()
        linker = train(records, current, seed=seed)
        timings["train"] = time.perf_counter() - t
        return linker
    # validate_settings=False: Splink's check parses every comparison's SQL to look for
    # misspelt columns (a third of a small run); ours are generated by model.py and
    # exercised by the tests on both dialects.
    return Linker(
        records, model.with_parameters(current, trained), log_level=None, validate_settings=False
    )


def _clustered(
    engine: Backend,
    linker: Linker,
    records: Any,
    predictions: Any,
    threshold: float,
    one_to_one: Sequence[str],
    one_to_one_threshold: float | None,
    rng: np.random.Generator | None,
) -> LinkResult:
    """Splink's predictions clustered into persons, with the counts the result reports."""
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
            + edge_filter_sql(threshold, one_to_one, one_to_one_threshold)
        )
        singles = (
            f"(SELECT record_key, source, record_key AS cluster_id FROM {records.physical_name})"
        )
        rows = engine.fetch(links_sql(singles, predictions.physical_name, threshold))
        rows = one_to_one_clusters(rows, edges, set(one_to_one))
    else:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        rows = engine.fetch(links_sql(clusters.physical_name, predictions.physical_name, threshold))
    links = links_table(rows, rng)
    return LinkResult(
        links=links,
        records=int(counts.column("n")[0].as_py()),
        persons=len(pc.unique(links.column("person_key"))),
        pairs_scored=int(counts.column("pairs")[0].as_py()),
        model_json=linker.misc.save_model_to_json(),
        pair_stats=engine.fetch(quality.pair_stats_sql(predictions.physical_name, threshold)),
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
    rng: np.random.Generator | None,
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
    rows = cluster_pairs(table, predictions, threshold, one_to_one, one_to_one_threshold)
    links = links_table(rows, rng)
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
