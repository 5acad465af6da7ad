"""Each catalogue indicator on a hand-built population of three people, counted by hand.

p1 applies at council A on 2020-03-01 and at council B on 2020-06-01; was in custody from
2019-01-01, released 2020-02-01, supervised to 2020-09-01 (approved premises); referred to
treatment on 2020-04-01 and to victims' services (domestic abuse) on 2020-05-01.
p2 applies at A on 2020-03-15 and again on 2020-10-01; a victims' referral (not domestic
abuse) on 2021-06-01, 443 days after applying. p3 applies at B on 2021-01-10 only, with
every breakdown attribute unknown.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from boldhub.outcomes.catalogue import INDICATORS, UNKNOWN, get_indicator
from boldhub.outcomes.tidy import AttributeInput, RawTable, compute_tables, protect_tables

A, B = "E08000025", "E07000178"
TOTAL = ("All", "none", "All")

_PERSON = {"age_band": "25-34", "sex": "Male", "ethnicity": "White"}
_UNKNOWN = {"age_band": "unknown", "sex": "Not known", "ethnicity": None}

DATA: dict[str, list[dict[str, str | None]]] = {
    f"homelessness:{A}": [
        {"record_key": "h1", "application_date": "2020-03-01", **_PERSON},
        {"record_key": "h2", "application_date": "2020-03-15", **_PERSON, "sex": "Female"},
        {"record_key": "h3", "application_date": "2020-10-01", **_PERSON},
    ],
    f"homelessness:{B}": [
        {"record_key": "h4", "application_date": "2020-06-01", **_PERSON},
        {"record_key": "h5", "application_date": "2021-01-10", **_UNKNOWN},
    ],
    "probation:MOJ-PROBATION": [
        {
            "record_key": "p1",
            "disposal": "custody",
            "start_date": "2019-01-01",
            "release_date": "2020-02-01",
            "termination_date": "2020-09-01",
            "accommodation_on_release": "approved premises",
            **_PERSON,
        }
    ],
    "treatment:DHSC-NDTMS": [
        {"record_key": "t1", "referral_date": "2020-04-01", "discharge_date": None, **_PERSON}
    ],
    "victims:MOJ-VICTIMS": [
        {"record_key": "v1", "referral_date": "2020-05-01", "domestic_abuse": "Y", **_PERSON},
        {"record_key": "v2", "referral_date": "2021-06-01", "domestic_abuse": "N", **_PERSON},
    ],
}
PERSON_OF = {"h1": "p1", "h2": "p2", "h3": "p2", "h4": "p1", "h5": "p3"}
PERSON_OF |= {"p1": "p1", "t1": "p1", "v1": "p1", "v2": "p2"}


def _parquet(con: duckdb.DuckDBPyConnection, path: Path, rows: list[dict[str, str | None]]) -> None:
    columns = sorted({c for r in rows for c in r})
    con.execute(f"CREATE OR REPLACE TABLE t ({', '.join(f'{c} VARCHAR' for c in columns)})")
    con.executemany(
        f"INSERT INTO t VALUES ({', '.join('?' for _ in columns)})",
        [[r.get(c) for c in columns] for r in rows],
    )
    con.execute(f"COPY t TO '{path}' (FORMAT PARQUET)")


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], RawTable]:
    folder = tmp_path_factory.mktemp("catalogue")
    con = duckdb.connect()
    attrs = []
    links: list[dict[str, str | None]] = []
    for i, (source, rows) in enumerate(DATA.items()):
        _parquet(con, folder / f"a{i}.parquet", rows)
        attrs.append(AttributeInput(source, folder / f"a{i}.parquet"))
        links += [
            {
                "record_key": r["record_key"],
                "source": source,
                "person_key": PERSON_OF[str(r["record_key"])],
            }
            for r in rows
        ]
    _parquet(con, folder / "links.parquet", links)
    con.close()
    return {(t.area, t.indicator.id): t for t in compute_tables(folder / "links.parquet", attrs)}


def _counts(t: RawTable) -> tuple[int, int | None]:
    return t.people[TOTAL], t.cohort.get(TOTAL)


@pytest.mark.parametrize(
    ("indicator", "area", "people", "cohort"),
    [
        ("homeless_probation_before", A, 1, 2),
        ("homeless_probation_before", B, 1, 2),  # p1's supervision ran on to 2020-09-01
        ("homeless_release_before", A, 1, 2),  # released 29 days before applying
        ("homeless_release_before", B, 0, 2),  # 121 days: outside 3 months
        ("homeless_treatment_after", A, 1, 2),
        ("homeless_treatment_after", B, 0, 2),  # referred before applying at B
        ("homeless_victim_around", A, 1, 2),  # p2's referral is 443 days later
        ("homeless_victim_around", B, 1, 2),
        ("homeless_victim_da_around", "national", 1, 3),
        ("homeless_repeat_same", A, 1, 2),  # p2
        ("homeless_repeat_same", "national", 1, 3),
        ("homeless_repeat_other", A, 1, 2),  # p1 went on to B
        ("homeless_repeat_other", B, 0, 2),  # p1 had been at A before, not after
        ("homeless_repeat_other", "national", 1, 3),
        ("probation_homeless_after", "MOJ-PROBATION", 1, 1),
        ("treatment_homeless_around", "DHSC-NDTMS", 1, 1),
        ("treatment_probation_around", "DHSC-NDTMS", 1, 1),
        ("victims_homeless_after", "MOJ-VICTIMS", 1, 2),  # p1 at B a month later
    ],
)
def test_rates_count_by_hand(
    tables: dict[tuple[str, str], RawTable], indicator: str, area: str, people: int, cohort: int
) -> None:
    assert _counts(tables[(area, indicator)]) == (people, cohort)


def test_magnitude_is_days_from_latest_release(tables: dict[tuple[str, str], RawTable]) -> None:
    a = tables[(A, "homeless_days_from_release")]
    assert a.people[TOTAL] == 1 and a.values[TOTAL] == (29,)
    assert tables[(B, "homeless_days_from_release")].values[TOTAL] == (121,)
    assert tables[("national", "homeless_days_from_release")].values[TOTAL] == (29,)


def test_overlaps_count_each_person_once(tables: dict[tuple[str, str], RawTable]) -> None:
    t = tables[("national", "dataset_overlaps")]
    cells = {cat: n for (_, b, cat), n in t.people.items() if b == "combination" and n}
    assert cells == {
        "homelessness": 1,
        "homelessness+victims": 1,
        "homelessness+probation+treatment+victims": 1,
    }
    assert t.people[TOTAL] == 3


def test_breakdowns_and_quarters_add_up(tables: dict[tuple[str, str], RawTable]) -> None:
    t = tables[(B, "homeless_victim_around")]
    assert t.layout.quarters == ("2020-Q2", "2020-Q3", "2020-Q4", "2021-Q1")
    assert t.cohort[("2021-Q1", "ethnicity", UNKNOWN)] == 1  # p3: missing
    assert t.cohort[("2021-Q1", "sex", UNKNOWN)] == 1  # "Not known"
    assert t.cohort[("All", "age_band", "25-34")] == 1
    assert t.people[("2020-Q2", "sex", "Male")] == 1
    for total, parts in t.layout.sums():
        assert t.cohort[total] == sum(t.cohort[p] for p in parts)
    probation = tables[("MOJ-PROBATION", "probation_homeless_after")]
    assert probation.people[("2020-Q1", "accommodation_on_release", "approved premises")] == 1


def test_every_indicator_has_a_table_and_protects(tables: dict[tuple[str, str], RawTable]) -> None:
    assert {i.id for i in INDICATORS} == {ind for _, ind in tables}
    assert len(INDICATORS) >= 12
    released = protect_tables([tables[(A, "homeless_repeat_same")]])
    assert released[0].people.values[TOTAL] is None  # 1 person: suppressed
    assert get_indicator("homeless_repeat_other").outcome is not None
