"""A release holds only the indicators whose datasets were in the run: one nobody sent data
for is named as not in the release, never shown as zero or [c]."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from boldhub.outcomes.catalogue import INDICATORS
from boldhub.outcomes.dashboard import ReleaseContext
from boldhub.outcomes.release import build_release
from boldhub.outcomes.tidy import AttributeInput

COUNCIL = "E08000025"


def _only_homelessness(folder: Path) -> tuple[Path, list[AttributeInput]]:
    n = 40
    keys = [f"r{i:03d}" for i in range(n)]
    source = f"homelessness:{COUNCIL}"
    links = folder / "links.parquet"
    pq.write_table(
        pa.table(
            {
                "record_key": keys,
                "source": [source] * n,
                # Every fourth person applied twice.
                "person_key": [f"P{i - (i % 4 == 1)}" for i in range(n)],
                "match_probability": [None] * n,
            }
        ),
        links,
    )
    attrs = folder / "attributes.parquet"
    pq.write_table(
        pa.table(
            {
                "record_key": keys,
                "application_date": [f"2024-{1 + i % 12:02d}-15" for i in range(n)],
            }
        ),
        attrs,
    )
    return links, [AttributeInput(source, attrs)]


def test_indicators_of_datasets_nobody_sent_are_not_in_the_release(tmp_path: Path) -> None:
    links, attrs = _only_homelessness(tmp_path)
    out = tmp_path / "release"
    out.mkdir()
    context = ReleaseContext("run", "7 December 2026", None, None, None, ())
    built = build_release(links, attrs, out, context)
    homeless_only = {i.id for i in INDICATORS if i.datasets <= {"homelessness"}}
    assert set(built.indicators) == homeless_only
    assert json.loads((out / "release.json").read_text())["indicators"] == list(built.indicators)
    rows = (out / f"{COUNCIL}.csv").read_text().splitlines()
    assert not any("probation" in r or "treatment" in r or "victim" in r for r in rows)
    html = unescape((out / f"{COUNCIL}.html").read_text())
    missing = re.search(r'<p id="not-in-release">(.*?)</p>', html, re.S)
    assert missing is not None
    # Every council indicator of another dataset is named as missing.
    for ind in INDICATORS:
        if ind.id not in homeless_only and "councils" in ind.recipients:
            assert ind.title in missing.group(1), ind.id
