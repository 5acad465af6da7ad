"""A report says which sources were in the run, and never shows a suppression mark for a
source nobody sent."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from boldhub.outcomes.indicators import AttributeInput, compute
from boldhub.outcomes.render import render_reports

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


def test_sources_nobody_sent_are_not_in_the_release(tmp_path: Path) -> None:
    links, attrs = _only_homelessness(tmp_path)
    outcomes = compute(links, attrs)
    area = next(o for o in outcomes if o.area == COUNCIL)
    assert area.datasets == ("homelessness",)
    shown = {v.indicator.dataset: v.in_release for v in area.values}
    assert shown == {
        "probation": False,
        "treatment": False,
        "victims": False,
        "homelessness": True,
    }
    html = unescape((render_reports(outcomes, tmp_path / "out", "run")[0].path).read_text())
    assert (
        "Not in this release: probation, drug and alcohol treatment and victims' services" in html
    )
    for indicator in ("probation_before", "treatment_after", "victim_around"):
        row = re.search(rf'<tr id="{indicator}">(.*?)</tr>', html, re.S)
        assert row is not None
        assert "not in this release" in row.group(1)
        assert "[c]" not in row.group(1)
    assert "linked to probation" not in html
