"""The trained model as a page: each comparison's levels with their m and u probabilities
and match weights (log2 m/u), drawn as bars; from the model JSON that Splink saves, so
it needs no charting library."""

from __future__ import annotations

import math
from typing import Any

from jinja2 import Environment

_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Linkage model {{ title }}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.2rem .5rem}
td.n{text-align:right}.pos{background:#00703c}.neg{background:#d4351c}
.bar{display:inline-block;height:.8rem}.axis{display:inline-block;width:{{ half }}px;text-align:right}</style>
</head><body>
<h1>Linkage model {{ title }}</h1>
<p>Prior: the probability that two random records match is {{ "%.3g"|format(prior) }}
(match weight {{ "%.2f"|format(prior_weight) }}). A level's match weight is log2(m/u): bars
to the right add evidence for a match, bars to the left count against it. m is the probability of the level among
true matches, u among non-matches (estimated by EM and by random sampling, without labels).</p>
{% for c in comparisons %}<h2>{{ c.name }}</h2>
<table><tr><th>level</th><th>m</th><th>u</th><th>match weight</th><th></th></tr>
{% for l in c.levels %}<tr><td>{{ l.label }}</td><td class="n">{{ l.m }}</td><td class="n">{{ l.u }}</td>
<td class="n">{{ l.weight_text }}</td><td>{% if l.weight is not none %}{% if l.weight < 0 %}<span class="axis"><span class="bar neg" style="width:{{ l.width }}px"></span></span>{% else %}<span class="axis"></span><span class="bar pos" style="width:{{ l.width }}px"></span>{% endif %}{% endif %}</td></tr>
{% endfor %}</table>{% endfor %}
</body></html>
"""


def _fmt(p: Any) -> str:
    return "-" if p is None else f"{float(p):.4g}"


def levels(model_json: dict[str, Any]) -> list[dict[str, Any]]:
    """Each comparison's non-null levels with m, u and match weight."""
    out = []
    for comparison in model_json.get("comparisons", []):
        rows = []
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            rows.append(
                {
                    "label": level.get("label_for_charts") or level.get("sql_condition"),
                    "m": m,
                    "u": u,
                    "weight": weight,
                }
            )
        out.append({"name": comparison.get("output_column_name"), "levels": rows})
    return out


def render(model_json: dict[str, Any], title: str) -> str:
    comparisons = levels(model_json)
    top = max(
        (abs(lv["weight"]) for c in comparisons for lv in c["levels"] if lv["weight"] is not None),
        default=1.0,
    )
    half = 200
    for c in comparisons:
        for lv in c["levels"]:
            w = lv["weight"]
            lv["width"] = 0 if w is None else round(half * abs(w) / (top or 1.0), 1)
            lv["weight_text"] = "-" if w is None else f"{w:+.2f}"
            lv["m"], lv["u"] = _fmt(lv["m"]), _fmt(lv["u"])
    prior = float(model_json.get("probability_two_random_records_match") or 0.0)
    prior_weight = math.log2(prior / (1 - prior)) if 0 < prior < 1 else 0.0
    return (
        Environment(autoescape=True)
        .from_string(_HTML)
        .render(
            title=title,
            comparisons=comparisons,
            prior=prior,
            prior_weight=prior_weight,
            half=half,
        )
    )
