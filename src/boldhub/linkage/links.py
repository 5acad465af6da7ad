"""What a linkage run gives back: every record's person, as one Arrow table.

The links table (LINKS_SCHEMA) is the one format between linkage and the rest of the
hub: ``record_key``, ``source``, ``person_key`` and ``match_probability`` (that of the
record's strongest link at the threshold; null for a record that linked to nobody).
Full and incremental runs both return a ``LinkResult`` around it.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from boldhub import arrowbuf

LINKS_SCHEMA = pa.schema(
    [
        ("record_key", pa.string()),
        ("source", pa.string()),
        ("person_key", pa.string()),
        ("match_probability", pa.float64()),
    ]
)

Step = Callable[[str], None]
Mode = Literal["full", "incremental"]
Scorer = Literal["splink", "numpy"]


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
class LinkResult:
    """One run's outcome, full or incremental."""

    links: pa.Table
    records: int
    persons: int
    pairs_scored: int
    seconds: dict[str, float] = field(default_factory=dict)
    # The model the pairs were scored with (Splink's settings JSON, trained parameters in).
    model_json: dict[str, Any] = field(default_factory=dict)
    # Scored pairs per whole match weight, for the quality report (quality.pair_stats_sql).
    pair_stats: pa.Table | None = None
    # Candidate pairs found by blocking on the filters (full.add_filter_pairs).
    filter_pairs: int = 0
    # What scored the pairs: Splink's pipeline, or the saved model compiled (compiled.py).
    scorer: Scorer = "splink"
    mode: Mode = "full"
    # Whether this run estimated the model (False: it reused a saved or previous one).
    trained: bool = False
    # Incremental runs: how many records were new.
    new_records: int = 0
    # Against the previous run's person keys, when there was one.
    changes: KeyChanges = field(default_factory=KeyChanges)


def person_keys(links: pa.Table) -> dict[str, str]:
    """A links table as record_key -> person_key."""
    return dict(
        zip(
            links.column("record_key").to_pylist(),
            links.column("person_key").to_pylist(),
            strict=True,
        )
    )


def new_person_keys(n: int, rng: np.random.Generator | None = None) -> pa.Array:
    """``n`` person keys, ``PK`` and 16 hex digits (64 random bits) each.

    Person keys are drawn at random, never derived from a record key, so that a person key
    cannot lead back to a record. ``rng`` makes them reproducible (tests, the demo); the
    hub draws them from the operating system's generator."""
    raw = secrets.token_bytes(8 * n) if rng is None else rng.bytes(8 * n)
    hexed = np.frombuffer(binascii.hexlify(raw), np.uint8).reshape(n, 16)
    text = np.hstack([np.tile(np.frombuffer(b"PK", np.uint8), (n, 1)), hexed])
    return arrowbuf.fixed_width(text, n, 18)


def links_table(rows: pa.Table, rng: np.random.Generator | None = None) -> pa.Table:
    """Clustered records (``record_key``, ``source``, ``cluster_id``, ``p``) as a links
    table: one new person key per cluster, in cluster order so that a seeded ``rng``
    gives the same keys to the same clusters."""
    rows = rows.sort_by([("cluster_id", "ascending"), ("record_key", "ascending")])
    clusters = rows.column("cluster_id").combine_chunks()
    distinct = pc.unique(clusters)
    person = new_person_keys(len(distinct), rng).take(pc.index_in(clusters, value_set=distinct))
    return pa.table(
        {
            "record_key": rows.column("record_key").cast(pa.string()),
            "source": rows.column("source").cast(pa.string()),
            "person_key": person,
            "match_probability": rows.column("p").cast(pa.float64()),
        },
        schema=LINKS_SCHEMA,
    )
