"""A whole-release attacker: one linear programme over every count a release publishes.

:func:`boldhub.outcomes.disclosure.protect` protects each table on its own, against the
sums inside that table. A reader holds the whole release, though: every file of every
area, and whatever the catalogue says about how the tables relate. This module reads a
release folder as that reader would (:func:`read_release`), writes down every identity
the reader can justify (:func:`reader_constraints`), and attacks ``[c]`` cells with all of
it at once (:class:`JointAttack`): the least and greatest value a linear programme over
the whole release allows. That programme is large (the small test demo's: 22,752 counts,
32,412 identities) and each cell costs seconds, so the tests attack each table on its own
(``tests/integration/test_release_attack.py``) and the joint attack is run on a sample of
cells by ``benchmarks/release_joint_attack.py``.

The reader's knowledge, each item true of every release (:func:`violated` checks it
against the true counts):

* published ``v`` is a count in ``[max(v-2, 10), v+2]``; ``[c]`` is ``>= 0`` (the reader
  cannot tell a primary suppression from a secondary one; :func:`attack` can also be told
  which is which, the stronger attacker ``protect`` guards each table against);
* within a table (one column of one area's indicator): a breakdown's categories add up to
  the period's ``none`` row and the quarters to the ``All`` period (``tidy.Layout.sums``);
* the cohort column of indicators sharing a cohort in one area is one count (one variable
  here, however many rows repeat it), and the overlaps' cohort column is their own total;
* people with an outcome are among the cohort (``people <= cohort``, cell by cell); the
  magnitude's people (a release in the 365 days before applying) are among the cohort and
  include everyone released in the 91 days before (``homeless_release_before``); a
  domestic-abuse victims' referral is a victims' referral (``homeless_victim_da_around <=
  homeless_victim_around``);
* a person in the national homelessness cohort is indexed at their first application at
  any council, which is also their first at that council, with the same record: so in
  every cell, each national homelessness count (cohort, and people of every indicator) is
  at most the sum of the councils' same cells; and every council's cohort total is at most
  the national one;
* the overlaps count every linked person once: the national homelessness cohort (every
  applicant, the application date being a required field) is exactly the sum of the
  combinations containing homelessness, and likewise the treatment and victims cohorts
  (one provider each, referral date required); the probation cohort (custody without a
  release has no index event) is at most its combinations' sum; and the people of an
  outcome in another dataset are at most the combinations containing both datasets.
"""

from __future__ import annotations

import csv
import filecmp
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import highspy
import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array  # type: ignore[import-untyped]

from boldhub.hub.ingest import current_submissions
from boldhub.hub.linking import latest_run, links_path
from boldhub.hub.store import ATTRIBUTES_DIR, open_hub
from boldhub.outcomes.catalogue import (
    ALL,
    BREAKDOWNS,
    COMBINATION,
    COUNCILS,
    INDICATORS,
    NATIONAL,
    UNKNOWN,
    get_indicator,
)
from boldhub.outcomes.disclosure import (
    ROUNDING_BASE,
    SUPPRESSED,
    THRESHOLD,
    Protected,
    Release,
    attacker_ranges,
    control_count,
    rounding_interval,
)
from boldhub.outcomes.tidy import (
    MEASURE_HEADER,
    NONE,
    RATE_HEADER,
    AttributeInput,
    Cell,
    Layout,
    RawTable,
    ReleasedTable,
    Sum,
    compute_tables,
    protect_tables,
    write_release_files,
)

# One count of the release: ("people", area, indicator, period, breakdown, category) or
# ("cohort", area, cohort id, period, breakdown, category). A cohort count repeated under
# several indicators is one variable.
Var = tuple[str, str, str, str, str, str]
# Counts are never this large: a bound that keeps every programme bounded without ever
# binding on a cell whose range matters (a range that reaches it is wide anyway).
CAP = 1e7
HOMELESS_MEASURE = "homeless_days_from_release"


def label(var: Var) -> str:
    column, area, table, period, breakdown, category = var
    return f"{area} {table} {period} {breakdown}={category} ({column})"


# --------------------------------------------------------------------------------------
# Reading a release.


@dataclass
class ReleaseFiles:
    """Every count of a release folder: its value (None for ``[c]``), where it was read,
    and each (area, indicator) table's shape as the files show it."""

    values: dict[Var, int | None] = field(default_factory=dict)
    places: dict[Var, list[str]] = field(default_factory=dict)
    layouts: dict[tuple[str, str], Layout] = field(default_factory=dict)
    counts: list[tuple[str, str]] = field(default_factory=list)  # (place, text) of every count
    conflicts: list[str] = field(default_factory=list)  # one count published two ways

    def suppressed(self) -> list[Var]:
        return [k for k, v in self.values.items() if v is None]

    def _put(self, var: Var, text: str, place: str) -> None:
        self.counts.append((place, text))
        value = None if text == SUPPRESSED else int(text)
        if var in self.values and self.values[var] != value:
            self.conflicts.append(f"{label(var)}: {self.values[var]} and {value} ({place})")
        self.values.setdefault(var, value)
        self.places.setdefault(var, []).append(place)


def people_var(area: str, indicator: str, cell: Cell) -> Var:
    return ("people", area, indicator, *cell)


def cohort_var(area: str, indicator: str, cell: Cell) -> Var:
    """The variable of a cohort count: the indicator's cohort in the area; for the
    overlaps (whose base is every linked person) their own total."""
    ind = get_indicator(indicator)
    if ind.cohort is None:
        return people_var(area, indicator, (ALL, NONE, ALL))
    return ("cohort", area, ind.cohort.id, *cell)


def read_release(folder: Path) -> ReleaseFiles:
    """Every ``*.csv`` of a release folder (rate files and ``-measures`` files)."""
    out = ReleaseFiles()
    cells: dict[tuple[str, str], list[Cell]] = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = tuple(next(reader))
            assert header in (RATE_HEADER, MEASURE_HEADER), f"{path.name}: header {header}"
            for n, row in enumerate(reader, start=2):
                rec = dict(zip(header, row, strict=True))
                area, indicator = rec["area"], rec["indicator"]
                cell = (rec["period"], rec["breakdown"], rec["category"])
                cells.setdefault((area, indicator), []).append(cell)
                where = f"{path.name}:{n}"
                out._put(people_var(area, indicator, cell), rec["people"], f"{where}:people")
                if header == RATE_HEADER:
                    out._put(cohort_var(area, indicator, cell), rec["cohort"], f"{where}:cohort")
    for key, found in cells.items():
        periods = list(dict.fromkeys(p for p, _, _ in found))
        cats: dict[str, list[str]] = {}
        for _, b, c in found:
            if b != NONE:
                cats.setdefault(b, [])
                if c not in cats[b]:
                    cats[b].append(c)
        out.layouts[key] = Layout(
            tuple(p for p in periods if p != ALL), tuple((b, tuple(c)) for b, c in cats.items())
        )
    return out


# --------------------------------------------------------------------------------------
# The checks a release must pass before any attack.


def count_problems(files: ReleaseFiles, *, threshold: int = THRESHOLD) -> list[str]:
    """Every count that is neither ``[c]`` nor a multiple of 5 of at least ``threshold``."""
    bad = []
    for place, text in files.counts:
        if text == SUPPRESSED:
            continue
        if not text.isdigit() or int(text) % ROUNDING_BASE or int(text) < threshold:
            bad.append(f"{place}: {text!r}")
    return bad


def _quarters(first: str, last: str) -> list[str]:
    year, q = int(first[:4]), int(first[-1])
    out = []
    while (year, q) <= (int(last[:4]), int(last[-1])):
        out.append(f"{year}-Q{q}")
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def structure_problems(files: ReleaseFiles) -> list[str]:
    """Incomplete tables: a breakdown without all its categories (``Unknown`` included),
    a missing quarter between the first and the last, a period without every row, a
    missing cohort or overlaps combination."""
    bad = []
    rows_of: dict[tuple[str, str], set[Cell]] = {}
    for var in files.values:
        if var[0] == "people":
            rows_of.setdefault((var[1], var[2]), set()).add((var[3], var[4], var[5]))
    for (area, indicator), layout in files.layouts.items():
        name = f"{area} {indicator}"
        ind = get_indicator(indicator)
        if ind.kind == "overlaps":
            assert len(layout.categories) == 1
            combos = set(layout.categories[0][1])
            singles = sorted(c for c in combos if "+" not in c)
            expected = {
                "+".join(chosen)
                for size in range(1, len(singles) + 1)
                for chosen in combinations(singles, size)
            }
            if combos != expected or layout.quarters:
                bad.append(f"{name}: combinations {sorted(combos ^ expected)} or quarters")
        else:
            got = dict(layout.categories)
            if set(got) != set(ind.breakdowns):
                bad.append(f"{name}: breakdowns {sorted(got)}, not {list(ind.breakdowns)}")
            for b, cats in got.items():
                if b in BREAKDOWNS and set(cats) != set(BREAKDOWNS[b].all_categories):
                    bad.append(f"{name} {b}: categories {cats}")
                if UNKNOWN not in cats:
                    bad.append(f"{name} {b}: no {UNKNOWN} category")
            if not layout.quarters:
                bad.append(f"{name}: no quarters")
            elif list(layout.quarters) != _quarters(layout.quarters[0], layout.quarters[-1]):
                bad.append(
                    f"{name}: quarters {layout.quarters[0]}..{layout.quarters[-1]} with gaps"
                )
        if rows_of.get((area, indicator), set()) != set(layout.cells()):
            bad.append(f"{name}: not every period has every breakdown's rows")
    return bad


# --------------------------------------------------------------------------------------
# What the reader knows: linear constraints between the variables.


@dataclass(frozen=True)
class Constraint:
    """``lo <= sum(coef * var) <= hi``, and which identity it is."""

    terms: tuple[tuple[Var, float], ...]
    lo: float
    hi: float
    why: str


def _eq(total: Var, parts: Iterable[Var], why: str) -> Constraint:
    return Constraint(((total, 1.0), *((p, -1.0) for p in parts)), 0.0, 0.0, why)


def _le(small: Iterable[Var], big: Iterable[Var], why: str) -> Constraint:
    """sum(small) <= sum(big)."""
    return Constraint((*((s, 1.0) for s in small), *((b, -1.0) for b in big)), -math.inf, 0.0, why)


def reader_constraints(files: ReleaseFiles) -> list[Constraint]:
    """Every identity between the release's counts that the reader can justify (the
    module's docstring says why each holds)."""
    out: list[Constraint] = []
    seen_cohorts: set[tuple[str, str]] = set()
    areas = sorted({a for a, _ in files.layouts})
    councils = [a for a in areas if (a, "homeless_repeat_other") in files.layouts and a != NATIONAL]
    # Within-table sums.
    for (area, indicator), layout in files.layouts.items():
        ind = get_indicator(indicator)
        for total, parts in layout.sums():
            out.append(
                _eq(
                    people_var(area, indicator, total),
                    [people_var(area, indicator, p) for p in parts],
                    f"{area} {indicator} people: sum",
                )
            )
        if ind.kind == "rate" and ind.cohort is not None:
            if (area, ind.cohort.id) not in seen_cohorts:
                seen_cohorts.add((area, ind.cohort.id))
                for total, parts in layout.sums():
                    out.append(
                        _eq(
                            cohort_var(area, indicator, total),
                            [cohort_var(area, indicator, p) for p in parts],
                            f"{area} {ind.cohort.id} cohort: sum",
                        )
                    )
            for cell in layout.cells():
                out.append(
                    _le(
                        [people_var(area, indicator, cell)],
                        [cohort_var(area, indicator, cell)],
                        f"{area} {indicator}: people <= cohort",
                    )
                )
    # Within an area, across indicators of the homelessness cohort.
    for area in areas:
        measure = files.layouts.get((area, HOMELESS_MEASURE))
        if measure is not None:
            for cell in measure.cells():
                days = people_var(area, HOMELESS_MEASURE, cell)
                out.append(
                    _le(
                        [days],
                        [cohort_var(area, "homeless_release_before", cell)],
                        f"{area} {HOMELESS_MEASURE}: people <= cohort",
                    )
                )
                if (area, "homeless_release_before") in files.layouts:
                    out.append(
                        _le(
                            [people_var(area, "homeless_release_before", cell)],
                            [days],
                            f"{area}: released in 91 days <= released in 365 days",
                        )
                    )
        da = files.layouts.get((area, "homeless_victim_da_around"))
        if da is not None and (area, "homeless_victim_around") in files.layouts:
            for cell in da.cells():
                out.append(
                    _le(
                        [people_var(area, "homeless_victim_da_around", cell)],
                        [people_var(area, "homeless_victim_around", cell)],
                        f"{area}: domestic-abuse referral <= any victims' referral",
                    )
                )
    # National against councils: the national index record is the council's.
    if councils:
        for indicator in [i.id for i in INDICATORS if i.recipients == (COUNCILS, NATIONAL)]:
            layout = files.layouts.get((NATIONAL, indicator))
            if layout is None:
                continue
            has = {
                c: set(files.layouts.get((c, indicator), Layout((), ())).cells()) for c in councils
            }
            rate = get_indicator(indicator).kind == "rate"
            for var in (people_var, cohort_var) if rate else (people_var,):
                for cell in layout.cells():
                    out.append(
                        _le(
                            [var(NATIONAL, indicator, cell)],
                            [var(c, indicator, cell) for c in councils if cell in has[c]],
                            f"national {indicator} <= sum of councils",
                        )
                    )
        total = (ALL, NONE, ALL)
        for c in councils:
            out.append(
                _le(
                    [cohort_var(c, "homeless_repeat_other", total)],
                    [cohort_var(NATIONAL, "homeless_repeat_other", total)],
                    f"{c} homeless cohort <= national",
                )
            )
    # The overlaps against the cohorts and the outcomes.
    overlaps = files.layouts.get((NATIONAL, "dataset_overlaps"))
    if overlaps is not None:
        combos = overlaps.categories[0][1]

        def having(*datasets: str) -> list[Var]:
            return [
                people_var(NATIONAL, "dataset_overlaps", (ALL, COMBINATION, c))
                for c in combos
                if set(datasets) <= set(c.split("+"))
            ]

        total = (ALL, NONE, ALL)
        for area, indicator in files.layouts:
            ind = get_indicator(indicator)
            if ind.cohort is None or (area != NATIONAL and area in councils):
                continue
            cohort = ind.cohort.dataset
            if ind.kind == "rate" and ind.cohort.dataset == "homelessness":
                out.append(
                    _eq(
                        cohort_var(area, indicator, total),
                        having(cohort),
                        "national homeless cohort = combinations with homelessness",
                    )
                )
            elif ind.kind == "rate" and cohort in ("treatment", "victims"):
                out.append(
                    _eq(
                        cohort_var(area, indicator, total),
                        having(cohort),
                        f"{area} {cohort} cohort = combinations with {cohort}",
                    )
                )
            elif ind.kind == "rate":
                out.append(
                    _le(
                        [cohort_var(area, indicator, total)],
                        having(cohort),
                        f"{area} {cohort} cohort <= combinations with {cohort}",
                    )
                )
            assert ind.outcome is not None
            if ind.outcome.dataset != cohort:
                out.append(
                    _le(
                        [people_var(area, indicator, total)],
                        having(cohort, ind.outcome.dataset),
                        f"{area} {indicator} <= combinations with both datasets",
                    )
                )
    # Deduplicate (indicators sharing a cohort give the same constraints).
    unique: dict[tuple[tuple[tuple[Var, float], ...], float, float], Constraint] = {}
    for c in out:
        unique.setdefault((tuple(sorted(c.terms)), c.lo, c.hi), c)
    return list(unique.values())


def violated(
    constraints: Sequence[Constraint], values: Mapping[Var, float], *, tol: float = 1e-9
) -> list[Constraint]:
    """The constraints ``values`` (say the true counts) break: none, for a sound reader."""
    bad = []
    for c in constraints:
        s = sum(coef * values[v] for v, coef in c.terms)
        if s < c.lo - tol or s > c.hi + tol:
            bad.append(c)
    return bad


# --------------------------------------------------------------------------------------
# The attack table by table.

# One table of the release: (column, area, indicator or cohort id).
TableKey = tuple[str, str, str]


def release_tables(files: ReleaseFiles) -> dict[TableKey, Release[Cell]]:
    """Each table of the release as the attacker sees it: its published cells and sums."""
    cells: dict[TableKey, dict[Cell, int | None]] = {}
    for var, value in files.values.items():
        cells.setdefault((var[0], var[1], var[2]), {})[(var[3], var[4], var[5])] = value
    sums: dict[TableKey, dict[Sum[Cell], None]] = {key: {} for key in cells}
    for (area, indicator), layout in files.layouts.items():
        # A people table is its indicator's; a cohort table takes the sums of every
        # indicator that publishes it (each publishes the cohort at its own cells).
        cohort = get_indicator(indicator).cohort
        owners = [("people", area, indicator)]
        if cohort is not None:
            owners.append(("cohort", area, cohort.id))
        for key in owners:
            if key in sums:
                sums[key].update(dict.fromkeys(layout.sums()))
    return {key: Release(values, tuple(sums[key])) for key, values in cells.items()}


def by_table(files: ReleaseFiles, primary: Mapping[Var, bool]) -> dict[Var, tuple[float, float]]:
    """Every ``[c]``'s least and greatest value over its own table's programme (the
    attacker of the property test, over every table of the release)."""
    out: dict[Var, tuple[float, float]] = {}
    for key, release in release_tables(files).items():
        marked = [cell for cell in release.suppressed if primary[(*key, *cell)]]
        for cell, span in attacker_ranges(release, primary=marked).items():
            out[(*key, *cell)] = span
    return out


# --------------------------------------------------------------------------------------
# The joint attack.


def _inf(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    big = np.where(np.isposinf(a), highspy.kHighsInf, a)
    return np.where(np.isneginf(big), -highspy.kHighsInf, big)


def _cell_bounds(
    files: ReleaseFiles,
    keys: Sequence[Var],
    primary: Mapping[Var, bool] | None,
    *,
    threshold: int,
    base: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """What the reader knows of each count on its own. No count exceeds the number of
    linked people, the overlaps' total (published): the cap of every ``[c]``."""
    published = [v for v in files.values.values() if v is not None]
    cap = float(max(published) + base // 2) if published else CAP
    lo, hi = np.zeros(len(keys)), np.full(len(keys), cap)
    for i, k in enumerate(keys):
        v = files.values[k]
        if v is not None:
            lo[i], hi[i] = rounding_interval(v, threshold=threshold, base=base)
        elif primary is not None and primary[k]:
            hi[i] = threshold - 1
        elif primary is not None:
            lo[i] = threshold
    return lo, hi


class JointAttack:
    """One linear programme over every count of a release and every identity the reader
    knows (:func:`reader_constraints`), in HiGHS: solved once from scratch by an interior
    point method, then for each attacked cell at both ends by primal simplex from the
    previous basis (only the objective changes).

    Without ``primary`` a ``[c]`` is only known to be ``>= 0``; with it (True: a primary
    suppression) a primary ``[c]`` is in ``[0, threshold-1]`` and a secondary one
    ``>= threshold``, the attacker ``protect`` guards each table against.
    """

    def __init__(
        self,
        files: ReleaseFiles,
        constraints: Sequence[Constraint],
        *,
        primary: Mapping[Var, bool] | None = None,
        threshold: int = THRESHOLD,
        base: int = ROUNDING_BASE,
    ) -> None:
        started = time.perf_counter()
        self.keys = list(files.values)
        self.index = {k: i for i, k in enumerate(self.keys)}
        n = len(self.keys)
        lo, hi = _cell_bounds(files, self.keys, primary, threshold=threshold, base=base)
        rows: list[int] = []
        cols: list[int] = []
        data: list[float] = []
        for r, c in enumerate(constraints):
            for var, coef in c.terms:
                rows.append(r)
                cols.append(self.index[var])
                data.append(coef)
        csc = csr_array((data, (rows, cols)), shape=(len(constraints), n)).tocsc()
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("solver", "ipm")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(constraints)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_, lp.col_upper_ = _inf(lo), _inf(hi)
        lp.row_lower_ = _inf(np.array([c.lo for c in constraints], dtype=float))
        lp.row_upper_ = _inf(np.array([c.hi for c in constraints], dtype=float))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(np.float64)
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, len(constraints)
        h.passModel(lp)
        self.h = h
        self.cost = np.zeros(n)
        self._solve()
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 4)  # primal: a new objective only
        h.setOptionValue("presolve", "off")  # keep the basis
        self.setup_seconds = time.perf_counter() - started

    def _solve(self) -> float:
        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise AssertionError(
                "the attacker's programme is "
                + self.h.modelStatusToString(status)
                + ": the release contradicts what the reader knows"
            )
        return float(self.h.getInfo().objective_function_value)

    def range_of(self, var: Var) -> tuple[float, float]:
        """The least and greatest value of ``var`` over the whole programme."""
        j = self.index[var]
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(self.keys))
            c[j] = sign
            changed = np.flatnonzero(c != self.cost)
            self.h.changeColsCost(len(changed), changed.astype(np.int32), c[changed])
            self.cost = c
            ends.append(sign * self._solve() + 0.0)
        return ends[0], ends[1]


# --------------------------------------------------------------------------------------
# Releases built in the tests: from a hub, and primary suppression only.


@dataclass(frozen=True)
class BuiltRelease:
    raws: list[RawTable]
    tables: list[ReleasedTable]
    folder: Path


def hub_inputs(home: Path) -> tuple[Path, list[AttributeInput]]:
    """The latest run's links file and its submissions' attributes, as the hub's release
    code finds them."""
    hub = open_hub(home)
    run = latest_run(hub)
    subs = [s for s in current_submissions(hub) if s.id in run.submissions]
    attrs = [AttributeInput(s.source, hub.path(ATTRIBUTES_DIR, f"{s.id}.parquet")) for s in subs]
    return links_path(hub, run.id), attrs


def differences(built: Path, published: Path) -> list[str]:
    """The CSV files in which two release folders differ: in one only, or changed."""
    a = {p.name for p in built.glob("*.csv")}
    b = {p.name for p in published.glob("*.csv")}
    _, mismatch, errors = filecmp.cmpfiles(built, published, sorted(a & b), shallow=False)
    return sorted((a ^ b) | set(mismatch) | set(errors))


def build_release(home: Path, folder: Path) -> BuiltRelease:
    """The release files of a hub's latest run, computed, protected and written by
    ``outcomes.tidy`` (what the hub's release draft publishes, without its dashboards)."""
    raws = compute_tables(*hub_inputs(home))
    tables = protect_tables(raws)
    write_release_files(tables, folder)
    return BuiltRelease(raws, tables, folder)


def _primary_only(cells: Mapping[Cell, int], layout: Layout) -> Protected[Cell]:
    values = {k: control_count(v).value for k, v in cells.items()}
    release = Release(values, tuple(layout.sums()))
    return Protected(release, release.suppressed, frozenset())


def primary_only_release(raws: Sequence[RawTable], folder: Path) -> BuiltRelease:
    """The same tables with primary suppression and rounding only (``control_count`` on
    every cell, no secondary suppression): what ``protect`` exists to prevent."""
    tables = [
        ReleasedTable(
            raw.area,
            raw.indicator,
            raw.layout,
            _primary_only(raw.people, raw.layout),
            _primary_only(raw.cohort, raw.layout) if raw.cohort else None,
            {},  # quartiles withheld: the attack is on the counts
        )
        for raw in raws
    ]
    write_release_files(tables, folder)
    return BuiltRelease(list(raws), tables, folder)


def truth_of(raws: Sequence[RawTable]) -> dict[Var, int]:
    """The true value of every variable."""
    out: dict[Var, int] = {}
    for raw in raws:
        ind = raw.indicator.id
        for cell in raw.layout.cells():
            out[people_var(raw.area, ind, cell)] = raw.people[cell]
            if raw.cohort:
                out[cohort_var(raw.area, ind, cell)] = raw.cohort[cell]
    return out


def primary_of(tables: Sequence[ReleasedTable]) -> dict[Var, bool]:
    """Which suppressions are primary, as ``protect`` knew (the stronger attacker)."""
    out: dict[Var, bool] = {}
    for t in tables:
        ind = t.indicator.id
        for cell in t.layout.cells():
            out[people_var(t.area, ind, cell)] = cell in t.people.primary
            if t.cohort is not None:
                out[cohort_var(t.area, ind, cell)] = cell in t.cohort.primary
    return out
