"""Statistical disclosure control: the one module every output path calls.

The default is ONS's "10-5 rule": a count under 10 (zero included, since a zero can be
disclosive too) is suppressed, and every other count is rounded to the nearest 5. Rates
are computed from the *released* (rounded) counts, so a rate never reveals more than the
counts beside it.

A single count is safe under that rule, but a *table* is not: its totals and the other
cells can narrow a suppressed cell down, sometimes to one value (a total published as 20
over two suppressed cells pins both to 9). So a table goes through :func:`protect`, which
adds secondary suppressions until a linear-programme attacker (:func:`attacker_ranges`)
cannot narrow any suppressed cell to fewer than five integer values (max - min >= 4).
That attacker knows every sum, that a published ``v`` is a count in
``[max(v-2, threshold), v+2]``, and, to be on the safe side, which suppressions are
primary: those are in ``[0, threshold-1]``, the secondary ones ``>= threshold`` (they hide
counts that could have been shown, so treating them as small would be false).

The method follows tau-Argus's "optimal" one (Fischetti and Salazar-Gonzalez's model,
solved by Benders decomposition), with this range requirement in place of its protection
levels around the true value:

1. a master mixed-integer programme (HiGHS, through ``scipy.optimize.milp``) picks the
   cheapest set of secondary suppressions that satisfies the cuts found so far;
2. the attacker then attacks that release. A cell is safe once two tables that agree
   with everything published give it values far enough apart (feasible points from
   earlier programmes usually show this at no cost); otherwise its own two linear
   programmes (HiGHS, one model per component whose objective and bounds change between
   solves, so each starts from the last one's basis) give its exact least and greatest values, and
   if those are too close their dual values yield a linear inequality that every safe
   suppression pattern satisfies (a Benders cut), and we go back to 1.

The loop stops at the first master solution the attacker cannot break, so the result is
both optimal (every safe pattern satisfies every cut, so none is cheaper) and proven
(every suppressed cell in the final release has two feasible tables as its certificate).
The attacker is the linear relaxation: one who also uses integrality can, on unusual
tables, narrow a cell slightly further.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import highspy
import numpy as np
import numpy.typing as npt

# scipy has no py.typed marker (so no types for mypy to read): the ignore is scoped to
# these two lines.
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]
from scipy.sparse import csr_array  # type: ignore[import-untyped]

THRESHOLD = 10
ROUNDING_BASE = 5
SUPPRESSED = "[c]"  # the GSS convention for "confidential"
# A suppressed cell must keep at least five possible integer values (max - min >= 4): never
# known more precisely than a count rounded to the nearest 5, whose interval is v-2..v+2.
MIN_WIDTH = 4


@dataclass(frozen=True)
class ReleasedCount:
    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return SUPPRESSED if self.value is None else f"{self.value:,}"


@dataclass(frozen=True)
class ReleasedRate:
    percent: float | None

    def __str__(self) -> str:
        return SUPPRESSED if self.percent is None else f"{self.percent:.0f}%"


def control_count(
    n: int, *, threshold: int = THRESHOLD, base: int = ROUNDING_BASE
) -> ReleasedCount:
    if n < 0:
        raise ValueError("counts are never negative")
    if n < threshold:
        return ReleasedCount(None)
    # Round half up: 12 -> 10, 13 -> 15, 15 -> 15.
    return ReleasedCount(int((n + base / 2) // base) * base)


def control_rate(numerator: ReleasedCount, denominator: ReleasedCount) -> ReleasedRate:
    if numerator.value is None or denominator.value is None or denominator.value == 0:
        return ReleasedRate(None)
    return ReleasedRate(100.0 * numerator.value / denominator.value)


# --------------------------------------------------------------------------------------
# Tables: cells plus the additivity constraints an attacker can use against them.

K = TypeVar("K", bound=Hashable)

# A sum constraint: (total, parts) means cells[total] == sum(cells[p] for p in parts).
Sum = tuple[K, tuple[K, ...]]

# Numerical slack for the linear programmes (HiGHS's tolerances are about 1e-7). A range
# counts as wide enough only if it is at least the width minus this, and the ranges
# themselves are vertices of a polytope with integer bounds, so real ranges are far from it.
_TOL = 1e-6


def _check_sums(keys: Collection[K], sums: Sequence[Sum[K]]) -> None:
    for total, parts in sums:
        if not parts:
            raise ValueError(f"the sum for {total!r} has no parts")
        if total in parts or len(set(parts)) != len(parts):
            raise ValueError(f"the sum for {total!r} repeats a cell")
        for key in (total, *parts):
            if key not in keys:
                raise ValueError(f"the sum for {total!r} names {key!r}, which is not a cell")


@dataclass(frozen=True)
class Table(Generic[K]):
    """True counts, and the sums that hold between them (an attacker knows these too).

    ``sums`` lists ``(total, parts)``: a breakdown's categories add up to its total, the
    periods of a category add up to its ``All`` period, and so on. Constraints may overlap
    (a quarter x category table with both margins; several breakdowns sharing one total).
    """

    cells: Mapping[K, int]
    sums: Sequence[Sum[K]] = ()

    def __post_init__(self) -> None:
        for key, n in self.cells.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(f"{key!r}: counts are non-negative integers, not {n!r}")
        _check_sums(self.cells.keys(), self.sums)
        for total, parts in self.sums:
            if self.cells[total] != sum(self.cells[p] for p in parts):
                raise ValueError(f"the parts of {total!r} do not add up to it")


@dataclass(frozen=True)
class Release(Generic[K]):
    """What leaves the hub: a value per cell (``None`` is ``[c]``) and the table's sums."""

    values: Mapping[K, int | None]
    sums: Sequence[Sum[K]] = ()
    threshold: int = THRESHOLD
    base: int = ROUNDING_BASE

    def __post_init__(self) -> None:
        _check_sums(self.values.keys(), self.sums)

    def count(self, key: K) -> ReleasedCount:
        return ReleasedCount(self.values[key])

    @property
    def suppressed(self) -> frozenset[K]:
        return frozenset(k for k, v in self.values.items() if v is None)


@dataclass(frozen=True)
class Protected(Generic[K]):
    """The result of :func:`protect`: the release, and the evidence that it is safe.

    ``ranges`` is the certificate: for every suppressed cell, two values it takes in
    tables that agree with everything published (and with which suppressions are primary,
    the strongest attacker we guard against), at least the required width apart. Each
    comes from the attacker's own programmes or from feasible tables found on the way, so
    the attacker's exact range (:func:`attacker_ranges`) contains it.
    """

    release: Release[K]
    primary: frozenset[K]
    secondary: frozenset[K]
    ranges: Mapping[K, tuple[float, float]] = field(default_factory=dict)

    @property
    def values(self) -> Mapping[K, int | None]:
        return self.release.values

    def count(self, key: K) -> ReleasedCount:
        return self.release.count(key)


def rounding_interval(value: int, *, threshold: int, base: int) -> tuple[int, int]:
    """The true counts a published ``value`` can stand for: rounded half up to ``base``,
    and never under ``threshold`` (a smaller count would have been suppressed)."""
    return max(value - base // 2, threshold), value + (base - 1) // 2


# --------------------------------------------------------------------------------------
# The linear-programme attacker.


_BANNER = threading.Lock()
_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A HiGHS instance. The first one a process makes prints HiGHS's banner to the
    process's standard output from C++, before any option can silence it; it would land in
    the middle of a command's output, so that one is made with standard output closed."""
    global _banner_shown
    with _BANNER:
        if _banner_shown:
            return highspy.Highs()  # type: ignore[no-untyped-call]
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
            _banner_shown = True
        return h


class _Component(Generic[K]):
    """Cells tied together by sums (no constraint crosses components, so each is attacked
    and protected on its own: smaller programmes, same answers)."""

    def __init__(self, keys: list[K], sums: Sequence[Sum[K]]) -> None:
        self.keys = keys
        self.index = {k: i for i, k in enumerate(keys)}
        rows: list[int] = []
        cols: list[int] = []
        data: list[float] = []
        for r, (total, parts) in enumerate(sums):
            rows.append(r)
            cols.append(self.index[total])
            data.append(1.0)
            for p in parts:
                rows.append(r)
                cols.append(self.index[p])
                data.append(-1.0)
        self.a_eq = csr_array((data, (rows, cols)), shape=(len(sums), len(keys)))
        self._highs: highspy.Highs | None = None
        self._cost = np.zeros(len(keys))
        self._lo = np.zeros(len(keys))
        self._hi = np.full(len(keys), math.inf)

    def _model(self) -> highspy.Highs:
        """The attacker's programme, built once: every solve after the first only changes
        the objective and some bounds, and starts from the previous optimal basis (the
        thousands of programmes of a release cost milliseconds each, not a fresh solve)."""
        if self._highs is None:
            h = _new_highs()
            h.setOptionValue("output_flag", False)
            # Presolve would discard the basis that makes the next solve quick.
            h.setOptionValue("presolve", "off")
            h.setOptionValue("random_seed", 0)
            lp = highspy.HighsLp()
            n, m = len(self.keys), self.a_eq.shape[0]
            lp.num_col_ = n
            lp.num_row_ = m
            lp.col_cost_ = self._cost
            lp.col_lower_ = self._lo
            lp.col_upper_ = self._hi
            lp.row_lower_ = np.zeros(m)
            lp.row_upper_ = np.zeros(m)
            csc = self.a_eq.tocsc()
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
            lp.a_matrix_.index_ = csc.indices.astype(np.int32)
            lp.a_matrix_.value_ = csc.data.astype(np.float64)
            lp.a_matrix_.num_col_ = n
            lp.a_matrix_.num_row_ = m
            h.passModel(lp)
            self._highs = h
        return self._highs

    def minimise(
        self, c: npt.NDArray[np.float64], bounds: npt.NDArray[np.float64]
    ) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
        """min c.x subject to the sums and ``bounds`` (n x 2): (value, a minimiser, reduced
        costs), or None if unbounded."""
        h = self._model()
        lo, hi = bounds[:, 0], bounds[:, 1]
        moved = np.flatnonzero((lo != self._lo) | (hi != self._hi))
        if len(moved):
            h.changeColsBounds(len(moved), moved.astype(np.int32), lo[moved], hi[moved])
            self._lo, self._hi = lo.copy(), hi.copy()
        changed = np.flatnonzero(c != self._cost)
        if len(changed):
            h.changeColsCost(len(changed), changed.astype(np.int32), c[changed])
            self._cost = c.copy()
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise ValueError(
                "the release contradicts its own sums (the attacker's programme is "
                f"{h.modelStatusToString(status)})"
            )
        sol = h.getSolution()
        # HiGHS's column duals are the reduced costs d = c - A^T y: for any feasible x,
        # c.x = d.x >= the sum of each d_i times the bound it pushes against. That sum is
        # linear in the cells' bounds, which is what makes the Benders cut below.
        value = float(h.getInfo().objective_function_value)
        return value, np.asarray(sol.col_value, dtype=float), np.asarray(sol.col_dual, dtype=float)


def _components(keys: Iterable[K], sums: Sequence[Sum[K]]) -> list[_Component[K]]:
    """Connected components of the cells under the sums, in the cells' own order; cells in
    no sum are left out (nothing can narrow them)."""
    parent: dict[K, K] = {}

    def find(k: K) -> K:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for total, parts in sums:
        for key in (total, *parts):
            parent.setdefault(key, key)
        for p in parts:
            a, b = find(total), find(p)
            if a != b:
                parent[b] = a
    members: dict[K, list[K]] = {}
    for key in keys:
        if key in parent:
            members.setdefault(find(key), []).append(key)
    by_root: dict[K, list[Sum[K]]] = {}
    for s in sums:
        by_root.setdefault(find(s[0]), []).append(s)
    return [_Component(ks, by_root[root]) for root, ks in members.items()]


@dataclass
class _Extremes:
    """One cell's attacker range, with the reduced costs that prove it (for cuts) and the
    tables that attain it (feasible points, which also bound other cells' ranges)."""

    low: float
    high: float
    d_min: npt.NDArray[np.float64] | None  # reduced costs of min x_c (None: unbounded)
    d_max: npt.NDArray[np.float64] | None  # reduced costs of min -x_c
    points: list[npt.NDArray[np.float64]]


def _solve(
    comp: _Component[K], c: npt.NDArray[np.float64], bounds: npt.NDArray[np.float64]
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """min c.x over the attacker's polytope: (value, a minimiser, reduced costs), or None
    if unbounded."""
    return comp.minimise(c, bounds)


def _extremes(
    comp: _Component[K], j: int, lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64]
) -> _Extremes:
    bounds = np.column_stack([lo, hi])
    ends: list[float] = []
    reduced: list[npt.NDArray[np.float64] | None] = []
    points: list[npt.NDArray[np.float64]] = []
    for sign in (1.0, -1.0):
        c = np.zeros(len(comp.keys))
        c[j] = sign
        solved = _solve(comp, c, bounds)
        if solved is None:  # unbounded: the attacker has no bound on this side at all
            ends.append(-math.inf * sign)
            reduced.append(None)
        else:
            ends.append(sign * solved[0])
            points.append(solved[1])
            reduced.append(solved[2])
    return _Extremes(ends[0], ends[1], reduced[0], reduced[1], points)


def _bounds(
    comp: _Component[K],
    values: Mapping[K, int | None],
    primary: Collection[K] | None,
    *,
    threshold: int,
    base: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """What the attacker knows of each cell on its own, before the sums."""
    lo = np.empty(len(comp.keys))
    hi = np.empty(len(comp.keys))
    for i, key in enumerate(comp.keys):
        v = values[key]
        if v is not None:
            lo[i], hi[i] = rounding_interval(v, threshold=threshold, base=base)
        elif primary is None:
            lo[i], hi[i] = 0.0, math.inf  # [c]: the attacker cannot tell primary from secondary
        elif key in primary:
            lo[i], hi[i] = 0.0, threshold - 1  # under the threshold
        else:
            lo[i], hi[i] = threshold, math.inf  # secondary: a count that could have been shown
    return lo, hi


def attacker_ranges(
    release: Release[K],
    *,
    primary: Collection[K] | None = None,
    keys: Iterable[K] | None = None,
) -> dict[K, tuple[float, float]]:
    """The least and greatest value a linear-programme attacker can give each cell.

    The attacker knows every sum, that a published ``v`` is a true count in
    ``[max(v-2, threshold), v+2]`` (rounding half up to 5), and that a suppressed cell is
    ``>= 0``. Given ``primary`` (the cells suppressed for being under the threshold), it
    also knows those are ``<= threshold-1`` and that every other suppressed cell is
    ``>= threshold``: a stronger attacker than the release alone makes, and the one
    :func:`protect` guards against. ``keys`` defaults to the suppressed cells; a cell in no
    sum gets its own interval. The bounds are those of the linear relaxation (an attacker
    using integrality could, on unusual tables, gain a little more).
    """
    wanted = list(release.suppressed if keys is None else keys)
    wanted_set = set(wanted)
    out: dict[K, tuple[float, float]] = {}
    for comp in _components(release.values.keys(), release.sums):
        lo, hi = _bounds(
            comp, release.values, primary, threshold=release.threshold, base=release.base
        )
        for j, key in enumerate(comp.keys):
            if key in wanted_set:
                ext = _extremes(comp, j, lo, hi)
                out[key] = (ext.low, ext.high)
    for key in wanted:
        if key not in out:
            lo, hi = _bounds(
                _Component([key], ()),
                release.values,
                primary,
                threshold=release.threshold,
                base=release.base,
            )
            out[key] = (float(lo[0]), float(hi[0]))
    return {key: out[key] for key in wanted}


# --------------------------------------------------------------------------------------
# Secondary suppression.


def _required(key: K, primary: Collection[K], *, threshold: int, min_width: int) -> float:
    # A primary cell's own interval [0, threshold-1] is all it can have: asking for more
    # than that (a threshold under 5) could never be met.
    return float(min(min_width, threshold - 1) if key in primary else min_width)


def _seed_witnesses(
    comp: _Component[K],
    suppressed: Sequence[int],
    lo: npt.NDArray[np.float64],
    hi: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per cell, the least and greatest value in four feasible tables: the suppressed
    cells all as small as they can be together, all as large, and alternately small and
    large both ways round. One that is unbounded is skipped (the cells' own programmes
    will say so)."""
    wit_lo = np.full(len(comp.keys), math.inf)
    wit_hi = np.full(len(comp.keys), -math.inf)
    bounds = np.column_stack([lo, hi])
    idx = np.asarray(suppressed, dtype=int)
    alternate = np.where(np.arange(len(idx)) % 2 == 0, 1.0, -1.0)
    for signs in (1.0, -1.0, alternate, -alternate):
        c = np.zeros(len(comp.keys))
        c[idx] = signs
        solved = _solve(comp, c, bounds)
        if solved is not None:
            np.minimum(wit_lo, solved[1], out=wit_lo)
            np.maximum(wit_hi, solved[1], out=wit_hi)
    return wit_lo, wit_hi


def _protect_component(
    comp: _Component[K],
    table: Table[K],
    published: Mapping[K, int | None],
    primary: frozenset[K],
    *,
    threshold: int,
    base: int,
    min_width: int,
) -> tuple[frozenset[K], dict[K, tuple[float, float]]]:
    """Benders loop for one component: returns its secondary cells and the final ranges."""
    n = len(comp.keys)
    is_primary = np.array([k in primary for k in comp.keys])
    free = [i for i in range(n) if not is_primary[i]]  # candidates for secondary suppression
    col = {i: c for c, i in enumerate(free)}
    # Cells' bounds when published and when suppressed as a secondary.
    lo_pub = np.empty(n)
    hi_pub = np.empty(n)
    for i, key in enumerate(comp.keys):
        v = published[key]
        if v is None:
            lo_pub[i], hi_pub[i] = 0.0, threshold - 1
        else:
            lo_pub[i], hi_pub[i] = rounding_interval(v, threshold=threshold, base=base)
    lo_sec = np.where(is_primary, 0.0, float(threshold))
    hi_sec = np.where(is_primary, threshold - 1.0, math.inf)
    # Cost of a secondary suppression: its true count (the people it hides; tau-Argus's
    # default cost function, and it spends suppressions on the small, least informative
    # counts rather than on a large total that readers need most), then one per cell, so
    # that among patterns hiding as many people the fewest cells win. (n+1) per person
    # keeps the order lexicographic: the cell count never outweighs one person.
    cost = np.array([table.cells[comp.keys[i]] * (n + 1) + 1 for i in free], dtype=float)

    cut_rows: list[npt.NDArray[np.float64]] = []
    cut_rhs: list[float] = []
    seen: set[frozenset[int]] = set()
    for _ in range(10_000):
        chosen = _master(cost, cut_rows, cut_rhs)
        secondary = frozenset(free[c] for c in chosen)
        suppressed = sorted(set(np.flatnonzero(is_primary).tolist()) | secondary)
        y = np.zeros(n, dtype=bool)
        y[list(secondary)] = True
        lo = np.where(y, lo_sec, lo_pub)
        hi = np.where(y, hi_sec, hi_pub)
        # Witnesses: feasible tables found so far. Two of them giving cell j values at
        # least `need` apart prove j safe without its own programmes (most cells, on real
        # tables); the rest get the exact attack, whose optima become witnesses too.
        wit_lo, wit_hi = _seed_witnesses(comp, suppressed, lo, hi)
        ranges: dict[K, tuple[float, float]] = {}
        new_cuts = 0
        for j in suppressed:
            key = comp.keys[j]
            need = _required(key, primary, threshold=threshold, min_width=min_width)
            if wit_hi[j] - wit_lo[j] >= need - _TOL:
                ranges[key] = (float(wit_lo[j]) + 0.0, float(wit_hi[j]) + 0.0)  # no -0.0
                continue
            ext = _extremes(comp, j, lo, hi)
            for x in ext.points:
                np.minimum(wit_lo, x, out=wit_lo)
                np.maximum(wit_hi, x, out=wit_hi)
            ranges[key] = (ext.low + 0.0, ext.high + 0.0)
            if ext.high - ext.low >= need - _TOL:
                continue
            assert ext.d_min is not None and ext.d_max is not None  # a finite range
            row, rhs = _cut(
                j, need, ext.d_min, ext.d_max, is_primary, col, lo_pub, hi_pub, lo_sec, hi_sec
            )
            cut_rows.append(row)
            cut_rhs.append(rhs)
            new_cuts += 1
        if not new_cuts:
            return frozenset(comp.keys[i] for i in secondary), ranges
        if secondary in seen:
            # The solver's tolerances let it return a pattern a cut should have excluded.
            # Force progress: some cell not yet suppressed must be (no smaller pattern can
            # help a primary cell, since suppressing less only shrinks the attacker's box).
            row = np.zeros(len(free))
            row[[col[i] for i in free if i not in secondary]] = 1.0
            cut_rows.append(row)
            cut_rhs.append(1.0)
        seen.add(secondary)
    raise RuntimeError("secondary suppression did not converge")  # pragma: no cover


def _cut(
    c: int,
    need: float,
    d_min: npt.NDArray[np.float64],
    d_max: npt.NDArray[np.float64],
    is_primary: npt.NDArray[np.bool_],
    col: Mapping[int, int],
    lo_pub: npt.NDArray[np.float64],
    hi_pub: npt.NDArray[np.float64],
    lo_sec: npt.NDArray[np.float64],
    hi_sec: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], float]:
    """A Benders cut: a linear inequality in the suppression pattern that every pattern
    keeping cell ``c`` at least ``need`` wide satisfies, and the current one breaks.

    By weak duality, with the reduced costs fixed, for every pattern
    ``range(c) <= sum_i alpha_i * hi_i - beta_i * lo_i`` (alpha: how hard the two
    programmes push against a cell's upper bound; beta: its lower bound). Suppressing cell
    ``i`` moves its bounds from the published interval to ``[threshold, inf)``, which adds
    ``alpha_i * (hi_sec - hi_pub) + beta_i * (lo_pub - lo_sec)`` to the right-hand side; so
    ``sum of those gains over suppressed i >= need - (the right-hand side with none)``.
    """
    eps = 1e-9
    alpha = np.maximum(-d_min, 0.0) + np.maximum(-d_max, 0.0)
    beta = np.maximum(d_min, 0.0) + np.maximum(d_max, 0.0)
    alpha[alpha < eps] = 0.0
    beta[beta < eps] = 0.0
    row = np.zeros(len(col))
    const = 0.0
    gains: dict[int, float] = {}
    c_is_secondary = not is_primary[c]
    for i in np.flatnonzero((alpha > 0) | (beta > 0)).tolist():
        if is_primary[i] or i == c:
            # Fixed bounds (a primary; or c itself, which is suppressed whenever the cut
            # applies). c's upper bound is infinite only if nothing pushes against it.
            lo_i, hi_i = (lo_sec[i], hi_sec[i])
            const += (alpha[i] * hi_i if alpha[i] else 0.0) - beta[i] * lo_i
            continue
        const += alpha[i] * hi_pub[i] - beta[i] * lo_pub[i]
        gain = beta[i] * (lo_pub[i] - lo_sec[i])
        if alpha[i]:  # (0 * inf would be nan: a bound nothing pushes against gains nothing)
            gain += alpha[i] * (hi_sec[i] - hi_pub[i])
        gains[i] = gain
    rhs = need - const
    # Clipping at rhs keeps exactly the same 0/1 solutions and removes infinities.
    for i, gain in gains.items():
        row[col[i]] = min(gain, rhs) + eps
    rhs -= 1e-7
    if c_is_secondary:
        # Only binding when c is suppressed: sum(gains) - rhs * y_c >= 0.
        row[col[c]] -= rhs
        rhs = 0.0
    return row, rhs


def _master(
    cost: npt.NDArray[np.float64],
    cut_rows: Sequence[npt.NDArray[np.float64]],
    cut_rhs: Sequence[float],
) -> list[int]:
    """The cheapest 0/1 pattern satisfying every cut so far (HiGHS branch and bound)."""
    if not cut_rows:
        return []
    res = milp(
        cost,
        integrality=np.ones(len(cost)),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(np.vstack(cut_rows), lb=np.array(cut_rhs), ub=np.inf),
        # mip_rel_gap 0: the tie-breaking part of the cost is tiny relative to the whole.
        options={"mip_rel_gap": 0.0},
    )
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"secondary suppression: no pattern found ({res.message})")
    return [int(i) for i in np.flatnonzero(np.asarray(res.x) > 0.5)]


def protect(
    table: Table[K],
    *,
    threshold: int = THRESHOLD,
    base: int = ROUNDING_BASE,
    min_width: int = MIN_WIDTH,
) -> Protected[K]:
    """Disclosure-control a table: primary suppression, rounding, secondary suppression.

    Primary: a count under ``threshold`` is suppressed, the rest rounded to ``base``
    (:func:`control_count`). Secondary: the cheapest further suppressions (fewest people
    hidden, then fewest cells; see ``_protect_component``) such that an attacker knowing
    the sums, the published intervals and which suppressions are primary cannot narrow any
    suppressed cell to less than ``min_width`` (4: five integer values), or for a primary
    cell to less than its own interval ``[0, threshold-1]`` if that is narrower.

    Deterministic: the same table (cells in the same order) gives the same release.
    """
    if threshold < 1 or base < 1 or min_width < 0:
        raise ValueError("threshold and base are positive, min_width non-negative")
    published: dict[K, int | None] = {
        k: control_count(n, threshold=threshold, base=base).value for k, n in table.cells.items()
    }
    primary = frozenset(k for k, v in published.items() if v is None)
    secondary: set[K] = set()
    ranges: dict[K, tuple[float, float]] = {}
    for comp in _components(table.cells.keys(), table.sums):
        if not any(k in primary for k in comp.keys):
            continue  # nothing to protect, and no sum can make a published cell sensitive
        extra, comp_ranges = _protect_component(
            comp, table, published, primary, threshold=threshold, base=base, min_width=min_width
        )
        secondary |= extra
        ranges.update(comp_ranges)
    for key in primary - ranges.keys():  # in no sum: only its own interval
        ranges[key] = (0.0, float(threshold - 1))
    values = {k: (None if k in secondary else v) for k, v in published.items()}
    release = Release(values, tuple(table.sums), threshold=threshold, base=base)
    ordered = {k: ranges[k] for k in table.cells if k in ranges}
    return Protected(release, primary, frozenset(secondary), ordered)
