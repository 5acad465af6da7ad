"""The quality report of a linkage run: what the model estimates about its own links
(linkage/quality.py), the match-weight distribution, and match rates by group,
disclosure-controlled.

* **Match rates**: the share of records linked to at least one other record, by source,
  council, age band, sex and ethnicity (age band, sex and ethnicity from the attributes,
  which linkage itself never reads; council from the source). Sex is the coarse ``sex``
  attribute packages carry since format version 3 (Female, Male or Not known); the
  linkage model compares only its keyed token. Linkage error is known to differ by sex,
  ethnicity and deprivation, so a group whose rate stands out deserves a look. A record
  without the attribute (a dataset that does not hold ethnicity, a version 2 package
  without sex) is counted as "not recorded". Every count passes
  ``boldhub.outcomes.disclosure`` (under 10 suppressed, the rest rounded to 5) and rates
  come from the released counts.
* **True precision, recall and F1**, only when the caller holds the truth (synthetic data).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
from jinja2 import Environment

from boldhub.outcomes.disclosure import control_count, control_rate

QUALITY_JSON = "quality.json"
QUALITY_HTML = "quality.html"
ATTRIBUTE_GROUPS = ("age_band", "sex", "ethnicity")
"""Breakdowns read from the attributes files (the rest come from the source)."""
GROUPS = ("source", "council", *ATTRIBUTE_GROUPS)
NOT_RECORDED = "not recorded"


def council_of(source: str) -> str:
    dataset, _, org = source.partition(":")
    return org if dataset == "homelessness" else "national body"


def match_rates(
    links: pa.Table, attributes: pa.Table | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Released match rates per group: records, linked records, rate (disclosure-controlled).

    ``attributes`` holds ``record_key`` and any of ``ATTRIBUTE_GROUPS``; every group is
    reported, with a record whose value is missing counted as "not recorded"."""
    keys = links.column("record_key").to_pylist()
    persons = links.column("person_key").to_pylist()
    sources = links.column("source").to_pylist()
    size = Counter(persons)
    linked = [size[p] > 1 for p in persons]
    attrs: dict[str, dict[str, str]] = {c: {} for c in ATTRIBUTE_GROUPS}
    if attributes is not None:
        for col in attrs:
            if col in attributes.column_names:
                attrs[col] = dict(
                    zip(
                        attributes.column("record_key").to_pylist(),
                        attributes.column(col).to_pylist(),
                        strict=True,
                    )
                )
    out: dict[str, list[dict[str, Any]]] = {}
    for group in GROUPS:
        totals: Counter[str] = Counter()
        hits: Counter[str] = Counter()
        for key, source, hit in zip(keys, sources, linked, strict=True):
            if group == "source":
                value = source
            elif group == "council":
                value = council_of(source)
            else:
                value = attrs[group].get(key) or NOT_RECORDED
            totals[value] += 1
            hits[value] += hit
        rows = []
        for value in sorted(totals):
            n, k = control_count(totals[value]), control_count(hits[value])
            rate = control_rate(k, n)
            rows.append(
                {
                    "group": value,
                    "records": n.value,
                    "linked": k.value,
                    "rate_percent": rate.percent,
                }
            )
        out[group] = rows
    return out


def build_report(
    *,
    run_id: str,
    mode: str,
    threshold: float,
    records: int,
    persons: int,
    estimates: dict[str, Any],
    rates: dict[str, list[dict[str, Any]]],
    key_changes: dict[str, Any] | None = None,
    truth: dict[str, float] | None = None,
) -> dict[str, Any]:
    return {
        "run": run_id,
        "mode": mode,
        "threshold": threshold,
        "records": control_count(records).value,
        "persons": control_count(persons).value,
        "model": estimates,
        "match_rates": rates,
        "key_changes": {k: v for k, v in (key_changes or {}).items() if not k.endswith("_list")},
        "truth": truth,
    }


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Linkage quality: run {{ r.run }}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.bar{background:#1d70b8;height:.8rem;display:inline-block}</style>
</head><body>
<h1>Linkage quality: run {{ r.run }}</h1>
<p>Mode: {{ r.mode }}. Threshold: {{ r.threshold }}. Records: {{ fmt(r.records) }}. Persons: {{ fmt(r.persons) }}.
Counts are rounded to 5 and counts under 10 shown as [c].</p>
<h2>What the model estimates</h2>
<table><tr><th>measure</th><th>value</th></tr>
<tr><td>estimated precision (mean match probability of links)</td><td>{{ pct(r.model.estimated_precision) }}</td></tr>
<tr><td>estimated recall (upper bound: scored pairs only)</td><td>{{ pct(r.model.estimated_recall) }}</td></tr>
<tr><td>pairs scored (match probability at least 0.05)</td><td>{{ "{:,}".format(r.model.scored_pairs) }}</td></tr>
<tr><td>pairs at or above the threshold</td><td>{{ "{:,}".format(r.model.linked_pairs) }}</td></tr>
{% if r.truth %}<tr><td>true precision / recall / F1 (synthetic truth)</td>
<td>{{ "%.4f"|format(r.truth.precision) }} / {{ "%.4f"|format(r.truth.recall) }} / {{ "%.4f"|format(r.truth.f1) }}</td></tr>{% endif %}
</table>
<h2>Match-weight distribution (scored pairs)</h2>
<table><tr><th>match weight</th><th>pairs</th><th></th></tr>
{% for w, n in r.model.match_weight_histogram %}<tr><td>{{ w }} to {{ w + 1 }}</td><td>{{ "{:,}".format(n) }}</td>
<td style="text-align:left"><span class="bar" style="width:{{ (300 * n / top)|round(1) }}px"></span></td></tr>{% endfor %}
</table>
{% for group, rows in r.match_rates.items() %}<h2>Match rate by {{ group.replace("_", " ") }}</h2>
<table><tr><th>{{ group.replace("_", " ") }}</th><th>records</th><th>linked to another record</th><th>rate</th></tr>
{% for row in rows %}<tr><td>{{ row.group }}</td><td>{{ fmt(row.records) }}</td><td>{{ fmt(row.linked) }}</td><td>{{ pct100(row.rate_percent) }}</td></tr>{% endfor %}
</table>{% endfor %}
{% if r.key_changes %}<h2>Person keys</h2><p>New persons: {{ r.key_changes.new_persons }}; merges: {{ r.key_changes.merges }};
splits: {{ r.key_changes.splits }}.</p>{% endif %}
</body></html>
"""


def render_html(report: dict[str, Any]) -> str:
    env = Environment(autoescape=True)
    hist = report["model"]["match_weight_histogram"]
    return env.from_string(_HTML).render(
        r=report,
        top=max((n for _, n in hist), default=1) or 1,
        fmt=lambda v: "[c]" if v is None else f"{v:,}",
        pct=lambda v: "n/a" if v is None else f"{100 * v:.1f}%",
        pct100=lambda v: "[c]" if v is None else f"{v:.0f}%",
    )


def write_report(folder: Path, report: dict[str, Any]) -> None:
    (folder / QUALITY_JSON).write_text(json.dumps(report, indent=2))
    (folder / QUALITY_HTML).write_text(render_html(report))
