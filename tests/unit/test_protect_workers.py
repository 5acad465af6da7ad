"""Protecting a release's tables in worker interpreters gives exactly what one process
gives: the same cells suppressed, in the same order."""

from __future__ import annotations

import pytest

from boldhub.outcomes import tidy
from boldhub.outcomes.catalogue import INDICATORS
from boldhub.outcomes.tidy import Layout, RawTable


def _raw(i: int) -> RawTable:
    ind = INDICATORS[0]
    layout = Layout(("2024-Q1", "2024-Q2"), (("sex", ("Female", "Male", "Unknown")),))
    people: dict[tuple[str, str, str], int] = {}
    cohort: dict[tuple[str, str, str], int] = {}
    for q, (f, m, u) in zip(layout.quarters, ((3 + i, 40, 12), (25, 6 + i, 30)), strict=True):
        for cat, n in zip(("Female", "Male", "Unknown"), (f, m, u), strict=True):
            people[(q, "sex", cat)] = n
            cohort[(q, "sex", cat)] = n * 4
        people[(q, "none", "All")] = f + m + u
        cohort[(q, "none", "All")] = 4 * (f + m + u)
    for cat in ("Female", "Male", "Unknown", "All"):
        b = "none" if cat == "All" else "sex"
        people[("All", b, cat)] = sum(people[(q, b, cat)] for q in layout.quarters)
        cohort[("All", b, cat)] = sum(cohort[(q, b, cat)] for q in layout.quarters)
    cells = layout.cells()
    return RawTable(
        f"area{i}", ind, layout, {c: people[c] for c in cells}, {c: cohort[c] for c in cells}, {}
    )


def test_workers_give_what_one_process_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    raws = [_raw(i) for i in range(6)]
    alone = tidy.protect_tables(raws)
    monkeypatch.setattr(tidy, "_TABLES_PER_WORKER", 1)
    monkeypatch.setattr(tidy.os, "cpu_count", lambda: 3)
    shared = tidy.protect_tables(raws)
    assert [t.people.values for t in shared] == [t.people.values for t in alone]
    assert [t.people.secondary for t in shared] == [t.people.secondary for t in alone]
    assert any(t.people.secondary for t in alone)  # the tables did need secondary cells
