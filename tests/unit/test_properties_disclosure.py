"""Properties of disclosure control that test_disclosure_attack.py does not state directly.

That file proves, with its own linear-programme attacker, that no suppressed cell of a
generated table can be narrowed below five values. These are the plainer rules an output
checker applies by eye, checked on their own: every published count is ``[c]`` or a
multiple of 5 of at least 10, the rounding moves a count by at most 2 and never reorders
two counts, rates come from the published counts, and in a two-way table with both margins
subtraction along one row, column or margin never pins a suppressed cell: where a sum has
one cell hidden, the published intervals of the others (a count published as ``v`` is
``v-2..v+2``, never under 10) leave it at least five possible values.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boldhub.outcomes.disclosure import (
    MIN_WIDTH,
    ROUNDING_BASE,
    SUPPRESSED,
    THRESHOLD,
    Table,
    control_count,
    control_rate,
    protect,
    rounding_interval,
)

counts = st.one_of(st.integers(0, 30), st.integers(0, 10**9))


@settings(max_examples=300, deadline=None)
@given(counts)
def test_a_published_count_is_suppressed_or_a_multiple_of_5_of_at_least_10(n: int) -> None:
    released = control_count(n)
    if n < THRESHOLD:
        assert released.value is None and str(released) == SUPPRESSED
    else:
        assert released.value is not None
        assert released.value % ROUNDING_BASE == 0 and released.value >= THRESHOLD
        assert abs(released.value - n) <= ROUNDING_BASE // 2
        assert str(released) == f"{released.value:,}"


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_rounding_never_reorders_two_counts(a: int, b: int) -> None:
    low, high = sorted((a, b))
    released_low, released_high = control_count(low).value, control_count(high).value
    if released_low is not None:
        assert released_high is not None and released_low <= released_high


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_a_rate_comes_from_the_published_counts_only(part: int, whole: int) -> None:
    num, den = control_count(part), control_count(whole)
    rate = control_rate(num, den)
    if num.value is None or den.value is None or den.value == 0:
        assert rate.percent is None and str(rate) == SUPPRESSED
    else:
        assert rate.percent == 100.0 * num.value / den.value


Cell = tuple[str, str]
_SMALL_OR_LARGE = st.one_of(
    st.integers(0, 12), st.sampled_from([0, 9, 10, 11, 12]), st.integers(13, 400)
)


@st.composite
def two_way_tables(draw: st.DrawFn) -> Table[Cell]:
    """Rows x columns of counts, with every row total, column total and the grand total."""
    rows = draw(st.integers(2, 4))
    cols = draw(st.integers(2, 4))
    inner = {(f"r{r}", f"c{c}"): draw(_SMALL_OR_LARGE) for r in range(rows) for c in range(cols)}
    cells: dict[Cell, int] = dict(inner)
    sums: list[tuple[Cell, tuple[Cell, ...]]] = []
    for r in range(rows):
        parts = tuple((f"r{r}", f"c{c}") for c in range(cols))
        cells[(f"r{r}", "All")] = sum(inner[p] for p in parts)
        sums.append(((f"r{r}", "All"), parts))
    for c in range(cols + 1):
        column = f"c{c}" if c < cols else "All"
        parts = tuple((f"r{r}", column) for r in range(rows))
        cells[("All", column)] = sum(cells[p] for p in parts)
        sums.append((("All", column), parts))
    # The grand total is also the sum of the column totals.
    sums.append((("All", "All"), tuple(("All", f"c{c}") for c in range(cols))))
    return Table(cells, sums)


def subtraction_interval(
    values: Mapping[Cell, int | None], total: Cell, parts: tuple[Cell, ...], hidden: Cell
) -> tuple[int, int]:
    """What one sum tells of its one hidden cell, from the others' published intervals."""
    known = {
        k: rounding_interval(v, threshold=THRESHOLD, base=ROUNDING_BASE)
        for k in (total, *parts)
        if (v := values[k]) is not None
    }
    if hidden == total:
        return sum(known[p][0] for p in parts), sum(known[p][1] for p in parts)
    others = [p for p in parts if p != hidden]
    return (
        known[total][0] - sum(known[p][1] for p in others),
        known[total][1] - sum(known[p][0] for p in others),
    )


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(two_way_tables())
def test_no_subtraction_along_a_row_or_column_pins_a_suppressed_cell(table: Table[Cell]) -> None:
    result = protect(table)
    values = result.values
    for value in values.values():
        assert value is None or (value % ROUNDING_BASE == 0 and value >= THRESHOLD)
    for total, parts in table.sums:
        hidden = [k for k in (total, *parts) if values[k] is None]
        if len(hidden) == 1:
            low, high = subtraction_interval(values, total, parts, hidden[0])
            if hidden[0] in result.primary:
                low, high = max(low, 0), min(high, THRESHOLD - 1)
            else:
                low = max(low, THRESHOLD)
            assert high - low >= MIN_WIDTH, (total, hidden, low, high, table.cells[hidden[0]])
    # Every small count is hidden, and only hiding that protects something is added.
    assert result.primary == {k for k, n in table.cells.items() if n < THRESHOLD}
    assert all(table.cells[k] >= THRESHOLD for k in result.secondary)
    if not result.primary:
        assert not result.secondary


def test_the_subtraction_check_catches_a_release_with_primary_suppression_only() -> None:
    """9 and 50 under a total of 59: hiding only the 9 publishes 50 and 60, from which
    subtraction leaves 6 to 9 (four values); protect hides a second cell."""
    cells = {("r0", "c0"): 9, ("r0", "c1"): 50, ("r0", "All"): 59}
    parts = (("r0", "c0"), ("r0", "c1"))
    naive = {k: control_count(n).value for k, n in cells.items()}
    low, high = subtraction_interval(naive, ("r0", "All"), parts, ("r0", "c0"))
    assert (max(low, 0), min(high, THRESHOLD - 1)) == (6, 9)
    protected = protect(Table(cells, [(("r0", "All"), parts)]))
    assert sum(v is None for v in protected.values.values()) >= 2
