"""From scored pairs to persons.

Splink's connected components serve the usual case (linkage/full.py). Two cases are ours:
sources that hold at most one record per person (``one_to_one``), whose persons are built
greedily from the strongest links so that none holds two of their records, and scored
pairs held as Arrow (compiled runs, incremental runs), clustered here with the same
union-find (``greedy_forest``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from boldhub.arrowbuf import indices
from boldhub.linkage import model

Ints = npt.NDArray[np.int64]


@numba.njit(cache=True, nogil=True)
def greedy_forest(left: Ints, right: Ints, held: Ints) -> Ints:  # pragma: no cover - compiled
    """Union-find over the edges (``left[i]``, ``right[i]``) in the order given, skipping an
    edge whose two trees both hold a bit of ``held`` (a one-to-one source): each node's
    root. With ``held`` all zero this is connected components."""
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
    held = bit[indices(source)]
    order = np.argsort(-edges.column("match_probability").to_numpy(), kind="stable")
    left = indices(pc.index_in(edges.column("record_key_l"), value_set=keys))[order]
    right = indices(pc.index_in(edges.column("record_key_r"), value_set=keys))[order]
    if (left < 0).any() or (right < 0).any():
        raise ValueError("an edge names a record that is not in the run")
    root = greedy_forest(left, right, held)
    index = rows.schema.get_field_index("cluster_id")
    return rows.set_column(index, "cluster_id", keys.take(pa.array(root)))


def cluster_pairs(
    table: pa.Table,
    predictions: pa.Table,
    threshold: float,
    one_to_one: Sequence[str] = (),
    one_to_one_threshold: float | None = None,
) -> pa.Table:
    """Scored pairs held as Arrow, clustered as the Splink path clusters them: the rows
    (``record_key``, ``source``, ``cluster_id``, ``p``) that links.links_table takes."""
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
    rows = pa.table(
        {
            "record_key": keys,
            "source": table.column("source").combine_chunks(),
            "cluster_id": keys,
            "p": strongest_link(keys, predictions, threshold),
        }
    )
    return one_to_one_clusters(rows, predictions.filter(pa.array(edges)), set(one_to_one))


def strongest_link(keys: pa.Array, pairs: pa.Table, threshold: float) -> pa.Array:
    """Each record's match probability: that of its strongest link at the threshold
    (null for a record that linked to nobody), as links_sql gives it."""
    p = pairs.column("match_probability").to_numpy()
    strong = p >= threshold
    ends = pa.concat_arrays(
        [
            pairs.column("record_key_l").combine_chunks().filter(pa.array(strong)),
            pairs.column("record_key_r").combine_chunks().filter(pa.array(strong)),
        ]
    )
    best = np.full(len(keys), np.nan)
    np.fmax.at(best, indices(pc.index_in(ends, value_set=keys)), np.concatenate([p[strong]] * 2))
    return pa.array(best, mask=np.isnan(best))


def edge_filter_sql(
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


def links_sql(clusters: str, predictions: str, threshold: float) -> str:
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
