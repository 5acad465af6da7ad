"""What the model believes about its own links, from the scored pairs.

* **Model-estimated precision and recall**: from the match probabilities of the scored
  pairs. Precision is the mean probability of the pairs at or above the threshold (how
  many of them the model expects to be true); recall is that expected number of true
  links over the expected number among all scored pairs (pairs below the scoring floor of
  0.05, and pairs blocking never proposed, are not counted, so this is an upper bound).
* **Match-weight distribution**: scored pairs per whole match weight.

Linkage reads encodings only: the run's quality report, which adds match rates by group
from the attributes under disclosure control, is put together on the analysis side
(outcomes/linkage_quality.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

# The lowest match probability a run keeps (and scores in its report): pairs below it
# are neither links nor a measurable part of the estimated precision and recall.
PAIR_FLOOR = 0.05


def pair_stats_sql(predictions: str, threshold: float) -> str:
    """Per whole match weight: pairs, their summed probability, and the same above the
    threshold (portable SQL, DuckDB and Spark)."""
    t = float(threshold)
    return f"""
        SELECT CAST(floor(match_weight) AS INT) AS weight, count(*) AS pairs,
               sum(match_probability) AS p_sum,
               sum(CASE WHEN match_probability >= {t!r} THEN 1 ELSE 0 END) AS links,
               sum(CASE WHEN match_probability >= {t!r} THEN match_probability ELSE 0 END)
                 AS p_links
        FROM {predictions} GROUP BY CAST(floor(match_weight) AS INT)
        """


def pair_stats(predictions: pa.Table, threshold: float) -> pa.Table:
    """What ``pair_stats_sql`` gives, from predictions held as Arrow (compiled runs)."""
    weight = np.floor(predictions.column("match_weight").to_numpy()).astype(np.int64)
    p = predictions.column("match_probability").to_numpy()
    linked = p >= threshold
    table = pa.table(
        {
            "weight": weight,
            "p": p,
            "link": linked.astype(np.int64),
            "p_link": np.where(linked, p, 0.0),
        }
    )
    grouped = table.group_by("weight").aggregate(
        [("weight", "count"), ("p", "sum"), ("link", "sum"), ("p_link", "sum")]
    )
    return pa.table(
        {
            "weight": grouped.column("weight").cast(pa.int32()),
            "pairs": grouped.column("weight_count"),
            "p_sum": grouped.column("p_sum"),
            "links": grouped.column("link_sum"),
            "p_links": grouped.column("p_link_sum"),
        }
    )


def model_estimates(stats: pa.Table) -> dict[str, Any]:
    rows = stats.to_pylist()
    links = sum(int(r["links"] or 0) for r in rows)
    p_links = sum(float(r["p_links"] or 0.0) for r in rows)
    p_all = sum(float(r["p_sum"] or 0.0) for r in rows)
    return {
        "scored_pairs": sum(int(r["pairs"]) for r in rows),
        "linked_pairs": links,
        "estimated_precision": p_links / links if links else None,
        "estimated_recall": p_links / p_all if p_all else None,
        "match_weight_histogram": sorted(
            ([int(r["weight"]), int(r["pairs"])] for r in rows if r["weight"] is not None),
            key=lambda x: x[0],
        ),
    }
