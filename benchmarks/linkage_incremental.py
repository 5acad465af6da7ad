"""Incremental linkage against a full run: the time to link 10% new records into the
persons of a run over the other 90%, and whether any untouched person key changed.

    .venv/bin/python -m benchmarks.linkage_incremental [--persons 14000] [--runs 3]

Records: a synthetic population (boldhub.synth, several sources, known truth) prepared and
encoded as each owner would (benchmarks/linkage_data.py). Each source's last 10% of rows
is "the new quarter". A full run links everything (train, score, cluster); the incremental
run links the new 10% into a base run over the first 90% with that run's model. Medians of
``--runs``; F1 is pairwise against the truth.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.linkage_data import encoded_world
from boldhub.linkage.evaluate import pairwise_scores
from boldhub.linkage.full import link
from boldhub.linkage.incremental import link_incremental
from boldhub.linkage.links import person_keys
from boldhub.linkage.records import LinkInput

THRESHOLD = 0.7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=14000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    world = encoded_world(args.persons)
    split = world.root / "split"
    split.mkdir(exist_ok=True)
    old, new = [], []
    for i, item in enumerate(world.inputs):
        table = pq.read_table(item.encodings)
        cut = int(table.num_rows * 0.9)
        pq.write_table(table.slice(0, cut), split / f"old{i}.parquet")
        pq.write_table(table.slice(cut), split / f"new{i}.parquet")
        old.append(LinkInput(item.source, Path(split / f"old{i}.parquet")))
        new.append(LinkInput(item.source, Path(split / f"new{i}.parquet")))

    base = link(old, threshold=THRESHOLD)
    full_times, inc_times, saved_times = [], [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        saved = link(old + new, threshold=THRESHOLD, trained=base.model_json)
        saved_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        full = link(old + new, threshold=THRESHOLD)
        full_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        inc = link_incremental(base.links, old, new, base.model_json, threshold=THRESHOLD)
        inc_times.append(time.perf_counter() - t)

    before, after = person_keys(base.links), person_keys(inc.links)
    merged_away = {k for m in inc.changes.merges for k in m["from"]}
    untouched_changed = sum(1 for r, k in before.items() if k not in merged_away and after[r] != k)
    f_full = pairwise_scores(person_keys(full.links), world.truth).f1
    f_inc = pairwise_scores(after, world.truth).f1
    full_s, inc_s = statistics.median(full_times), statistics.median(inc_times)
    print(f"records: {full.records} (base {base.records}, new {inc.new_records})")
    print(f"full run:        median {full_s:.2f} s  f1={f_full:.4f}  runs={full_times}")
    print(f"incremental run: median {inc_s:.2f} s  f1={f_inc:.4f}  runs={inc_times}")
    print(f"ratio incremental/full: {inc_s / full_s:.3f} (target < 0.25)")
    # For comparison: a full run that reuses the base run's model (no training), scored
    # by compiled.py at this size (the hub's choice when a run cannot be incremental).
    print(
        f"full run with the saved model: median {statistics.median(saved_times):.2f} s  "
        f"f1={pairwise_scores(person_keys(saved.links), world.truth).f1:.4f}  "
        f"scorer={saved.scorer}"
    )
    print(
        f"merges={len(inc.changes.merges)} new_persons={inc.changes.new_persons} "
        f"untouched person keys changed={untouched_changed} (target 0)"
    )


if __name__ == "__main__":
    main()
