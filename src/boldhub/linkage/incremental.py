"""An incremental run: only the new records, linked into the persons of a previous run.

With the model the previous run used, it scores the blocked pairs between new and existing
records and among the new records, and leaves every pair of existing records as it was;
keys.attach then gives the new records their persons (see keys.py for merges). The pairs
are scored on the backend's engine (DuckDB or Spark) through Splink's predict_between and
predict_within, or, for a small run on DuckDB, by the compiled model (the same pairs and
weights).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from splink import Linker

from boldhub.errors import NotCompilable
from boldhub.linkage import compiled, model
from boldhub.linkage.backends import Backend, BackendName, open_backend
from boldhub.linkage.keys import attach
from boldhub.linkage.links import LinkResult, Scorer
from boldhub.linkage.quality import PAIR_FLOOR, pair_stats, pair_stats_sql
from boldhub.linkage.records import LinkInput, aligned, load_records

log = logging.getLogger("boldhub.linkage")

_PAIR_COLUMNS = "record_key_l, record_key_r, match_probability, match_weight"


def link_incremental(
    previous_links: pa.Table,
    existing: list[LinkInput],
    new: list[LinkInput],
    model_json: dict[str, object],
    *,
    threshold: float,
    memory_limit: str = "2.5GB",
    temp_limit: str = "20GB",
    backend: BackendName = "duckdb",
    spark_master: str = "local[*]",
    compiled_max_records: int = 100_000,
    allowed_pairs: model.SourcePairs | None = None,
    rng: np.random.Generator | None = None,
) -> LinkResult:
    """Link the records of ``new`` into the persons of ``previous_links`` (which covers the
    records of ``existing``) with the trained model ``model_json``. On DuckDB, up to
    ``compiled_max_records`` records in all, the pairs are scored by compiled.predict.

    The model's parameters are carried into the current settings in the engine's dialect
    (model.with_parameters), as a full run with a saved model does: a model trained on
    DuckDB scores on Spark. It raises ModelMismatch when they no longer fit."""
    t0 = time.perf_counter()
    old_table, words = load_records(existing)
    new_table, _ = load_records(new)
    new_rows = new_table.select(["record_key", "source"])
    pairs: pa.Table | None = None
    scorer: Scorer = "numpy"
    if backend == "duckdb" and old_table.num_rows + new_table.num_rows <= compiled_max_records:
        try:
            settings = model.with_parameters(
                model.settings_dict(words, "duckdb", allowed_pairs), dict(model_json)
            )
            pairs = _compiled_pairs(old_table, new_table, settings)
        except NotCompilable as exc:
            log.warning("scoring through Splink", extra={"reason": str(exc)[:120]})
    load = time.perf_counter() - t0
    t = time.perf_counter()
    if pairs is None:
        scorer = "splink"
        engine = open_backend(
            backend, memory_limit=memory_limit, temp_limit=temp_limit, spark_master=spark_master
        )
        try:
            settings = model.with_parameters(
                model.settings_dict(words, engine.dialect, allowed_pairs), dict(model_json)
            )
            pairs, stats = _engine_pairs(engine, old_table, new_table, settings, threshold)
        finally:
            engine.close()
    else:
        stats = pair_stats(pairs, threshold)
    del old_table, new_table
    predict = time.perf_counter() - t
    t = time.perf_counter()
    links, changes = attach(previous_links, new_rows, pairs, threshold, rng)
    timings = {"load": load, "predict": predict, "cluster": time.perf_counter() - t}
    timings["total"] = time.perf_counter() - t0
    return LinkResult(
        links=links,
        records=links.num_rows,
        persons=len(pc.unique(links.column("person_key"))),
        pairs_scored=stats_pairs(stats),
        seconds=timings,
        model_json=dict(model_json),
        pair_stats=stats,
        scorer=scorer,
        mode="incremental",
        new_records=new_rows.num_rows,
        changes=changes,
    )


def stats_pairs(stats: pa.Table) -> int:
    """How many pairs were scored, from the per-weight pair counts."""
    return int(pc.sum(stats.column("pairs")).as_py() or 0) if stats.num_rows else 0


def _compiled_pairs(
    old_table: pa.Table, new_table: pa.Table, model_json: dict[str, object]
) -> pa.Table:
    table = pa.concat_tables([old_table, new_table], promote_options="default")
    is_new = np.zeros(table.num_rows, dtype=np.bool_)
    is_new[old_table.num_rows :] = True
    # No filter-blocking pairs and no allowed-pairs condition beyond the rules': what the
    # engine path scores.
    return compiled.predict(model_json, table, None, "TRUE", PAIR_FLOOR, involving=is_new)


def _engine_pairs(
    engine: Backend,
    old_table: pa.Table,
    new_table: pa.Table,
    model_json: dict[str, object],
    threshold: float,
) -> tuple[pa.Table, pa.Table]:
    """The scored pairs that involve a new record (every pair of at least PAIR_FLOOR)
    and their per-weight statistics, computed by Splink on the engine."""
    old_table, new_table = aligned(old_table, new_table)
    old_sdf = engine.register_as("records_old", old_table)
    new_sdf = engine.register_as("records_new", new_table)
    records = engine.create(
        "records", "SELECT * FROM records_old UNION ALL SELECT * FROM records_new"
    )
    linker = Linker(records, model_json, log_level=None, validate_settings=False)
    # Term frequencies over every record, as a full run would see them.
    for col in model.TF_COLUMNS:
        linker.table_management.compute_tf_table(col)
    between = linker.inference.predict_between(
        old_sdf, new_sdf, threshold_match_probability=PAIR_FLOOR, warning_mode="never"
    )
    within = linker.inference.predict_within(
        new_sdf, threshold_match_probability=PAIR_FLOOR, warning_mode="never"
    )
    engine.create(
        "bh_new_pairs",
        f"SELECT {_PAIR_COLUMNS} FROM {between.physical_name} "
        f"UNION ALL SELECT {_PAIR_COLUMNS} FROM {within.physical_name}",
    )
    stats = engine.fetch(pair_stats_sql("bh_new_pairs", threshold))
    # Only links change persons; weaker pairs count in the statistics above.
    links = engine.fetch(
        f"SELECT {_PAIR_COLUMNS} FROM bh_new_pairs WHERE match_probability >= {float(threshold)!r}"
    )
    return links, stats
