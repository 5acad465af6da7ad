"""Per-party outcome dashboards: a release's CSV rows in, one standalone HTML page out.

The page is built from the rows of the release files alone, so it can show no number
those files do not: counts and percentages are copied as released (a count may gain
thousands separators, 1,395), never added, subtracted or recomputed, and a withheld
figure (``[c]``) stays withheld: in words where a sentence needs it, as ``[c]`` in the
tables, as a gap in the charts. Nothing here reads a database or the clock.

The page is for three readers at once, and its sections carry fixed ids so that the hub
can link to or order them by role: ``summary`` (a housing officer or practitioner),
``indicators`` with its tables and ``downloads`` (an analyst), ``about`` (a data
protection officer), and ``previous`` and ``glossary`` for everyone.

The hub shows a released page inside its own frame through
:func:`boldhub.hub.web.render.report_content`, which keeps the page's ``<title>`` and the
inside of its ``<main>``; everything a reader needs is inside ``<main>``, and the classes
it uses are styled by :data:`DASHBOARD_CSS`, which the hub can serve as a stylesheet of
its own (the inline ``<style>`` of the standalone file does not travel).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from boldhub.outcomes.catalogue import (
    ALL,
    COMBINATION,
    COUNCILS,
    INDICATORS,
    NATIONAL,
    Indicator,
)
from boldhub.outcomes.charts import (
    Chart,
    Point,
    Quartiles,
    Series,
    bar_chart,
    grouped,
    quartile_chart,
    trend_chart,
    upset_chart,
)
from boldhub.outcomes.disclosure import ROUNDING_BASE, SUPPRESSED, THRESHOLD

Row = Mapping[str, str]
Rows = Sequence[Row]

NONE = "none"
NATIONAL_NAME = "England (all participating councils)"
_DATASET_ORDER = ("homelessness", "probation", "treatment", "victims")

_ENV = Environment(
    loader=PackageLoader("boldhub.outcomes", "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class ReleaseContext:
    """What the page says about the release as a whole."""

    run_id: str
    generated: str  # e.g. "7 December 2026"
    agreement_id: str | None
    agreement_version: int | None
    agreement_title: str | None
    # (organisation code, organisation name, dataset) that went into this run.
    shared: tuple[tuple[str, str, str], ...]
    threshold: int = THRESHOLD
    base: int = ROUNDING_BASE
    approved_by: tuple[str, ...] = ()  # the output checkers (may be empty for a sample)
    sample: bool = False  # made from synthetic data: every page says so at the top


@dataclass(frozen=True)
class PreviousRelease:
    """An earlier release for the same area. ``rows`` may hold the rows of both of its
    files (counts and measures); only each indicator's headline row is shown."""

    run_id: str
    label: str  # e.g. "released 3 March 2026"
    rows: tuple[dict[str, str], ...]


def read_rows(path: Path) -> tuple[dict[str, str], ...]:
    """The rows of one release CSV (counts or measures), as written."""
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(dict(row) for row in csv.DictReader(fh))


# --------------------------------------------------------------------------------------
# Words.

# What an indicator's people did, to follow "X (Y%)" in the summary.
_PHRASES = {
    "homeless_probation_before": "had been under probation supervision in the 12 months "
    "before applying",
    "homeless_release_before": "had been released from custody in the 3 months before applying",
    "homeless_treatment_after": "entered drug or alcohol treatment within 6 months after applying",
    "homeless_victim_around": "were referred to victims' services within 12 months before or "
    "after applying",
    "homeless_victim_da_around": "were referred to victims' services for domestic abuse "
    "within 12 months before or after applying",
    "homeless_repeat_same": "applied as homeless again at the same council within 12 months",
    "homeless_repeat_other": "applied as homeless again at a different council within 12 months",
    "probation_homeless_after": "applied as homeless within 12 months of their release or "
    "the start of their supervision",
    "treatment_homeless_around": "applied as homeless within 12 months before or after their "
    "referral",
    "treatment_probation_around": "were under probation supervision within 12 months before "
    "or after their referral",
    "victims_homeless_after": "applied as homeless within 12 months after their referral",
}
# Who a cohort's people are, after "Of the N".
_SUBJECTS = {
    "homeless": "people who applied as homeless to {name}",
    "probation": "people supervised by probation",
    "treatment": "people referred to drug or alcohol treatment",
    "victims": "people referred to victims' services",
}
_NATIONAL_SUBJECTS = {"homeless": "people who applied as homeless to a participating council"}
# The quarter of what: each cohort's index event.
_QUARTER_OF = {
    "homeless": "Quarter of first application",
    "probation": "Quarter of release or start of supervision",
    "treatment": "Quarter of first referral",
    "victims": "Quarter of first referral",
}
BREAKDOWN_NAMES = {
    NONE: "Everyone",
    "age_band": "Age band",
    "sex": "Sex",
    "ethnicity": "Ethnicity",
    "accommodation_on_release": "Accommodation on release",
    COMBINATION: "Datasets",
}
WITHHELD = "fewer than {threshold}, or withheld to protect a small number"


def _is_released(text: str | None) -> bool:
    return text is not None and text not in ("", SUPPRESSED)


def _value(text: str | None) -> str | None:
    """The released figure, or None where it is withheld or was never given."""
    return text if text is not None and _is_released(text) else None


def _percent(row: Row) -> str:
    return f" ({row['percent']}%)" if _is_released(row.get("percent")) else ""


def _count_words(text: str, threshold: int) -> str:
    """A count for a sentence: "1,395", or "[c] (fewer than 10, or withheld ...)"."""
    if _is_released(text):
        return grouped(text)
    return f"{SUPPRESSED} ({WITHHELD.format(threshold=threshold)})"


def _listed(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------------------
# The rows, by indicator.


@dataclass(frozen=True)
class _Rows:
    """One area's rows of one indicator, kept in the release's order."""

    rows: tuple[Row, ...]

    def get(self, period: str, breakdown: str, category: str) -> Row | None:
        for row in self.rows:
            if (row["period"], row["breakdown"], row["category"]) == (period, breakdown, category):
                return row
        return None

    @property
    def headline(self) -> Row | None:
        return self.get(ALL, NONE, ALL)

    @property
    def quarters(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r["period"] for r in self.rows if r["period"] != ALL))

    def cut(self, period: str | None, breakdown: str) -> tuple[Row, ...]:
        """The rows of one breakdown: for one period, or (None) every quarter."""
        return tuple(
            r
            for r in self.rows
            if r["breakdown"] == breakdown
            and (r["period"] == period if period is not None else r["period"] != ALL)
        )


def _by_indicator(rows: Rows) -> dict[str, _Rows]:
    found: dict[str, list[Row]] = {}
    for row in rows:
        found.setdefault(row["indicator"], []).append(row)
    return {k: _Rows(tuple(v)) for k, v in found.items()}


# --------------------------------------------------------------------------------------
# The page's parts.


@dataclass(frozen=True)
class Figure:
    caption: str
    chart: Chart
    key: str  # what the chart's shapes mean, in words
    withheld: str  # which released-as-[c] points the chart leaves out, in words


@dataclass(frozen=True)
class TableView:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class IndicatorView:
    indicator: Indicator
    anchor: str
    headline: str
    figures: tuple[Figure, ...]
    no_chart: str
    table: TableView


@dataclass(frozen=True)
class _Names:
    area: str
    area_name: str
    national: bool

    @property
    def benchmark(self) -> str:
        return NATIONAL_NAME


def _key(*parts: str) -> str:
    """A chart's id prefix: letters, digits and hyphens only."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", "-".join(parts)).strip("-").lower()


def _runs(xs: Sequence[str], order: Sequence[str]) -> list[str]:
    """Consecutive quarters as one range ("2019-Q1 to 2020-Q2"), so that a long run of
    withheld quarters reads as one; anything not in ``order`` is listed as it is."""
    at = {x: i for i, x in enumerate(order)}
    runs: list[list[str]] = []
    for x in xs:
        if runs and x in at and runs[-1][-1] in at and at[x] == at[runs[-1][-1]] + 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    return [r[0] if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs]


def _withheld_words(chart: Chart, everything: str, order: Sequence[str] = ()) -> str:
    """Which points a chart leaves out because they were withheld, in a sentence."""
    if not chart.omitted:
        return ""
    by_series: dict[str, list[str]] = {}
    for label, x in chart.omitted:
        by_series.setdefault(label, []).append(x)
    parts = [
        f"{label}: {_listed(_runs(xs, order))}" if label else _listed(xs)
        for label, xs in by_series.items()
    ]
    return f"Not shown, because withheld ({SUPPRESSED}), {everything}: " + "; ".join(parts) + "."


def _series(label: str, rows: Sequence[Row], national: bool = False) -> Series:
    return Series(
        label,
        tuple(
            Point(r["period"] if r["period"] != ALL else r["category"], _value(r.get("percent")))
            for r in rows
        ),
        national,
    )


def _trend(ind: Indicator, names: _Names, mine: _Rows, theirs: _Rows | None) -> Figure | None:
    series = [_series(names.area_name, mine.cut(None, NONE))]
    if theirs is not None:
        series.append(_series(names.benchmark, theirs.cut(None, NONE), national=True))
    quarters = sorted(set(mine.quarters) | set(theirs.quarters if theirs else ()))
    compared = f", compared with {names.benchmark}" if theirs is not None else ""
    alt_text = (
        f"Line chart: {ind.title}. Percentage of people by quarter for {names.area_name}"
        f"{compared}. Withheld quarters are gaps. The figures are in the table below."
    )
    x_title = _QUARTER_OF.get(ind.cohort.id if ind.cohort else "", "Quarter")
    chart = trend_chart(_key(names.area, ind.id, "trend"), series, quarters, x_title, alt_text)
    if chart is None:
        return None
    key = (
        f"Solid blue line: {names.area_name}. Dashed grey line: {names.benchmark}."
        if theirs is not None
        else f"Line: {names.area_name}."
    )
    return Figure(
        "Percentage by quarter",
        chart,
        key,
        _withheld_words(chart, "so left as gaps", quarters),
    )


def _bars(
    ind: Indicator, names: _Names, breakdown: str, mine: _Rows, theirs: _Rows | None
) -> Figure | None:
    label = BREAKDOWN_NAMES.get(breakdown, breakdown).lower()
    area = _series(names.area_name, mine.cut(ALL, breakdown))
    national = (
        _series(names.benchmark, theirs.cut(ALL, breakdown), national=True) if theirs else None
    )
    alt_text = (
        f"Bar chart: {ind.title}. Percentage of people by {label}, whole period, for "
        f"{names.area_name}" + (f", with {names.benchmark} marked" if national else "") + "."
    )
    chart = bar_chart(_key(names.area, ind.id, breakdown), area, national, alt_text)
    if chart is None:
        return None
    key = "Bars and percentages: " + names.area_name + "."
    if national is not None:
        key += f" Black marks: {names.benchmark}."
    return Figure(f"By {label}, whole period", chart, key, _withheld_words(chart, "so with no bar"))


def _quartile_figure(
    ind: Indicator, names: _Names, mine: _Rows, theirs: _Rows | None
) -> Figure | None:
    def quartiles(rows: Sequence[Row]) -> list[Quartiles]:
        out = []
        for r in rows:
            p25, median, p75 = (_value(r.get(f)) for f in ("p25", "median", "p75"))
            if p25 is None or median is None or p75 is None:
                out.append(Quartiles(r["period"], None))
            else:
                out.append(Quartiles(r["period"], (p25, median, p75)))
        return out

    series: list[tuple[str, bool, Sequence[Quartiles]]] = [
        (names.area_name, False, quartiles(mine.cut(None, NONE)))
    ]
    if theirs is not None:
        series.append((names.benchmark, True, quartiles(theirs.cut(None, NONE))))
    quarters = sorted(set(mine.quarters) | set(theirs.quarters if theirs else ()))
    alt_text = (
        f"Range chart: {ind.title}. For each quarter, a bar from the lower to the upper "
        f"quartile with the median marked, for {names.area_name}"
        + (f" and {names.benchmark}" if theirs else "")
        + ". The figures are in the table below."
    )
    x_title = _QUARTER_OF.get(ind.cohort.id if ind.cohort else "", "Quarter")
    chart = quartile_chart(
        _key(names.area, ind.id, "quartiles"), series, quarters, x_title, "Days", alt_text
    )
    if chart is None:
        return None
    key = (
        "Each bar runs from the lower to the upper quartile (the middle half of people); "
        "the dark line across it is the median. Blue: "
        + names.area_name
        + (f"; grey: {names.benchmark}" if theirs else "")
        + "."
    )
    return Figure(
        "Median and quartiles of days, by quarter",
        chart,
        key,
        _withheld_words(chart, "so with no bar", quarters),
    )


def _upset(ind: Indicator, names: _Names, mine: _Rows) -> Figure | None:
    rows = mine.cut(ALL, COMBINATION)
    combos = [Point(r["category"], _value(r.get("people"))) for r in rows]
    present = {d for r in rows for d in r["category"].split("+")}
    datasets = [d for d in _DATASET_ORDER if d in present] + sorted(present - set(_DATASET_ORDER))
    alt_text = (
        "UpSet chart: people in each combination of the datasets, largest first. Each column "
        "is one combination; the dots beneath it mark the datasets in it. The figures are in "
        "the table below."
    )
    chart = upset_chart(_key(names.area, ind.id, "upset"), combos, datasets, alt_text)
    if chart is None:
        return None
    key = (
        "Each column counts the people found in exactly that combination of datasets "
        "(black dots) and in none of the others."
    )
    return Figure(
        "People in each combination", chart, key, _withheld_words(chart, "so with no column")
    )


def _table(ind: Indicator, mine: _Rows) -> TableView:
    columns: tuple[str, ...] = ("Period", "Breakdown", "Category", "People")
    fields: tuple[str, ...]
    if ind.kind == "measure":
        columns += ("Lower quartile (days)", "Median (days)", "Upper quartile (days)")
        fields = ("people", "p25", "median", "p75")
    else:
        columns += ("Out of", "Percent")
        fields = ("people", "cohort", "percent")
    out = []
    for r in mine.rows:
        cells = [r["period"], BREAKDOWN_NAMES.get(r["breakdown"], r["breakdown"]), r["category"]]
        cells += [grouped(r.get(f, "")) if r.get(f, "") != "" else "–" for f in fields]
        out.append(tuple(cells))
    return TableView(columns, tuple(out))


def _headline(ind: Indicator, mine: _Rows, threshold: int) -> str:
    row = mine.headline
    if row is None:
        return ""
    people = _count_words(row["people"], threshold)
    if ind.kind == "measure":
        if all(_is_released(row.get(f)) for f in ("p25", "median", "p75")):
            return (
                f"Whole period: {people} people; median {row['median']} days (lower quartile "
                f"{row['p25']}, upper quartile {row['p75']})."
            )
        return f"Whole period: {people} people; the quartiles are withheld."
    if ind.kind == "overlaps":
        return f"Whole period: {people} linked people."
    cohort = _count_words(row.get("cohort", ""), threshold)
    return f"Whole period: {people} out of {cohort}{_percent(row)}."


def _indicator_view(
    ind: Indicator, names: _Names, mine: _Rows, theirs: _Rows | None, threshold: int
) -> IndicatorView:
    figures: list[Figure | None] = []
    if ind.kind == "rate":
        figures.append(_trend(ind, names, mine, theirs))
        figures += [
            _bars(ind, names, b, mine, theirs)
            for b in ind.breakdowns
            if any(r["breakdown"] == b for r in mine.rows)
        ]
    elif ind.kind == "measure":
        figures.append(_quartile_figure(ind, names, mine, theirs))
    else:
        figures.append(_upset(ind, names, mine))
    drawn = tuple(f for f in figures if f is not None)
    what = {"measure": "quartiles", "overlaps": "counts"}.get(ind.kind, "percentages")
    no_chart = (
        ""
        if drawn
        else f"No chart: none of these {what} could be released for {names.area_name} "
        f"(they are withheld, {SUPPRESSED}). The table below has every figure as released."
    )
    return IndicatorView(
        ind,
        f"ind-{ind.id}",
        _headline(ind, mine, threshold),
        drawn,
        no_chart,
        _table(ind, mine),
    )


# --------------------------------------------------------------------------------------
# The summary.


@dataclass(frozen=True)
class SummaryGroup:
    """One cohort's headline figures: "Of the N people who ..., X (Y%) did ...". A group
    whose ``lead`` is the whole sentence has no ``items``."""

    lead: str
    items: tuple[str, ...]


def _subject(ind: Indicator, names: _Names) -> str:
    cohort = ind.cohort.id if ind.cohort else ""
    if names.national and cohort in _NATIONAL_SUBJECTS:
        return _NATIONAL_SUBJECTS[cohort]
    return _SUBJECTS.get(cohort, "people in the cohort").format(name=names.area_name)


def _summary(
    names: _Names,
    mine: Mapping[str, _Rows],
    theirs: Mapping[str, _Rows],
    threshold: int,
) -> tuple[SummaryGroup, ...]:
    """Plain sentences from the released headline rows (period All, everyone)."""
    groups: dict[tuple[str, str], tuple[str, list[str]]] = {}
    extra: list[SummaryGroup] = []
    for ind in INDICATORS:
        rows = mine.get(ind.id)
        row = rows.headline if rows else None
        if row is None:
            continue
        if ind.kind == "overlaps":
            extra.append(
                SummaryGroup(
                    f"{_count_words(row['people'], threshold)} people were linked across the "
                    "datasets; “People in each combination of the datasets” below shows how "
                    "many appear in each combination.",
                    (),
                )
            )
            continue
        if ind.kind == "measure":
            extra.append(SummaryGroup(_measure_sentence(row, threshold), ()))
            continue
        subject = _subject(ind, names)
        key = (subject, row.get("cohort", ""))
        if key not in groups:
            groups[key] = (
                f"Of the {_count_words(row.get('cohort', ''), threshold)} {subject}:",
                [],
            )
        phrase = _PHRASES.get(ind.id, f"are counted by “{ind.title}”")
        item = f"{_count_words(row['people'], threshold)}{_percent(row)} {phrase}"
        bench = theirs.get(ind.id)
        bench_row = bench.headline if bench is not None and not names.national else None
        if bench_row is not None:
            shown = (
                f"{bench_row['percent']}%" if _is_released(bench_row.get("percent")) else SUPPRESSED
            )
            item += f" (national benchmark: {shown})"
        groups[key][1].append(item)
    out = [SummaryGroup(lead, tuple(items)) for lead, items in groups.values()]
    return (*out, *extra)


def _measure_sentence(row: Row, threshold: int) -> str:
    people = _count_words(row["people"], threshold)
    start = f"For the {people} people released from custody in the 12 months before they applied, "
    if all(_is_released(row.get(f)) for f in ("p25", "median", "p75")):
        return (
            start + f"the median time from release to application was {row['median']} days; "
            f"the middle half applied between {row['p25']} and {row['p75']} days after release."
        )
    return (
        start + "the median and quartiles of the days to application are withheld: too few "
        "people contribute, or one value is shared by more than half of them."
    )


# --------------------------------------------------------------------------------------
# Previous releases.


def _headline_text(ind: Indicator, row: Row | None) -> str:
    """One release's headline figure of an indicator, as released."""
    if row is None:
        return "Not released"
    people = grouped(row["people"])
    if ind.kind == "measure":
        if _is_released(row.get("median")):
            return f"median {row['median']} days ({people} people)"
        return f"{SUPPRESSED} ({people} people)"
    if ind.kind == "overlaps":
        return f"{people} people"
    return f"{people} of {grouped(row.get('cohort', ''))}{_percent(row)}"


def _previous(mine: Mapping[str, _Rows], previous: Sequence[PreviousRelease]) -> TableView | None:
    if not previous:
        return None
    theirs = [_by_indicator(p.rows) for p in previous]
    columns = ("Indicator", *(p.label for p in previous), "This release")
    rows = []
    for ind in INDICATORS:
        found = [t.get(ind.id) for t in (*theirs, mine)]
        if all(f is None for f in found):
            continue
        cells = [_headline_text(ind, f.headline if f else None) for f in found]
        rows.append((ind.title, *cells))
    return TableView(columns, tuple(rows))


# --------------------------------------------------------------------------------------
# Rendering.


def _missing(area: str, mine: Mapping[str, _Rows]) -> tuple[Indicator, ...]:
    """Indicators this area would receive but has no rows for (their data was not in the
    run). An area counts as a council only if it has rows of a council indicator: a
    central body's code cannot be told from a council's here."""
    council = area != NATIONAL and any(
        COUNCILS in ind.recipients and ind.id in mine for ind in INDICATORS
    )
    return tuple(
        ind
        for ind in INDICATORS
        if ind.id not in mine
        and (area in ind.recipients or (council and COUNCILS in ind.recipients))
    )


def _period_words(mine: Mapping[str, _Rows]) -> str:
    quarters = sorted({q for rows in mine.values() for q in rows.quarters})
    if not quarters:
        return ""
    return f"{quarters[0]} to {quarters[-1]}"


def render_dashboard(
    area: str,
    area_name: str,
    rows: Rows,
    measure_rows: Rows,
    national_rows: Rows,
    national_measure_rows: Rows,
    context: ReleaseContext,
    previous: Sequence[PreviousRelease] = (),
    csv_files: Sequence[str] = (),
) -> str:
    """One area's dashboard as a standalone HTML page (no script, no external resource).

    ``rows`` and ``measure_rows`` are the area's two release files; the national ones give
    the benchmark (pass the same rows again, or nothing, for the national dashboard).
    ``previous`` are earlier releases for the area, oldest first; ``csv_files`` the
    relative links to this release's files."""
    names = _Names(area, area_name, area == NATIONAL)
    mine = _by_indicator([*rows, *measure_rows])
    theirs = {} if names.national else _by_indicator([*national_rows, *national_measure_rows])
    views = tuple(
        _indicator_view(ind, names, mine[ind.id], theirs.get(ind.id), context.threshold)
        for ind in INDICATORS
        if ind.id in mine
    )
    return _ENV.get_template("dashboard.html").render(
        area=area,
        name=area_name,
        national=names.national,
        national_name=NATIONAL_NAME,
        benchmarked=any(ind.id in theirs for ind in INDICATORS if ind.id in mine),
        context=context,
        summary=_summary(names, mine, theirs, context.threshold),
        period=_period_words(mine),
        indicators=views,
        missing=_missing(area, mine),
        previous=_previous(mine, previous),
        previous_runs=tuple(previous),
        csv_files=tuple(csv_files),
        suppressed=SUPPRESSED,
        withheld=WITHHELD.format(threshold=context.threshold),
        css=Markup(PAGE_CSS + DASHBOARD_CSS),  # noqa: S704 (constant text of this module)
    )


def render_index(areas: Sequence[tuple[str, str]], context: ReleaseContext) -> str:
    """The list of a release's dashboards: (area code, name), linked as ``<code>.html``."""
    return _ENV.get_template("dashboard_index.html").render(
        areas=tuple(areas),
        context=context,
        css=Markup(PAGE_CSS + DASHBOARD_CSS),  # noqa: S704 (constant text of this module)
    )


def render_release(
    release_dir: Path,
    out_dir: Path,
    context: ReleaseContext,
    names: Mapping[str, str],
    previous: Mapping[str, Sequence[PreviousRelease]] | None = None,
) -> list[Path]:
    """Every area's dashboard of a release directory (``<area>.csv`` and
    ``<area>-measures.csv``) as ``<area>.html`` in ``out_dir``, and ``index.html``. The
    pages link to the CSV files by name: put them beside the pages."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in release_dir.glob("*.csv") if not p.stem.endswith("-measures"))
    national = _read_pair(release_dir, NATIONAL)
    written = []
    areas = []
    for path in files:
        area = path.stem
        rows, measures = _read_pair(release_dir, area)
        csv_files = [path.name] + (
            [f"{area}-measures.csv"] if (release_dir / f"{area}-measures.csv").exists() else []
        )
        name = names.get(area, NATIONAL_NAME if area == NATIONAL else area)
        html = render_dashboard(
            area,
            name,
            rows,
            measures,
            *national,
            context,
            previous=(previous or {}).get(area, ()),
            csv_files=csv_files,
        )
        out = out_dir / f"{area}.html"
        out.write_text(html, encoding="utf-8")
        written.append(out)
        areas.append((area, name))
    # The national dashboard first: it is everyone's benchmark.
    areas.sort(key=lambda a: (a[0] != NATIONAL, a[1]))
    index = out_dir / "index.html"
    index.write_text(render_index(areas, context), encoding="utf-8")
    return [*written, index]


def _read_pair(
    release_dir: Path, area: str
) -> tuple[tuple[dict[str, str], ...], tuple[dict[str, str], ...]]:
    counts, measures = release_dir / f"{area}.csv", release_dir / f"{area}-measures.csv"
    return (
        read_rows(counts) if counts.exists() else (),
        read_rows(measures) if measures.exists() else (),
    )


# --------------------------------------------------------------------------------------
# Style.

# The standalone file's page frame (the hub has its own, so this is not in DASHBOARD_CSS).
PAGE_CSS = """
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; background: #fff;
  line-height: 1.32; font-size: 19px; }
a { color: #1d70b8; text-underline-offset: 0.1em; } a:visited { color: #4c2c92; }
a:hover { color: #003078; text-decoration-thickness: 3px; }
a:focus { outline: 3px solid transparent; background: #ffdd00; color: #0b0c0c;
  box-shadow: 0 -2px #ffdd00, 0 4px #0b0c0c; text-decoration: none; }
.page-header { background: #0b0c0c; color: #fff; border-bottom: 10px solid #1d70b8; }
.page-header div { max-width: 960px; margin: 0 auto; padding: 10px 15px; font-weight: 700;
  font-size: 24px; }
main { display: block; max-width: 960px; margin: 0 auto; padding: 0 15px 60px; }
h1 { font-size: 48px; line-height: 1.1; margin: 10px 0 30px; }
h2 { font-size: 36px; line-height: 1.15; margin: 50px 0 20px; }
h3 { font-size: 24px; margin: 30px 0 15px; }
p, ul { margin: 0 0 20px; }
table { width: 100%; border-collapse: collapse; margin-bottom: 30px; }
th, td { text-align: left; border-bottom: 1px solid #b1b4b6; padding: 10px 20px 10px 0;
  vertical-align: top; }
.page-footer { border-top: 1px solid #b1b4b6; background: #f3f2f1; padding: 25px 15px;
  font-size: 16px; }
.page-footer p { max-width: 930px; margin: 0 auto; }
@media (max-width: 640px) {
  body { font-size: 16px; } h1 { font-size: 32px; } h2 { font-size: 24px; }
  h3 { font-size: 19px; }
}
@media print {
  .page-header { border-bottom-width: 2px; background: none; color: #0b0c0c; }
  .page-footer { background: none; }
  body { font-size: 12pt; }
}
"""

# Every class the dashboard's <main> uses, scoped under .dashboard so that it restyles
# nothing else on a hub page. The hub can serve this as a stylesheet of its own.
DASHBOARD_CSS = """
.dashboard .dash-caption { display: block; color: #505a5f; font-size: 24px; margin-top: 30px; }
.dashboard .dash-lede { font-size: 24px; }
.dashboard .dash-meta, .dashboard .dash-hint { color: #505a5f; }
.dashboard .dash-sample { border: 5px solid #1d70b8; margin: 30px 0; background: #fff; }
.dashboard .dash-sample-title { background: #1d70b8; color: #fff; font-weight: 700;
  padding: 2px 15px 5px; margin: 0; }
.dashboard .dash-sample-body { padding: 15px; }
.dashboard .dash-sample-body p:last-child { margin-bottom: 0; }
.dashboard .dash-back { display: inline-block; margin-top: 20px; font-size: 16px; }
.dashboard .dash-contents { border-top: 1px solid #b1b4b6; border-bottom: 1px solid #b1b4b6;
  margin: 0 0 30px; padding: 15px 0 0; }
.dashboard .dash-contents h2 { font-size: 19px; margin: 0 0 10px; }
.dashboard .dash-contents ol { list-style: none; padding: 0; margin: 0 0 15px;
  columns: 2 16em; }
.dashboard .dash-contents li { margin-bottom: 5px; padding-left: 25px; position: relative; }
.dashboard .dash-contents li::before { content: "—"; position: absolute; left: 0;
  color: #505a5f; }
.dashboard .dash-summary { background: #f3f2f1; padding: 20px 20px 5px; margin-bottom: 30px; }
.dashboard .dash-summary h2 { margin-top: 0; }
.dashboard .dash-summary ul { padding-left: 20px; }
.dashboard .dash-summary li { margin-bottom: 10px; }
.dashboard .dash-indicator { border-top: 2px solid #1d70b8; margin-top: 40px;
  padding-top: 5px; }
.dashboard .dash-indicator h3 { margin-top: 15px; }
.dashboard .dash-headline { font-weight: 700; }
.dashboard .dash-why { border-left: 10px solid #b1b4b6; padding: 10px 15px; margin: 0 0 25px; }
.dashboard .dash-why p { margin: 0; }
.dashboard .dash-figures { display: grid; gap: 10px 30px;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); }
.dashboard .dash-figure { margin: 0 0 25px; min-width: 0; }
.dashboard .dash-figure.dash-wide { grid-column: 1 / -1; }
.dashboard .dash-figure figcaption { font-weight: 700; margin-bottom: 10px; }
.dashboard svg.chart { display: block; max-width: 100%; height: auto; }
/* A chart across the page may grow with it up to 700px; growing further would make its
   words larger than the page's own. */
.dashboard .dash-wide svg.chart { width: 100%; max-width: 700px; }
.dashboard .dash-note { color: #505a5f; font-size: 16px; margin: 8px 0 0; }
.dashboard details { margin: 10px 0 30px; }
.dashboard summary { color: #1d70b8; cursor: pointer; text-decoration: underline;
  text-underline-offset: 0.1em; display: list-item; }
.dashboard summary:hover { color: #003078; }
.dashboard summary:focus { outline: 3px solid transparent; background: #ffdd00;
  color: #0b0c0c; box-shadow: 0 -2px #ffdd00, 0 4px #0b0c0c; text-decoration: none; }
.dashboard details[open] > .dash-table-wrap { border-left: 5px solid #b1b4b6;
  padding: 10px 0 0 15px; margin-top: 10px; }
.dashboard .dash-table-wrap { overflow-x: auto; }
.dashboard table.dash-table { font-size: 16px; margin-bottom: 20px; }
.dashboard table.dash-table th, .dashboard table.dash-table td { padding: 6px 15px 6px 0; }
.dashboard table.dash-table caption { text-align: left; font-weight: 700; margin-bottom: 10px; }
/* Figures right-aligned by column (a class on every cell would double the tables' size):
   a release table's figures start at its fourth column, a comparison's at its second. */
.dashboard .dash-release td:nth-child(n+4), .dashboard .dash-release th:nth-child(n+4),
.dashboard .dash-compare td:nth-child(n+2), .dashboard .dash-compare th:nth-child(n+2) {
  text-align: right; font-variant-numeric: tabular-nums; }
.dashboard .dash-release td:nth-child(n+4) { white-space: nowrap; }
.dashboard .dash-list { margin: 0 0 30px; }
.dashboard .dash-list div { display: flex; flex-wrap: wrap; border-bottom: 1px solid #b1b4b6; }
.dashboard .dash-list dt { font-weight: 700; width: 30%; min-width: 10em;
  padding: 10px 20px 10px 0; }
.dashboard .dash-list dd { margin: 0; flex: 1 1 15em; padding: 10px 0; overflow-wrap: anywhere; }
.dashboard .dash-rules li { margin-bottom: 10px; }
.dashboard .dash-downloads li { margin-bottom: 10px; }
@media (max-width: 640px) {
  .dashboard .dash-caption, .dashboard .dash-lede { font-size: 19px; }
  .dashboard .dash-summary { padding: 15px 15px 1px; }
  .dashboard table.dash-table { font-size: 14px; }
  .dashboard table.dash-table th, .dashboard table.dash-table td { padding-right: 8px; }
}
@media print {
  .dashboard .dash-contents, .dashboard .dash-back { display: none; }
  .dashboard .dash-sample { border-width: 3px; }
  /* Browsers leave backgrounds out of print: white on blue would print as nothing. */
  .dashboard .dash-sample-title { background: none; color: #0b0c0c;
    border-bottom: 3px solid #1d70b8; }
  .dashboard .dash-summary { background: none; border: 1px solid #b1b4b6; }
  /* Each section, indicator and chart kept on one page where it fits. The tables stay
     folded away in print: a quarter-by-category table runs to pages; the CSV has it. */
  .dashboard section:not(#indicators), .dashboard .dash-figure, .dashboard tr {
    break-inside: avoid; }
  .dashboard h2, .dashboard h3 { break-after: avoid; }
  .dashboard details { display: none; }
  .dashboard a { color: #0b0c0c; }
}
"""
