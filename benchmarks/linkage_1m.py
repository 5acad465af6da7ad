"""About 1,000,000 synthetic records from several sources: BOLD Hub on encodings against
Splink on the same records in clear, each in its own process, in one run.

    .venv/bin/python -m benchmarks.linkage_1m [--persons 428000]

Records: boldhub.synth's population (homelessness per council, probation, treatment,
victims; about 2.4 records per person), prepared as each owner would, then encoded
(benchmarks/linkage_data.py; made once, cached, not timed). BOLD Hub links the encodings
with its model (DuckDB, default threshold); Splink links the same prepared identifiers in
clear with Splink's own comparisons and the same unsupervised training
(boldhub.evaluation.clear_settings). Reported for each: wall time of the link,
peak memory (max RSS of its process up to the end of the link, and over the whole process
including the evaluation), pairwise precision, recall and F1 against the truth,
and blocking recall (the share of true pairs that any prediction blocking rule proposes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Hashable

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.linkage_data import encoded_world
from boldhub.config import Settings
from boldhub.evaluation import run_splink_clear
from boldhub.linkage import model
from boldhub.linkage.evaluate import pairwise_scores
from boldhub.linkage.full import link
from boldhub.linkage.links import person_keys

THRESHOLD = Settings.model_fields["linkage_threshold"].default
CLEAR_RULES = (
    "l.dob = r.dob",
    "l.surname = r.surname AND substr(l.forename, 1, 1) = substr(r.forename, 1, 1)",
    "l.postcode = r.postcode AND substr(l.surname, 1, 1) = substr(r.surname, 1, 1)",
    "substr(l.dob, 6, 5) = substr(r.dob, 6, 5) AND substr(l.forename, 1, 1) = "
    "substr(r.forename, 1, 1) AND substr(l.surname, 1, 1) = substr(r.surname, 1, 1)",
    "l.nhs_number = r.nhs_number",
    "l.ni_number = r.ni_number",
)


def blocking_recall(
    table: pa.Table,
    truth: dict[str, str],
    rules: tuple[str, ...],
    extra_pairs: pa.Table | None = None,
) -> float:
    """Share of true pairs (same true person) that satisfy at least one rule, or are
    among ``extra_pairs`` (record_key_l < record_key_r: BOLD Hub's blocking on filters).
    A rule over exploded lists (model.EXPLODED) holds when the lists share a token."""
    con = duckdb.connect()
    person = pa.table({"k": pa.array(list(truth)), "person": pa.array([truth[k] for k in truth])})
    con.register("t", table)
    con.register("truth", person)
    con.execute(
        "CREATE TABLE x AS SELECT t.*, truth.person FROM t JOIN truth ON truth.k = t.record_key"
    )
    terms = []
    for rule in rules:
        for col in model.EXPLODED.get(rule, []):
            rule = rule.replace(f"l.{col} = r.{col}", f"list_has_any(l.{col}, r.{col})")
        terms.append(f"({rule})")
    if extra_pairs is not None:
        con.register("extra", extra_pairs)
        terms.append(
            "EXISTS (SELECT 1 FROM extra e WHERE e.record_key_l = l.record_key "
            "AND e.record_key_r = r.record_key)"
        )
    total, hit = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {' OR '.join(terms)}) "
        "FROM x l JOIN x r ON l.person = r.person AND l.record_key < r.record_key"
    ).fetchall()[0]
    return hit / total if total else 1.0


def side(name: str, persons: int) -> dict[str, float]:
    world = encoded_world(persons)
    if name == "boldhub":
        start = time.perf_counter()
        result = link(
            world.inputs, threshold=THRESHOLD, memory_limit=Settings().duckdb_memory_limit
        )
        seconds = time.perf_counter() - start
        link_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        predicted = person_keys(result.links)
        from boldhub.linkage.dice import filter_candidates
        from boldhub.linkage.records import load_records

        table, words = load_records(world.inputs)
        extra = filter_candidates(table, words, model.FILTER_BLOCKING_DICE)
        table = table.select(
            [c for c in table.column_names if not c.startswith(("fn_bf", "sn_bf"))]
        )
        rules = model.PREDICTION_BLOCKING_RULES
    else:
        clear = pa.concat_tables(pq.read_table(p) for p in world.prepared.values())
        table = clear
        start = time.perf_counter()
        predicted, seconds = run_splink_clear(
            clear.rename_columns(
                ["row_id" if c == "record_key" else c for c in clear.column_names]
            ),
            threshold=THRESHOLD,
        )
        link_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rules = CLEAR_RULES
        extra = None
    truth: dict[Hashable, Hashable] = {k: world.truth[str(k)] for k in predicted}
    s = pairwise_scores(predicted, truth)
    return {
        "records": len(predicted),
        "seconds": seconds,
        # Peak memory up to the end of the link, before the evaluation's own tables.
        "link_peak_rss_gib": link_rss / 1024**2,
        "precision": s.precision,
        "recall": s.recall,
        "f1": s.f1,
        "blocking_recall": blocking_recall(table, world.truth, rules, extra),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=428_000)
    parser.add_argument("--side", choices=["boldhub", "splink"])
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side, args.persons)))
        return
    t = time.perf_counter()
    world = encoded_world(args.persons)
    print(f"records made and encoded in {time.perf_counter() - t:.0f} s (cached)", flush=True)
    _ = world
    for name in ("boldhub", "splink"):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.linkage_1m",
                "--side",
                name,
                "--persons",
                str(args.persons),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"{name} failed with exit code {proc.returncode}")
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{name:8s} records={r['records']:,} f1={r['f1']:.4f} precision={r['precision']:.4f} "
            f"recall={r['recall']:.4f} blocking_recall={r['blocking_recall']:.4f} "
            f"seconds={r['seconds']:.1f} link_peak_rss_gib={r['link_peak_rss_gib']:.2f} "
            f"process_peak_rss_gib={usage.ru_maxrss / 1024**2:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
