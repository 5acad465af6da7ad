"""The outcome dashboards' charts: Altair specs drawn to SVG on the server by vl-convert.

Every chart is drawn once, here, into a self-contained ``<svg>``: no script, no external
resource, no ``style`` attribute (a strict Content-Security-Policy without
``'unsafe-inline'`` would drop those), so the page that embeds it works offline, in print
and behind the hub's CSP.

The figures arrive as the release files wrote them (strings) and are only *placed*: a
value is parsed to put a point or bar where it belongs, and any label drawn beside it is
the released string itself. A withheld figure (``None`` here, ``[c]`` in the files) is
left out of the chart's data altogether, never drawn as zero, and each :class:`Chart`
names what it left out so that the page can say so in words.

Drawing is deterministic (the same figures give byte-identical SVG): the Vega-Lite
version is pinned, the data are in a fixed order, and any element ids Vega generates
(none for these charts as they stand; a clip path or gradient would bring some) are
renamed from the chart's own key. The axes' graduations (0, 5, 10 ...) are the only
numbers a chart draws that are not released figures.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import vl_convert as vlc
from markupsafe import Markup, escape

from boldhub.outcomes.disclosure import SUPPRESSED

# Pinned so that an upgrade of vl-convert (which bundles several) cannot change a chart
# between two renderings of the same release.
VL_VERSION = "6.4"
FONT = "Arial, Helvetica, sans-serif"
AREA_COLOUR = "#1d70b8"  # GOV.UK blue
NATIONAL_COLOUR = "#505a5f"  # GOV.UK secondary text grey
# Lighter tints for areas a dark mark (the median) is drawn across.
AREA_TINT = "#8cb8df"
NATIONAL_TINT = "#b1b4b6"
TEXT = "#0b0c0c"
# Charts are drawn narrow enough to stay readable when a phone scales them down.
WIDE = 460
BAR_PLOT = 300

_CONFIG: dict[str, Any] = {
    "font": FONT,
    # No background rectangle: the page's own background shows through, and prints white.
    "background": "transparent",
    "view": {"stroke": None},
    # The <svg> as a whole is the accessible object (role="img" with a label and <title>);
    # Vega's per-mark ARIA descriptions would only repeat the table beside the chart.
    "aria": False,
    "axis": {
        "labelFontSize": 14,
        "titleFontSize": 14,
        "titleFontWeight": "normal",
        "labelColor": TEXT,
        "titleColor": TEXT,
        "gridColor": "#e5e6e7",
        "domainColor": NATIONAL_COLOUR,
        "tickColor": NATIONAL_COLOUR,
    },
    "legend": {"labelFontSize": 14, "titleFontSize": 14, "labelColor": TEXT, "labelLimit": 400},
    "text": {"fontSize": 14, "color": TEXT},
}


@dataclass(frozen=True)
class Point:
    """One released figure: ``x`` is its quarter or category, ``value`` the figure exactly
    as released, or None where it was withheld (``[c]``)."""

    x: str
    value: str | None


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[Point, ...]
    national: bool = False


@dataclass(frozen=True)
class Quartiles:
    """A measure's released quartiles for one quarter (None where withheld)."""

    x: str
    values: tuple[str, str, str] | None


@dataclass(frozen=True)
class Chart:
    """A drawn chart: its SVG (already carrying its text alternative; for use inline in
    HTML, so without the namespace declarations a standalone .svg file needs), the text
    alternative itself, the points left out because they were withheld as (series
    label, quarter or category), and the Vega-Lite data it was drawn from (what tests and
    reviewers can check)."""

    svg: Markup
    alt: str
    omitted: tuple[tuple[str, str], ...]
    data: tuple[dict[str, Any], ...]


def _number(text: str) -> float:
    return float(text)


def grouped(count: str) -> str:
    """A released count with thousands separators (1,395), as GOV.UK writes numbers; any
    other text ([c], a percentage) is returned as it is."""
    return f"{int(count):,}" if count.isdigit() else count


@functools.lru_cache(maxsize=4096)
def _svg(spec_json: str) -> str:
    """vl-convert's SVG for a spec, kept for the process: a release is drawn twice (as a
    draft, then naming its checkers once approved) from the same rows, so the second
    drawing costs nothing."""
    svg: str = vlc.vegalite_to_svg(
        json.loads(spec_json), vl_version=VL_VERSION, allowed_base_urls=[], format_locale="en-GB"
    )
    return svg


def _draw(spec: dict[str, Any], key: str, alt_text: str) -> Markup:
    """One vl-convert call: the SVG with a role, a label and a <title>, and any generated
    ids renamed after ``key`` (so two charts on one page never share an id).

    The specs come to this with ``to_dict(validate=False)``: Altair's JSON-schema check
    took 40% of a dashboard's time, and the specs are fixed in this module, so the unit
    tests check every kind against the Vega-Lite schema once instead."""
    svg = _rename_ids(_svg(json.dumps({**spec, "config": _CONFIG}, sort_keys=True)), key)
    label = str(escape(alt_text))
    head, sep, rest = svg.partition(">")
    if not head.startswith("<svg") or not sep:
        raise ValueError("vl-convert did not return an <svg> element")
    # The class and role go on the root; the fixed width and height stay as the chart's
    # natural size, and the page's CSS lets it shrink (max-width: 100%; height: auto).
    head = head.replace(' class="marks"', "", 1)
    # Inline in HTML the parser puts <svg> in its namespace itself; without the namespace
    # declarations the page holds no URL at all, which is simple to check.
    head = head.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
    head = head.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "", 1)
    opening = f'{head} class="chart" role="img" aria-label="{label}">'
    # Vega still gives the marks of a layered chart roles of their own ("graphics-symbol")
    # despite aria: false; inside an image they would be unlabelled images to a screen
    # reader, so the root's label is the only accessible text.
    rest = _INNER_ARIA.sub("", rest)
    return Markup(f"{opening}<title>{label}</title>{rest}")  # noqa: S704


_INNER_ARIA = re.compile(r'\s(?:role|aria-[a-z]+)="[^"]*"')


_ID = re.compile(r'\bid="([^"]+)"')


def _rename_ids(svg: str, key: str) -> str:
    """Vega numbers clip paths and gradients with a counter that runs across calls; the
    same chart drawn twice would differ and two charts on one page could collide."""
    ids = list(dict.fromkeys(_ID.findall(svg)))
    for n, old in enumerate(ids, 1):
        new = f"{key}-{n}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f"url(#{old})", f"url(#{new})").replace(
            f'href="#{old}"', f'href="#{new}"'
        )
    return svg


def _quarter_axis(title: str, quarters: Sequence[str]) -> alt.X:
    # Up to 28 quarters do not fit as labels: the axis names each year at its first
    # quarter (or at the first quarter shown), with a tick for every quarter.
    first = quarters[0] if quarters else ""
    return alt.X(
        "quarter:O",
        title=title,
        sort=list(quarters),
        scale=alt.Scale(domain=list(quarters)),
        axis=alt.Axis(
            labelAngle=0,
            labelExpr=(
                f"slice(datum.value, 5) == 'Q1' || datum.value == '{first}' "
                "? slice(datum.value, 0, 4) : ''"
            ),
            labelOverlap=False,
        ),
    )


def _colour(series: Sequence[Series], symbol: str = "stroke", tint: bool = False) -> alt.Color:
    labels = [s.label for s in series]
    area, national = (AREA_TINT, NATIONAL_TINT) if tint else (AREA_COLOUR, NATIONAL_COLOUR)
    colours = [national if s.national else area for s in series]
    return alt.Color(
        "series:N",
        title=None,
        sort=labels,
        scale=alt.Scale(domain=labels, range=colours),
        legend=alt.Legend(
            orient="top", direction="vertical", symbolType=symbol, symbolStrokeWidth=3
        ),
    )


def trend_chart(
    key: str, series: Sequence[Series], quarters: Sequence[str], x_title: str, alt_text: str
) -> Chart | None:
    """Percent per quarter, one line per series (the area, and the national benchmark).
    A withheld quarter is a gap: the line is drawn in runs of consecutive released
    quarters, so nothing joins across a withheld one. None if nothing was released."""
    data: list[dict[str, Any]] = []
    omitted: list[tuple[str, str]] = []
    position = {q: i for i, q in enumerate(quarters)}
    for s in series:
        run, last = 0, -2
        for p in s.points:
            if p.value is None or p.value == "":
                omitted.append((s.label, p.x))
                continue
            at = position.get(p.x, -2)
            run += at != last + 1
            last = at
            data.append(
                {
                    "quarter": p.x,
                    "series": s.label,
                    "percent": _number(p.value),
                    "label": f"{p.value}%",
                    "run": f"{s.label} {run}",
                }
            )
    # The benchmark alone is no chart of this area.
    if not any(d["series"] == series[0].label for d in data):
        return None
    base = alt.Chart(alt.InlineData(values=data)).encode(
        x=_quarter_axis(x_title, quarters),
        y=alt.Y("percent:Q", title="Percentage of people", scale=alt.Scale(zero=True)),
        color=_colour(series),
    )
    dash = alt.StrokeDash(
        "series:N",
        sort=[s.label for s in series],
        scale=alt.Scale(
            domain=[s.label for s in series],
            range=[[4, 3] if s.national else [1, 0] for s in series],
        ),
        legend=None,
    )
    lines = base.mark_line(strokeWidth=2.5).encode(detail="run:N", strokeDash=dash)
    points = base.mark_point(filled=True, size=28, opacity=1)
    chart = (lines + points).properties(width=WIDE, height=220)
    return Chart(
        _draw(chart.to_dict(validate=False), key, alt_text), alt_text, tuple(omitted), tuple(data)
    )


def bar_chart(
    key: str,
    area: Series,
    national: Series | None,
    alt_text: str,
) -> Chart | None:
    """Percent per category for the whole period: a bar per released category (labelled
    with the released percent), and the national benchmark's released percent as a dark
    tick across it. Withheld categories have no bar. None if nothing was released."""
    categories = [p.x for p in area.points]
    data: list[dict[str, Any]] = []
    omitted: list[tuple[str, str]] = []
    for s in (area, *([national] if national else [])):
        for p in s.points:
            if p.x not in categories:
                continue
            if p.value is None or p.value == "":
                if s is area:
                    omitted.append((area.label, p.x))
                continue
            data.append(
                {
                    "category": p.x,
                    "series": s.label,
                    "percent": _number(p.value),
                    "label": f"{p.value}%",
                }
            )
    if not any(d["series"] == area.label for d in data):
        return None
    # Each category's name sits above its bar rather than on an axis beside it: names
    # such as "Black, Black British, Caribbean or African" would otherwise take half the
    # width, or be cut short. Its released percentage (or [c]) is in a column of its own
    # to the right, where no bar or benchmark mark can run into it.
    released = {d["category"]: d["label"] for d in data if d["series"] == area.label}
    names = [{"category": c, "label": released.get(c, SUPPRESSED)} for c in categories]
    y = alt.Y(
        "category:N",
        title=None,
        sort=categories,
        scale=alt.Scale(domain=categories, paddingInner=0.55, paddingOuter=0.3),
        axis=None,
    )
    x = alt.X(
        "percent:Q",
        title="Percentage of people",
        scale=alt.Scale(zero=True),
        axis=alt.Axis(grid=False),
    )
    mine = alt.datum.series == area.label
    source = alt.Chart(alt.InlineData(values=data)).encode(y=y)
    rows = alt.Chart(alt.InlineData(values=names)).encode(y=y)
    bars = source.transform_filter(mine).mark_bar(color=AREA_COLOUR).encode(x=x)
    captions = rows.mark_text(align="left", baseline="bottom", dy=-11).encode(
        x=alt.value(0), text="category:N"
    )
    labels = rows.mark_text(align="right").encode(x=alt.value(BAR_PLOT + 58), text="label:N")
    layers: list[alt.Chart] = [bars, captions, labels]
    if national is not None:
        layers.append(
            source.transform_filter(alt.datum.series == national.label)
            .mark_tick(color=TEXT, thickness=3, size=24)
            .encode(x=x)
        )
    chart = alt.layer(*layers).properties(width=BAR_PLOT, height=42 * len(categories))
    return Chart(
        _draw(chart.to_dict(validate=False), key, alt_text), alt_text, tuple(omitted), tuple(data)
    )


def quartile_chart(
    key: str,
    series: Sequence[tuple[str, bool, Sequence[Quartiles]]],
    quarters: Sequence[str],
    x_title: str,
    y_title: str,
    alt_text: str,
) -> Chart | None:
    """A measure's quartiles per quarter: a bar from the lower to the upper quartile with
    the median marked across it, side by side for the area and the national benchmark.
    ``series`` is (label, national?, quartiles). None if no quarter was released."""
    data: list[dict[str, Any]] = []
    omitted: list[tuple[str, str]] = []
    for label, _, values in series:
        for q in values:
            if q.values is None:
                omitted.append((label, q.x))
                continue
            p25, median, p75 = q.values
            data.append(
                {
                    "quarter": q.x,
                    "series": label,
                    "p25": _number(p25),
                    "median": _number(median),
                    "p75": _number(p75),
                    "label": f"{median} days ({p25} to {p75})",
                }
            )
    if not any(d["series"] == series[0][0] for d in data):
        return None
    fake = [Series(label, (), national) for label, national, _ in series]
    base = alt.Chart(alt.InlineData(values=data)).encode(
        x=_quarter_axis(x_title, quarters),
        xOffset=alt.XOffset("series:N", sort=[s.label for s in fake]),
        color=_colour(fake, "square", tint=True),
    )
    spread = base.mark_bar(width=alt.RelativeBandSize(0.9)).encode(
        y=alt.Y("p25:Q", title=y_title, scale=alt.Scale(zero=True)), y2="p75:Q"
    )
    # The median in the text colour for both series: it must stand out from either bar.
    middle = base.mark_tick(thickness=2.5, width=alt.RelativeBandSize(1), color=TEXT).encode(
        y="median:Q", color=alt.value(TEXT)
    )
    chart = (spread + middle).properties(width=WIDE, height=220)
    return Chart(
        _draw(chart.to_dict(validate=False), key, alt_text), alt_text, tuple(omitted), tuple(data)
    )


def upset_chart(
    key: str, combinations: Sequence[Point], datasets: Sequence[str], alt_text: str
) -> Chart | None:
    """People per combination of datasets, UpSet style: a column of people per released
    combination (largest first, labelled with the released count) over a dot matrix that
    marks the datasets in it. Withheld combinations have no column at all."""
    shown = [p for p in combinations if p.value not in (None, "")]
    omitted = tuple(("", p.x) for p in combinations if p.value in (None, ""))
    if not shown:
        return None
    # Largest first, as UpSet charts read; ties keep the release's order.
    order = [p.x for p in sorted(shown, key=lambda p: -_number(p.value or "0"))]
    bars_data: list[dict[str, Any]] = [
        {"combination": p.x, "people": _number(p.value or "0"), "label": grouped(p.value or "")}
        for p in shown
    ]
    matrix: list[dict[str, Any]] = [
        {"combination": c, "dataset": d, "member": d in c.split("+")}
        for c in order
        for d in datasets
    ]
    x = alt.X("combination:N", sort=order, scale=alt.Scale(domain=order), axis=None)
    width = max(34 * len(order), 200)
    bars = alt.Chart(alt.InlineData(values=bars_data)).encode(x=x)
    top = alt.layer(
        bars.mark_bar(color=AREA_COLOUR).encode(
            y=alt.Y("people:Q", title="People", scale=alt.Scale(zero=True))
        ),
        bars.mark_text(dy=-8, fontSize=12).encode(y="people:Q", text="label:N"),
    ).properties(width=width, height=200)
    grid = alt.Chart(alt.InlineData(values=matrix)).encode(
        x=x,
        y=alt.Y(
            "dataset:N",
            title=None,
            sort=list(datasets),
            axis=alt.Axis(ticks=False, domain=False),
        ),
    )
    dots = grid.mark_circle(size=110, opacity=1).encode(
        color=alt.Color(
            "member:N",
            scale=alt.Scale(domain=[True, False], range=[TEXT, "#dcdcdc"]),
            legend=None,
        )
    )
    joins = (
        grid.transform_filter(alt.datum.member)
        .mark_line(color=TEXT, strokeWidth=2)
        .encode(detail="combination:N")
    )
    bottom = alt.layer(joins, dots).properties(width=width, height=24 * len(datasets))
    chart = alt.vconcat(top, bottom, spacing=6)
    data = tuple(bars_data)
    return Chart(_draw(chart.to_dict(validate=False), key, alt_text), alt_text, omitted, data)
