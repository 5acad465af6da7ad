"""The analysis side of the hub: attributes joined to person keys, never encodings.

BOLD Hub separates functions as SAIL and ONS do: the linkage side (``hub.linking`` and
``boldhub.linkage``) reads encodings and writes person keys, and never opens a record's
attributes; the analysis side (this module, ``hub.reports`` and ``boldhub.outcomes``)
reads person keys and attributes, and never opens an encoding. Their stores are apart:
encodings under HOME/store/encodings, attributes under HOME/analysis/attributes, which a
deployment puts on the analysis service's own volume, readable by its role only
(docs/architecture.md). tests/unit/test_architecture.py holds both sides to this.

So the quality report's match rates by age band, sex and ethnicity, which need
attributes, are added here after the run, by a separate step.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from boldhub.hub.linking import get_run, links_path
from boldhub.hub.store import ATTRIBUTES_DIR, RUNS_DIR, Hub
from boldhub.outcomes import linkage_quality


def add_match_rates(hub: Hub, run_id: str) -> None:
    """Match rates by source, council and attribute group, into the run's quality report."""
    run = get_run(hub, run_id)
    folder = hub.path(RUNS_DIR, run_id)
    path = folder / linkage_quality.QUALITY_JSON
    if run is None or not path.exists() or not links_path(hub, run_id).exists():
        return
    links = pq.read_table(links_path(hub, run_id), columns=["record_key", "person_key", "source"])
    report = json.loads(path.read_text())
    report["match_rates"] = linkage_quality.match_rates(
        links, attributes(hub, list(run.submissions))
    )
    linkage_quality.write_report(folder, report)


def attributes(hub: Hub, submission_ids: list[str]) -> pa.Table | None:
    """Record key and the quality report's attributes (age band, sex, ethnicity) of every
    current record; an attribute a submission lacks (a dataset without ethnicity, a
    package from before sex was sent) is null there."""
    columns = ["record_key", *linkage_quality.ATTRIBUTE_GROUPS]
    schema = pa.schema([(c, pa.string()) for c in columns])
    tables = []
    for sid in submission_ids:
        path = hub.path(ATTRIBUTES_DIR, f"{sid}.parquet")
        if not path.exists():
            continue
        names = pq.read_schema(path).names
        t = pq.read_table(path, columns=[c for c in columns if c in names])
        for c in columns:
            if c not in t.column_names:
                t = t.append_column(c, pa.nulls(t.num_rows, pa.string()))
        tables.append(t.select(columns).cast(schema))
    return pa.concat_tables(tables) if tables else None
