"""Render outcome reports as standalone HTML: one per council, one national."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from boldhub import clock
from boldhub.outcomes.disclosure import ROUNDING_BASE, SUPPRESSED, THRESHOLD
from boldhub.outcomes.indicators import AreaOutcomes
from boldhub.schemas import get_organisation

_ENV = Environment(
    loader=PackageLoader("boldhub.outcomes", "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


# How a report names each dataset other than homelessness, in plain words.
SOURCE_NAMES = {
    "probation": "probation",
    "treatment": "drug and alcohol treatment",
    "victims": "victims' services",
}


def _listed(names: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class RenderedReport:
    area: str
    path: Path


def area_name(area: str) -> str:
    return (
        "England (all participating councils)"
        if area == "national"
        else get_organisation(area).name
    )


def render_reports(outcomes: list[AreaOutcomes], out: Path, run_id: str) -> list[RenderedReport]:
    out.mkdir(parents=True, exist_ok=True)
    national = next((o for o in outcomes if o.area == "national"), None)
    councils = [o for o in outcomes if o.area != "national"]
    template = _ENV.get_template("report.html")
    common = {
        "threshold": THRESHOLD,
        "base": ROUNDING_BASE,
        "suppressed": SUPPRESSED,
        "run_id": run_id,
        "generated": clock.now().strftime("%d %B %Y"),
        "national": national,
        "councils": [(c.area, area_name(c.area)) for c in councils],
    }
    written = []
    for o in outcomes:
        path = out / f"{o.area}.html"
        html = template.render(
            area=o,
            name=area_name(o.area),
            is_national=o.area == "national",
            linked_to=_listed(SOURCE_NAMES[d] for d in o.datasets if d != "homelessness"),
            missing=_listed(SOURCE_NAMES[d] for d in SOURCE_NAMES if d not in o.datasets),
            **common,
        )
        path.write_text(html, encoding="utf-8")
        written.append(RenderedReport(o.area, path))
    index = _ENV.get_template("index.html").render(**common)
    (out / "index.html").write_text(index, encoding="utf-8")
    return written
