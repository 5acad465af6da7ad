"""Stable person keys across runs.

An **incremental run** attaches new records to the persons of the previous run
(``attach``): new records that link to nobody become new persons; those that link to one
existing person join it; those that bring two or more existing persons together **merge**
them, and the merged person keeps the key of the one with the most records (ties: the
smaller key). A person key that no new record touches never changes.

A **full run** re-clusters everything; ``carry_keys`` then gives each new cluster the
previous key its records held, so keys survive a full run too: a previous person whose
records now fall into several clusters has **split** (the cluster with most of its records
keeps the key), and clusters holding several previous persons have merged.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from boldhub.arrowbuf import indices
from boldhub.linkage.clustering import greedy_forest, strongest_link
from boldhub.linkage.links import LINKS_SCHEMA, KeyChanges, new_person_keys


def attach(
    previous: pa.Table,
    new_rows: pa.Table,
    pairs: pa.Table,
    threshold: float,
    rng: np.random.Generator | None = None,
) -> tuple[pa.Table, KeyChanges]:
    """The previous links with ``new_rows`` (``record_key``, ``source``) attached by the
    scored ``pairs`` (every pair involving a new record, either scorer's). Existing
    records stand for their person: a new record that links to any record of a person
    links to the person."""
    new_rows = new_rows.sort_by("record_key")
    persons = pc.dictionary_encode(previous.column("person_key").combine_chunks())
    names = persons.dictionary.to_pylist()
    n_persons, n_new = len(names), new_rows.num_rows
    person_of = indices(persons)
    sizes = np.bincount(person_of, minlength=n_persons)
    old_keys = previous.column("record_key").combine_chunks()
    new_keys = new_rows.column("record_key").combine_chunks()
    edges = pairs.filter(pc.greater_equal(pairs.column("match_probability"), threshold))

    def node(keys: pa.ChunkedArray) -> npt.NDArray[np.int64]:
        # Nodes 0..P-1 are the previous persons, P.. the new records.
        as_new = indices(pc.index_in(keys, value_set=new_keys))
        as_old = indices(pc.index_in(keys, value_set=old_keys))
        if ((as_new < 0) & (as_old < 0)).any():
            raise ValueError("a scored pair names a record that is neither known nor new")
        return np.where(as_new >= 0, n_persons + as_new, person_of[np.maximum(as_old, 0)])

    root = greedy_forest(
        node(edges.column("record_key_l")),
        node(edges.column("record_key_r")),
        np.zeros(n_persons + n_new, np.int64),
    )
    # Components are visited in the order of their first new record (by record key), so
    # that the same links give the same keys whichever engine scored them.
    groups: dict[int, list[int]] = defaultdict(list)
    touched = set(root[n_persons:].tolist())
    for p in np.nonzero(np.isin(root[:n_persons], list(touched)))[0].tolist():
        groups[int(root[p])].append(p)
    changes = KeyChanges()
    survivor = np.arange(n_persons)
    key_of_root: dict[int, str] = {}
    unclaimed: list[int] = []
    for r in dict.fromkeys(root[n_persons:].tolist()):
        members = groups.get(r, [])
        if not members:
            unclaimed.append(r)
            continue
        keep = min(members, key=lambda p: (-sizes[p], names[p]))
        key_of_root[r] = names[keep]
        others = sorted(names[p] for p in members if p != keep)
        if others:
            changes.merges.append({"into": names[keep], "from": others})
            survivor[[p for p in members if p != keep]] = keep
    fresh = new_person_keys(len(unclaimed), rng).to_pylist()
    key_of_root.update(zip(unclaimed, fresh, strict=True))
    changes.new_persons = len(unclaimed)

    probability = strongest_link(pa.concat_arrays([old_keys, new_keys]), pairs, threshold)
    before = previous.column("match_probability").combine_chunks()
    n_old = len(old_keys)
    old_p = pc.max_element_wise(before, probability.slice(0, n_old), skip_nulls=True)
    table = pa.table(
        {
            "record_key": pa.concat_arrays([old_keys, new_keys]),
            "source": pa.concat_arrays(
                [
                    previous.column("source").combine_chunks(),
                    new_rows.column("source").combine_chunks(),
                ]
            ),
            "person_key": pa.concat_arrays(
                [
                    persons.dictionary.take(pa.array(survivor[person_of])),
                    pa.array([key_of_root[int(r)] for r in root[n_persons:]], pa.string()),
                ]
            ),
            "match_probability": pa.concat_arrays(
                [old_p.cast(pa.float64()), probability.slice(n_old).cast(pa.float64())]
            ),
        },
        schema=LINKS_SCHEMA,
    )
    return table, changes


def carry_keys(links: pa.Table, previous: pa.Table) -> tuple[pa.Table, KeyChanges]:
    """Give a full run's clusters the person keys their records held in ``previous``."""
    cur = links.select(["record_key", "person_key"])
    prev = previous.select(["record_key", "person_key"]).rename_columns(["record_key", "prev"])
    overlap = (
        cur.join(prev, "record_key", join_type="inner")
        .group_by(["person_key", "prev"])
        .aggregate([("record_key", "count")])
    )
    # Each previous key's heir is the current cluster holding most of its records.
    by_prev: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for cur_key, prev_key, n in zip(
        overlap.column("person_key").to_pylist(),
        overlap.column("prev").to_pylist(),
        overlap.column("record_key_count").to_pylist(),
        strict=True,
    ):
        by_prev[prev_key].append((n, cur_key))
    heirs: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for prev_key, spread in sorted(by_prev.items()):
        spread.sort(key=lambda x: (-x[0], x[1]))
        heirs[spread[0][1]].append((spread[0][0], prev_key))
    changes = KeyChanges()
    rename: dict[str, str] = {}
    for cur_key, prevs in sorted(heirs.items()):
        prevs.sort(key=lambda x: (-x[0], x[1]))
        rename[cur_key] = prevs[0][1]
        if len(prevs) > 1:
            changes.merges.append({"into": prevs[0][1], "from": sorted(p for _, p in prevs[1:])})
    for prev_key, spread in sorted(by_prev.items()):
        if len(spread) > 1:
            # The cluster with most of the person's records kept (or merged) its key; the
            # records it lost are in clusters with other keys.
            into = sorted({rename.get(c, c) for _n, c in spread[1:]})
            changes.splits.append({"from": prev_key, "into": into})
    current = links.column("person_key").to_pylist()
    changes.new_persons = len(set(current) - set(rename))
    carried = pa.array([rename.get(p, p) for p in current], pa.string())
    index = links.schema.get_field_index("person_key")
    return links.set_column(index, "person_key", carried), changes
