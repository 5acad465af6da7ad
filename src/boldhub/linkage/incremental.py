"""Stable person keys across runs: incremental runs, and carrying keys through full runs.

An **incremental run** links only the new records, with the model a previous run trained:
it scores the blocked pairs between new and existing records and among the new records,
and leaves every pair of existing records as it was. New records that link to nobody
become new persons; those that link to one existing person join it; those that bring two
or more existing persons together **merge** them, and the merged person keeps the key of
the one with the most records (ties: the smaller key). A person key that no new record
touches never changes.

A **full run** re-trains and re-clusters everything; `carry_keys` then gives each new
cluster the previous key its records held, so keys survive a full run too: a previous
person whose records now fall into several clusters has **split** (the cluster with most
of its records keeps the key), and clusters holding several previous persons have merged.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from splink import DuckDBAPI, Linker

from boldhub.linkage import compiled, model
from boldhub.linkage.quality import PAIR_FLOOR, pair_stats, pair_stats_sql
from boldhub.linkage.run import LINKS_SCHEMA, LinkInput, load_records

log = logging.getLogger("boldhub.linkage")


@dataclass
class KeyChanges:
    """Merges ``{"into": key, "from": [keys]}`` and splits ``{"from": key, "into": [keys]}``
    between two runs' person keys, and how many persons are new."""

    merges: list[dict[str, Any]] = field(default_factory=list)
    splits: list[dict[str, Any]] = field(default_factory=list)
    new_persons: int = 0

    def summary(self, limit: int = 1000) -> dict[str, Any]:
        return {
            "merges": len(self.merges),
            "splits": len(self.splits),
            "new_persons": self.new_persons,
            "merge_list": self.merges[:limit],
            "split_list": self.splits[:limit],
        }


@dataclass
class IncrementalResult:
    links: pa.Table
    records: int
    new_records: int
    persons: int
    pairs_scored: int
    changes: KeyChanges
    seconds: dict[str, float] = field(default_factory=dict)
    pair_stats: pa.Table | None = None
    scorer: str = "splink"


def _new_key() -> str:
    return "PK" + secrets.token_hex(8)


def _survivor(keys: set[str], sizes: Counter[str]) -> str:
    return min(keys, key=lambda k: (-sizes[k], k))


class _Components:
    """Union-find over hashable nodes."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, x: Any) -> Any:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: Any, b: Any) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def link_incremental(
    previous_links: pa.Table,
    existing: list[LinkInput],
    new: list[LinkInput],
    model_json: dict[str, Any],
    *,
    threshold: float,
    memory_limit: str = "2.5GB",
    compiled_max_records: int = 100_000,
) -> IncrementalResult:
    """Link the records of ``new`` into the persons of ``previous_links`` (which covers the
    records of ``existing``) with the trained model ``model_json``. Up to
    ``compiled_max_records`` records in all, the pairs are scored by compiled.predict (the
    same pairs and weights as Splink's predict_between and predict_within)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    old_table, _ = load_records(existing)
    new_table, _ = load_records(new)
    if old_table.num_rows + new_table.num_rows <= compiled_max_records:
        try:
            return _incremental_compiled(
                previous_links, old_table, new_table, model_json, threshold, t0
            )
        except compiled.NotCompilable as exc:
            log.warning("scoring through Splink", extra={"reason": str(exc)[:120]})
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit.replace(chr(39), '')}'")
    con.execute("SET preserve_insertion_order = false")
    con.register("old_arrow", old_table)
    con.register("new_arrow", new_table)
    con.execute("CREATE TABLE records_old AS SELECT * FROM old_arrow")
    con.execute("CREATE TABLE records_new AS SELECT * FROM new_arrow")
    con.execute(
        "CREATE TABLE records AS SELECT * FROM records_old UNION ALL BY NAME "
        "SELECT * FROM records_new"
    )
    del old_table, new_table
    timings["load"] = time.perf_counter() - t0

    t = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    linker = Linker(
        db_api.register("records"), dict(model_json), log_level=None, validate_settings=False
    )
    # Term frequencies over every record, as a full run would see them.
    for col in model.TF_COLUMNS:
        linker.table_management.compute_tf_table(col)
    old_sdf = db_api.register("records_old")
    new_sdf = db_api.register("records_new")
    between = linker.inference.predict_between(
        old_sdf, new_sdf, threshold_match_probability=PAIR_FLOOR, warning_mode="never"
    )
    within = linker.inference.predict_within(
        new_sdf, threshold_match_probability=PAIR_FLOOR, warning_mode="never"
    )
    con.execute(
        f"CREATE TABLE new_pairs AS SELECT record_key_l, record_key_r, match_probability, "
        f"match_weight FROM {between.physical_name} UNION ALL SELECT record_key_l, "
        f"record_key_r, match_probability, match_weight FROM {within.physical_name}"
    )
    scored = con.sql("SELECT count(*) FROM new_pairs").fetchall()[0][0]
    stats = con.sql(pair_stats_sql("new_pairs", threshold)).to_arrow_table()
    edges = con.execute(
        "SELECT record_key_l, record_key_r, match_probability FROM new_pairs "
        "WHERE match_probability >= ?",
        [threshold],
    ).fetchall()
    new_rows = con.sql("SELECT record_key, source FROM records_new").fetchall()
    con.close()
    timings["predict"] = time.perf_counter() - t
    return _attached(previous_links, new_rows, edges, timings, t0, int(scored), stats, "splink")


def _incremental_compiled(
    previous_links: pa.Table,
    old_table: pa.Table,
    new_table: pa.Table,
    model_json: dict[str, Any],
    threshold: float,
    t0: float,
) -> IncrementalResult:
    timings = {"load": time.perf_counter() - t0}
    t = time.perf_counter()
    table = pa.concat_tables([old_table, new_table], promote_options="default")
    is_new = np.zeros(table.num_rows, dtype=np.bool_)
    is_new[old_table.num_rows :] = True
    # No filter-blocking pairs and no allowed-pairs condition beyond the saved rules':
    # what the Splink path scores.
    pairs = compiled.predict(model_json, table, None, "TRUE", PAIR_FLOOR, involving=is_new)
    strong = pairs.filter(pc.greater_equal(pairs.column("match_probability"), threshold))
    edges = list(
        zip(
            strong.column("record_key_l").to_pylist(),
            strong.column("record_key_r").to_pylist(),
            strong.column("match_probability").to_pylist(),
            strict=True,
        )
    )
    new_rows = list(
        zip(
            new_table.column("record_key").to_pylist(),
            new_table.column("source").to_pylist(),
            strict=True,
        )
    )
    timings["predict"] = time.perf_counter() - t
    stats = pair_stats(pairs, threshold)
    return _attached(previous_links, new_rows, edges, timings, t0, pairs.num_rows, stats, "numpy")


def _attached(
    previous_links: pa.Table,
    new_rows: list[tuple[str, str]],
    edges: list[tuple[str, str, float]],
    timings: dict[str, float],
    t0: float,
    pairs_scored: int,
    stats: pa.Table,
    scorer: str,
) -> IncrementalResult:
    """The new records attached to the known persons by the scored ``edges`` (either
    scorer's), as the run's result."""
    t = time.perf_counter()
    links, changes = _attach(previous_links, new_rows, edges)
    timings["cluster"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return IncrementalResult(
        links=links,
        records=links.num_rows,
        new_records=len(new_rows),
        persons=len(pc.unique(links.column("person_key"))),
        pairs_scored=pairs_scored,
        changes=changes,
        seconds=timings,
        pair_stats=stats,
        scorer=scorer,
    )


def _attach(
    previous: pa.Table,
    new_rows: list[tuple[str, str]],
    edges: list[tuple[str, str, float]],
) -> tuple[pa.Table, KeyChanges]:
    prev_keys = previous.column("record_key").to_pylist()
    prev_persons = previous.column("person_key").to_pylist()
    person_of = dict(zip(prev_keys, prev_persons, strict=True))
    sizes: Counter[str] = Counter(prev_persons)
    new_keys = {k for k, _ in new_rows}
    comps = _Components()
    best: dict[str, float] = {}
    for left, right, p in edges:
        # Existing records stand for their person: a new record that links to any record
        # of a person links to the person.
        a = ("R", left) if left in new_keys else ("P", person_of[left])
        b = ("R", right) if right in new_keys else ("P", person_of[right])
        comps.union(a, b)
        for k in (left, right):
            best[k] = max(best.get(k, 0.0), p)
    members: dict[Any, list[tuple[str, str]]] = defaultdict(list)
    for key in new_keys:
        comps.find(("R", key))
    for node in list(comps.parent):
        members[comps.find(node)].append(node)
    changes = KeyChanges()
    renamed: dict[str, str] = {}
    assigned: dict[str, str] = {}
    for nodes in members.values():
        persons = {v for kind, v in nodes if kind == "P"}
        records = [v for kind, v in nodes if kind == "R"]
        if not persons:
            key = _new_key()
            changes.new_persons += 1
        else:
            key = _survivor(persons, sizes)
            others = sorted(persons - {key})
            if others:
                changes.merges.append({"into": key, "from": others})
                for o in others:
                    renamed[o] = key
        for r in records:
            assigned[r] = key
    out_persons = [renamed.get(p, p) for p in prev_persons]
    probs = previous.column("match_probability").to_pylist()
    for i, k in enumerate(prev_keys):
        if k in best and (probs[i] is None or best[k] > probs[i]):
            probs[i] = best[k]
    keys = prev_keys + [k for k, _ in new_rows]
    table = pa.table(
        {
            "record_key": keys,
            "source": previous.column("source").to_pylist() + [s for _, s in new_rows],
            "person_key": out_persons + [assigned[k] for k, _ in new_rows],
            "match_probability": probs + [best.get(k) for k, _ in new_rows],
        },
        schema=LINKS_SCHEMA,
    )
    return table, changes


def carry_keys(links: pa.Table, previous: pa.Table) -> tuple[pa.Table, KeyChanges]:
    """Give a full run's clusters the person keys their records held in ``previous``."""
    con = duckdb.connect()
    con.register("cur", links.select(["record_key", "person_key"]))
    con.register("prev", previous.select(["record_key", "person_key"]))
    overlap = con.sql(
        "SELECT c.person_key AS cur, p.person_key AS prev, count(*) AS n "
        "FROM cur c JOIN prev p USING (record_key) GROUP BY ALL"
    ).fetchall()
    con.close()
    # Each previous key's heir is the current cluster holding most of its records.
    by_prev: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for cur, prev, n in overlap:
        by_prev[prev].append((n, cur))
    heirs: dict[str, list[tuple[int, str]]] = defaultdict(list)
    changes = KeyChanges()
    for spread in by_prev.values():
        spread.sort(key=lambda x: (-x[0], x[1]))
    for prev, spread in by_prev.items():
        heirs[spread[0][1]].append((spread[0][0], prev))
    rename: dict[str, str] = {}
    for cur, prevs in heirs.items():
        prevs.sort(key=lambda x: (-x[0], x[1]))
        rename[cur] = prevs[0][1]
        if len(prevs) > 1:
            changes.merges.append({"into": prevs[0][1], "from": sorted(p for _, p in prevs[1:])})
    for prev, spread in sorted(by_prev.items()):
        if len(spread) > 1:
            # The cluster with most of the person's records kept (or merged) its key; the
            # records it lost are in clusters with other keys.
            into = sorted({rename.get(cur, cur) for _n, cur in spread[1:]})
            changes.splits.append({"from": prev, "into": into})
    current = links.column("person_key").to_pylist()
    changes.new_persons = len(set(current) - set(rename))
    carried = pa.array([rename.get(p, p) for p in current], pa.string())
    index = links.schema.get_field_index("person_key")
    return links.set_column(index, "person_key", carried), changes
