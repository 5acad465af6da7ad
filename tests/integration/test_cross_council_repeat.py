"""The cross-council repeat-homelessness indicator against the synthetic truth (issue 15).

Only linkage across councils can see someone apply again at a different council, so this
indicator is the one a council cannot check against its own records. The population here
is built so that every repeat application follows a move to another council
(``repeat_elsewhere=1``); the truth is counted by hand from the exports and ``truth.csv``,
independently of ``outcomes.tidy``, from the indicator's plain-English definition: the
people whose first application at a council is followed, 1 to 365 days later, by an
application at another council (nationally: at a council other than that of their first
application anywhere), by quarter of that first application.

It runs on the clean error profile and on the default one (seed 7), where scheme v5's
linkage missed three of these people (a missing date of birth in one of the two records
kept their names from being compared, though two of them shared an NHS or NI number) and
council E06000023 released 25 (23 to 27) for a true 29; v6 releases 30. Its cohort, the number of distinct people, is held to the rounding or 1%, whichever is wider:
linkage takes a few distinct people (about 0.5% nationally) for one.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from boldhub.demo import run_demo
from boldhub.outcomes.catalogue import ALL, NATIONAL, get_indicator
from boldhub.outcomes.disclosure import ROUNDING_BASE, SUPPRESSED, THRESHOLD, rounding_interval
from boldhub.outcomes.tidy import NONE, compute_tables
from tests.support.release_attacker import hub_inputs

INDICATOR = "homeless_repeat_other"
Counts = dict[str, dict[str, tuple[int, int]]]  # area -> period -> (people, cohort)


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _truth_ids(exports: Path) -> dict[tuple[str, str], str]:
    with (exports / "truth.csv").open(newline="", encoding="utf-8") as fh:
        return {(r["source"], r["source_row_id"]): r["person_id"] for r in csv.DictReader(fh)}


def truth_counts(exports: Path) -> Counts:
    """The indicator by hand: per area and period (``All`` and each quarter of the index
    date), the people with an application at another council 1 to 365 days after their
    first at the area, and the cohort."""
    ids = _truth_ids(exports)
    apps: dict[str, list[tuple[date, str]]] = defaultdict(list)
    for path in sorted(exports.glob("homelessness_*.csv")):
        council = path.stem.split("_", 1)[1]
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                person = ids[(f"homelessness:{council}", row["CaseRef"])]
                day = datetime.strptime(row["AppDate"], "%d/%m/%Y").date()
                apps[person].append((day, council))
    tally: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))

    def count(area: str, first: date, council: str, events: list[tuple[date, str]]) -> None:
        window = (first + timedelta(days=1), first + timedelta(days=365))
        hit = any(c != council and window[0] <= d <= window[1] for d, c in events)
        for period in (ALL, _quarter(first)):
            tally[area][period][0] += hit
            tally[area][period][1] += 1

    for events in apps.values():
        for council in {c for _, c in events}:
            count(council, min(d for d, c in events if c == council), council, events)
        # Nationally, the first application anywhere (the earliest record on a tie, as the
        # hub takes the index record; no two of one person's fall on a day here).
        first, council = min(events)
        count(NATIONAL, first, council, events)
    return {a: {p: (v[0], v[1]) for p, v in by.items()} for a, by in tally.items()}


def released_counts(reports: Path, areas: list[str]) -> dict[str, dict[str, tuple[str, str]]]:
    """The released (people, cohort) texts of the indicator's period rows per area."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for area in areas:
        with (reports / f"{area}.csv").open(newline="", encoding="utf-8") as fh:
            out[area] = {
                r["period"]: (r["people"], r["cohort"])
                for r in csv.DictReader(fh)
                if r["indicator"] == INDICATOR and r["breakdown"] == NONE
            }
    return out


def _within(text: str, truth: int) -> bool:
    """Whether a released count's rounding interval holds the true count (``[c]`` says
    nothing: a secondary suppression may hide any count)."""
    if text == SUPPRESSED:
        return True
    lo, hi = rounding_interval(int(text), threshold=THRESHOLD, base=ROUNDING_BASE)
    return lo <= truth <= hi


def profile_of(run: Path) -> str:
    """The error profile a ``movers`` run was made with (its folder says)."""
    return run.parent.name.removeprefix("movers-").rstrip("0123456789")


@pytest.fixture(scope="module", params=[("clean", 11), ("default", 7)], ids=["clean", "default"])
def movers(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    profile, seed = request.param
    out = tmp_path_factory.mktemp(f"movers-{profile}") / "run"
    run_demo(out, seed=seed, persons=1500, councils=3, repeat_elsewhere=1.0, profile=profile)
    return out


def test_the_released_indicator_matches_the_synthetic_truth_within_the_rounding(
    movers: Path,
) -> None:
    assert profile_of(movers) in ("clean", "default")
    truth = truth_counts(movers / "council" / "exports")
    released = released_counts(movers / "reports", sorted(truth))
    assert len(truth) == 4  # three councils and the national benchmark
    shown = 0
    for area, periods in truth.items():
        assert set(released[area]) == set(periods), area
        for period, (people, cohort) in periods.items():
            got_people, got_cohort = released[area][period]
            assert _within(got_people, people), (area, period, got_people, people)
            # The cohort counts distinct people, so a few distinct people whom linkage
            # takes for one (about 0.5% of the national cohort here) show in it. On the
            # default profile it is not held: the people linkage still splits (recall
            # 0.974 there) count twice (the national 2021-Q3 cohort: 45 for a true 42).
            if profile_of(movers) == "clean":
                assert _within(got_cohort, cohort) or abs(int(got_cohort) - cohort) <= max(
                    2, cohort // 100
                ), (area, period, got_cohort, cohort)
            shown += got_people != SUPPRESSED
        # Not vacuous: the headline of every area is published.
        assert released[area][ALL][0] != SUPPRESSED, area
        assert periods[ALL][0] >= THRESHOLD, (area, periods[ALL])
    assert shown >= 4


def test_the_indicator_on_the_true_links_is_exactly_the_truth(movers: Path, tmp_path: Path) -> None:
    """The computation itself, without linkage error: links that give every record its
    true person make every raw count, at every quarter, equal to the hand count."""
    exports = movers / "council" / "exports"
    ids = _truth_ids(exports)
    true_person: dict[str, str] = {}
    for keymap in (movers / "council").glob("*/*/prepared/keymap.csv"):
        dataset = keymap.parent.parent.name
        org = keymap.parent.parent.parent.name
        with keymap.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                true_person[row["record_key"]] = ids[(f"{dataset}:{org}", row["source_row_id"])]
    links, attributes = hub_inputs(movers / "hub")
    table = pq.read_table(links)
    people = [true_person[k] for k in table.column("record_key").to_pylist()]
    table = table.set_column(
        table.schema.get_field_index("person_key"), "person_key", pa.array(people, pa.string())
    )
    pq.write_table(table, tmp_path / "true-links.parquet")
    raws = compute_tables(tmp_path / "true-links.parquet", attributes, [get_indicator(INDICATOR)])
    truth = truth_counts(exports)
    assert {r.area for r in raws} == set(truth)
    for raw in raws:
        assert raw.cohort is not None
        computed = {
            period: (raw.people[(period, NONE, ALL)], raw.cohort[(period, NONE, ALL)])
            for period in (ALL, *raw.layout.quarters)
        }
        expected = {p: truth[raw.area].get(p, (0, 0)) for p in computed}
        assert computed == expected, raw.area
        assert set(truth[raw.area]) <= set(computed)
