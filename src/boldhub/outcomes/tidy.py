"""The tidy release files: every indicator of the catalogue, by quarter and breakdown, as CSV.

Three steps, kept apart so that each can be checked on its own:

1. :func:`compute_tables` (DuckDB over the run's links and each submission's attributes)
   gives the *raw* counts of each (area, indicator): cohort and people by period (the
   quarter ``YYYY-Qn`` of the index date, and ``All``) x breakdown x category. They never
   leave the hub.
2. :func:`protect_tables` puts each count table through :func:`disclosure.protect`, with
   the sums a reader (and so an attacker) knows: a breakdown's categories add up to the
   period's total, a category's quarters to its ``All`` period, and every breakdown
   shares the one total per period (the ``none`` row).
3. :func:`write_release_files` writes ``<area>.csv`` (counts and percentages) and
   ``<area>-measures.csv`` (magnitudes: quartiles of days).

A magnitude's quartiles are released only where its people count is released (so at least
``threshold`` people contribute) and no single value dominates: the most frequent value
is held by at most half of the contributors. Otherwise the median would be that value,
and would tell a reader what happened to most of a small group.
"""

from __future__ import annotations

import math
import os
import pickle
import statistics
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from pathlib import Path

import duckdb

from boldhub.outcomes.catalogue import (
    ALL,
    BREAKDOWNS,
    COMBINATION,
    COUNCILS,
    EVENT_KINDS,
    INDICATORS,
    NATIONAL,
    Indicator,
)
from boldhub.outcomes.disclosure import SUPPRESSED, THRESHOLD, Protected, Sum, Table, protect
from boldhub.safecsv import write_csv

NONE = "none"
# Which periods, breakdowns and categories a table has: cell = (period, breakdown, category).
Cell = tuple[str, str, str]
RATE_HEADER = (
    "area",
    "indicator",
    "period",
    "breakdown",
    "category",
    "people",
    "cohort",
    "percent",
)
MEASURE_HEADER = (
    "area",
    "indicator",
    "period",
    "breakdown",
    "category",
    "people",
    "p25",
    "median",
    "p75",
)
# Below this many tables per worker, starting worker processes (about a second each, for
# their imports) costs more than it saves.
_TABLES_PER_WORKER = 8
# The largest share of contributors one value may hold for a magnitude to be released.
DOMINANCE_SHARE = 0.5
_DATASET_ORDER = ("homelessness", "probation", "treatment", "victims")


@dataclass(frozen=True)
class AttributeInput:
    """One submission's attributes file in a run."""

    source: str  # "<dataset>:<organisation>"
    path: Path


@dataclass(frozen=True)
class Layout:
    """The cells of one table, in the order they are written."""

    quarters: tuple[str, ...]
    categories: tuple[tuple[str, tuple[str, ...]], ...]  # (breakdown, its categories)

    @property
    def periods(self) -> tuple[str, ...]:
        return (ALL, *self.quarters)

    def cells(self) -> list[Cell]:
        out: list[Cell] = []
        for period in self.periods:
            out.append((period, NONE, ALL))
            for breakdown, cats in self.categories:
                out.extend((period, breakdown, c) for c in cats)
        return out

    def sums(self) -> list[Sum[Cell]]:
        """Every sum a reader knows holds between the cells."""
        out: list[Sum[Cell]] = []
        for period in self.periods:
            for breakdown, cats in self.categories:
                out.append(((period, NONE, ALL), tuple((period, breakdown, c) for c in cats)))
        if self.quarters:
            for breakdown, cats in ((NONE, (ALL,)), *self.categories):
                for c in cats:
                    parts = tuple((q, breakdown, c) for q in self.quarters)
                    out.append(((ALL, breakdown, c), parts))
        return out


@dataclass(frozen=True)
class RawTable:
    """The unprotected counts of one (area, indicator): never released as they are.

    ``cohort`` is empty for a magnitude and for the overlaps; ``values`` holds, for a
    magnitude, each cell's contributors' values (days), sorted.
    """

    area: str
    indicator: Indicator
    layout: Layout
    people: dict[Cell, int]
    cohort: dict[Cell, int]
    values: dict[Cell, tuple[int, ...]]


@dataclass(frozen=True)
class ReleasedTable:
    """One (area, indicator) as released: protected counts and, for a magnitude, the
    quartiles (None where withheld)."""

    area: str
    indicator: Indicator
    layout: Layout
    people: Protected[Cell]
    cohort: Protected[Cell] | None
    quartiles: dict[Cell, tuple[int, int, int] | None]


# --------------------------------------------------------------------------------------
# 1. Raw counts.


def compute_tables(
    links: Path,
    attributes: Sequence[AttributeInput],
    indicators: Sequence[Indicator] = INDICATORS,
) -> list[RawTable]:
    """The raw tables of every indicator whose datasets are in the run, per area."""
    con = duckdb.connect()
    try:
        present = _load_events(con, links, attributes, indicators)
        out: list[RawTable] = []
        for ind in indicators:
            if not ind.datasets <= present:
                continue
            if ind.kind == "overlaps":
                out.extend(_overlaps(con, ind, present))
            else:
                out.extend(_indicator_tables(con, ind))
        return out
    finally:
        con.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _load_events(
    con: duckdb.DuckDBPyConnection,
    links: Path,
    attributes: Sequence[AttributeInput],
    indicators: Sequence[Indicator],
) -> frozenset[str]:
    """Table ``events``: one row per record and event kind, with the attributes the
    catalogue breaks down or filters by; returns the datasets present."""
    con.execute(f"CREATE VIEW links AS SELECT * FROM read_parquet({_quote(str(links))})")
    wanted = sorted(
        {b.attribute for b in BREAKDOWNS.values()}
        | {i.outcome.flag for i in indicators if i.outcome is not None and i.outcome.flag}
    )
    parts = []
    for i, a in enumerate(attributes):
        dataset, org = a.source.split(":", 1)
        con.execute(f"CREATE VIEW attr_{i} AS SELECT * FROM read_parquet({_quote(str(a.path))})")
        columns = {row[0] for row in con.execute(f"DESCRIBE attr_{i}").fetchall()}
        extra = ", ".join(
            f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in columns else f'NULL::VARCHAR AS "{c}"'
            for c in wanted
        )
        for event, (d1, d2) in EVENT_KINDS[dataset].items():
            parts.append(
                f"SELECT record_key, {_quote(dataset)} AS dataset, {_quote(org)} AS org, "
                f"{_quote(event)} AS event, TRY_CAST({d1} AS DATE) AS d1, "
                f"TRY_CAST({d2} AS DATE) AS d2, {extra} FROM attr_{i}"
            )
    if not parts:
        con.execute("CREATE TABLE events (person_key VARCHAR, dataset VARCHAR)")
        return frozenset()
    con.execute(
        "CREATE TABLE events AS SELECT l.person_key, a.* FROM ("
        + " UNION ALL ".join(parts)
        + ") a JOIN links l USING (record_key) WHERE a.d1 IS NOT NULL"
    )
    return frozenset(a.source.split(":", 1)[0] for a in attributes)


def _cohort_sql(ind: Indicator) -> str:
    """Each cohort member per area, with their index record (the first event, ties broken
    by record key so that the same data always gives the same breakdown)."""
    assert ind.cohort is not None
    selects = []
    for recipient in ind.recipients:
        if recipient == NATIONAL:
            area, where = _quote(NATIONAL), ""
        elif recipient == COUNCILS:
            area, where = "org", ""
        else:
            area, where = "org", f" AND org = {_quote(recipient)}"
        selects.append(
            f"SELECT {area} AS area, * FROM events WHERE dataset = {_quote(ind.cohort.dataset)} "
            f"AND event = {_quote(ind.cohort.event)}{where}"
        )
    return (
        "SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY area, "
        "person_key ORDER BY d1, record_key) AS rn FROM (" + " UNION ALL ".join(selects) + ")) "
        "WHERE rn = 1"
    )


def _outcome_condition(ind: Indicator) -> str:
    """SQL over cohort row ``c`` and event ``e``: the event counts for the outcome."""
    o = ind.outcome
    assert o is not None
    lo, hi = o.window
    conds = [f"e.dataset = {_quote(o.dataset)}", f"e.event = {_quote(o.event)}"]
    if o.spell:
        # A spell still open (no end date) is treated as going on past the window.
        conds.append(f"e.d1 - c.d1 <= {hi} AND (e.d2 IS NULL OR e.d2 - c.d1 >= {lo})")
    else:
        conds.append(f"e.d1 - c.d1 BETWEEN {lo} AND {hi}")
    if o.flag:
        conds.append(f"e.\"{o.flag}\" = 'Y'")
    if o.place == "same":
        conds.append("e.org = c.org")
    elif o.place == "other":
        conds.append("e.org <> c.org")
    return " AND ".join(conds)


def _indicator_tables(con: duckdb.DuckDBPyConnection, ind: Indicator) -> list[RawTable]:
    assert ind.outcome is not None
    attrs = [BREAKDOWNS[b].attribute for b in ind.breakdowns]
    cols = ", ".join(f'c."{a}"' for a in attrs)
    # A magnitude: days from the latest qualifying event to the index date.
    agg = "min(c.d1 - e.d1)" if ind.outcome.magnitude else "CAST(count(e.person_key) > 0 AS INT)"
    rows = con.execute(
        f"SELECT c.area, c.d1, {cols}, {agg} FROM ({_cohort_sql(ind)}) c "
        f"LEFT JOIN events e ON e.person_key = c.person_key AND {_outcome_condition(ind)} "
        f"GROUP BY c.area, c.person_key, c.d1, {cols} ORDER BY c.area, c.person_key"
    ).fetchall()
    by_area: dict[str, list[tuple[date, list[str], int | None]]] = {}
    for area, index_date, *rest in rows:
        cats = [BREAKDOWNS[b].category(v) for b, v in zip(ind.breakdowns, rest[:-1], strict=True)]
        by_area.setdefault(area, []).append((index_date, cats, rest[-1]))
    return [_raw_table(area, ind, persons) for area, persons in sorted(by_area.items())]


def quarter(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def _quarter_range(dates: Iterable[date]) -> tuple[str, ...]:
    """Every quarter from the first date's to the last's, empty ones included (a gap would
    hide that a quarter had no one, and the quarters must add up to the whole)."""
    ds = list(dates)
    if not ds:
        return ()
    lo, hi = min(ds), max(ds)
    out = []
    year, q = lo.year, (lo.month - 1) // 3
    while (year, q) <= (hi.year, (hi.month - 1) // 3):
        out.append(f"{year}-Q{q + 1}")
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return tuple(out)


def _raw_table(
    area: str, ind: Indicator, persons: list[tuple[date, list[str], int | None]]
) -> RawTable:
    layout = Layout(
        _quarter_range(d for d, _, _ in persons),
        tuple((b, BREAKDOWNS[b].all_categories) for b in ind.breakdowns),
    )
    measure = ind.kind == "measure"
    people = dict.fromkeys(layout.cells(), 0)
    cohort = {} if measure else dict.fromkeys(layout.cells(), 0)
    values: dict[Cell, list[int]] = {}
    for index_date, cats, result in persons:
        keys = [(p, NONE, ALL) for p in (ALL, quarter(index_date))]
        for b, c in zip(ind.breakdowns, cats, strict=True):
            keys += [(p, b, c) for p in (ALL, quarter(index_date))]
        for key in keys:
            if not measure:
                cohort[key] += 1
                people[key] += int(result or 0)
            elif result is not None:
                people[key] += 1
                values.setdefault(key, []).append(int(result))
    frozen = {k: tuple(sorted(v)) for k, v in values.items()}
    return RawTable(area, ind, layout, people, cohort, frozen)


def _overlaps(
    con: duckdb.DuckDBPyConnection, ind: Indicator, present: frozenset[str]
) -> list[RawTable]:
    """Every linked person once, under the combination of datasets they appear in."""
    rows = con.execute(
        "SELECT combo, count(*) FROM (SELECT person_key, "
        "string_agg(DISTINCT split_part(source, ':', 1), '+' ORDER BY split_part(source, ':', 1)) "
        "AS combo FROM links GROUP BY person_key) GROUP BY combo"
    ).fetchall()
    counts = {str(combo): int(n) for combo, n in rows}
    datasets = [d for d in _DATASET_ORDER if d in present]
    combos = tuple(
        "+".join(sorted(chosen))
        for size in range(1, len(datasets) + 1)
        for chosen in combinations(datasets, size)
    )
    layout = Layout((), ((COMBINATION, combos),))
    people = dict.fromkeys(layout.cells(), 0)
    for combo in combos:
        people[(ALL, COMBINATION, combo)] = counts.get(combo, 0)
    people[(ALL, NONE, ALL)] = sum(people[(ALL, COMBINATION, c)] for c in combos)
    return [RawTable(NATIONAL, ind, layout, people, {}, {})]


# --------------------------------------------------------------------------------------
# 2. Protection.


def protect_tables(raws: Sequence[RawTable], *, threshold: int = THRESHOLD) -> list[ReleasedTable]:
    """Disclosure-control every table. Indicators sharing a cohort and layout in an area
    share one protected cohort table, so a cohort count reads the same everywhere.

    Each table's secondary suppression is a few hundred small linear programmes (seconds
    per table: the cost of the release files).
    """
    jobs: list[Table[Cell]] = []
    cohort_job: dict[tuple[str, str, Layout], int] = {}
    places: list[tuple[int, int | None]] = []  # per raw table: its people and cohort jobs
    for raw in raws:
        jobs.append(Table(raw.people, raw.layout.sums()))
        place: tuple[int, int | None] = (len(jobs) - 1, None)
        if raw.cohort and raw.indicator.cohort is not None:
            key = (raw.area, raw.indicator.cohort.id, raw.layout)
            if key not in cohort_job:
                cohort_job[key] = len(jobs)
                jobs.append(Table(raw.cohort, raw.layout.sums()))
            place = (place[0], cohort_job[key])
        places.append(place)
    done = _protect_all(jobs, threshold)
    out = []
    for raw, (people_at, cohort_at) in zip(raws, places, strict=True):
        people = done[people_at]
        cohort = None if cohort_at is None else done[cohort_at]
        quartiles = (
            {cell: _quartiles(raw.values.get(cell, ()), people.values[cell]) for cell in raw.people}
            if raw.indicator.kind == "measure"
            else {}
        )
        out.append(ReleasedTable(raw.area, raw.indicator, raw.layout, people, cohort, quartiles))
    return out


def _protect_all(jobs: list[Table[Cell]], threshold: int) -> list[Protected[Cell]]:
    """Every table, on every core: the tables are independent, and each one's result does
    not depend on where it ran. The first share is protected here, the others in worker
    interpreters (``protect_worker``) at the same time."""
    workers = min(os.cpu_count() or 1, len(jobs) // _TABLES_PER_WORKER)
    if workers < 2:
        return [protect(job, threshold=threshold) for job in jobs]
    # Interleaved shares: table sizes run in catalogue order, so each share gets a mix.
    shares = [jobs[i::workers] for i in range(workers)]
    procs = []
    for share in shares[1:]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "boldhub.outcomes.protect_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdin is not None
        proc.stdin.write(pickle.dumps((share, threshold), protocol=pickle.HIGHEST_PROTOCOL))
        proc.stdin.close()
        procs.append(proc)
    results: list[list[Protected[Cell]]] = [
        [protect(job, threshold=threshold) for job in shares[0]]
    ]
    for proc in procs:
        assert proc.stdout is not None
        data = proc.stdout.read()
        if proc.wait() != 0:
            raise RuntimeError(f"a disclosure-control worker failed (exit {proc.returncode})")
        results.append(pickle.loads(data))  # noqa: S301 (our own worker's output)
    out: list[Protected[Cell] | None] = [None] * len(jobs)
    for i, done in enumerate(results):
        out[i::workers] = done
    return [p for p in out if p is not None]


def _quartiles(values: Sequence[int], released: int | None) -> tuple[int, int, int] | None:
    """Quartiles of a cell's values (whole days, half up), or None when withheld: its
    count suppressed, or one value held by more than DOMINANCE_SHARE of contributors."""
    if released is None or len(values) < 2:
        return None
    if Counter(values).most_common(1)[0][1] > DOMINANCE_SHARE * len(values):
        return None
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return _half_up(q1), _half_up(q2), _half_up(q3)


def _half_up(x: float) -> int:
    return math.floor(x + 0.5)


# --------------------------------------------------------------------------------------
# 3. Files.


def _count(v: int | None) -> str:
    return SUPPRESSED if v is None else str(v)


def _rate_rows(t: ReleasedTable) -> list[list[str]]:
    rows = []
    total = t.people.values[(ALL, NONE, ALL)]
    for cell in t.layout.cells():
        people = t.people.values[cell]
        # The overlaps' base is every linked person: the table's own total.
        cohort = t.cohort.values[cell] if t.cohort is not None else total
        percent = "" if people is None or not cohort else f"{100 * people / cohort:.1f}"
        rows.append([t.area, t.indicator.id, *cell, _count(people), _count(cohort), percent])
    return rows


def _measure_rows(t: ReleasedTable) -> list[list[str]]:
    rows = []
    for cell in t.layout.cells():
        q = t.quartiles.get(cell)
        stats = [SUPPRESSED] * 3 if q is None else [str(v) for v in q]
        rows.append([t.area, t.indicator.id, *cell, _count(t.people.values[cell]), *stats])
    return rows


def write_release_files(outcomes: Sequence[ReleasedTable], out_dir: Path) -> list[Path]:
    """``<area>.csv`` for every area, and ``<area>-measures.csv`` where it has magnitudes;
    areas in name order, indicators in catalogue order. Returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    order = {ind.id: i for i, ind in enumerate(INDICATORS)}
    written = []
    for area in sorted({t.area for t in outcomes}):
        tables = sorted(
            (t for t in outcomes if t.area == area), key=lambda t: order.get(t.indicator.id, 0)
        )
        rates = [row for t in tables if t.indicator.kind != "measure" for row in _rate_rows(t)]
        path = out_dir / f"{area}.csv"
        write_csv(path, RATE_HEADER, rates)
        written.append(path)
        measures = [
            row for t in tables if t.indicator.kind == "measure" for row in _measure_rows(t)
        ]
        if measures:
            path = out_dir / f"{area}-measures.csv"
            write_csv(path, MEASURE_HEADER, measures)
            written.append(path)
    return written


def release_files(
    links: Path,
    attributes: Sequence[AttributeInput],
    out_dir: Path,
    *,
    threshold: int = THRESHOLD,
) -> list[Path]:
    """Compute, protect and write the tidy release files of a run."""
    return write_release_files(
        protect_tables(compute_tables(links, attributes), threshold=threshold), out_dir
    )
