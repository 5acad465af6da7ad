"""Cross-dataset outcome indicators, declared as data and computed in DuckDB.

The cohort is people owed or assessed for a homelessness duty: for each council, every
person with an application there, indexed at their first application there; nationally,
every person with an application anywhere, indexed at their first. Each indicator counts
the cohort members with an event in another dataset inside a window around the index date.

Everything returned is an aggregate that has passed disclosure control: raw counts never
leave ``compute``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from boldhub.outcomes.disclosure import (
    ReleasedCount,
    ReleasedRate,
    control_count,
    control_rate,
)


@dataclass(frozen=True)
class Indicator:
    """One indicator: which events count, relative to the cohort member's index date."""

    id: str
    title: str
    explanation: str
    events: str  # SQL over table `events` (person_key, dataset, d1, d2) joined to cohort `c`
    # The dataset whose events it counts: without a submission of it in the run, the
    # indicator is not in the release (a zero there would claim data nobody sent).
    dataset: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "probation_before",
        "Under probation supervision in the 12 months before applying",
        "People whose probation supervision was active at any time in the 12 months before "
        "their first homelessness application.",
        "e.dataset = 'probation' AND e.d1 < c.index_date "
        "AND coalesce(e.d2, c.index_date) >= c.index_date - INTERVAL 365 DAY",
        "probation",
    ),
    Indicator(
        "treatment_after",
        "Entered drug or alcohol treatment within 6 months after applying",
        "People referred to drug or alcohol treatment in the 6 months (182 days) after their "
        "first homelessness application.",
        "e.dataset = 'treatment' AND e.d1 >= c.index_date "
        "AND e.d1 <= c.index_date + INTERVAL 182 DAY",
        "treatment",
    ),
    Indicator(
        "victim_around",
        "Referred to victims' services within 12 months before or after applying",
        "People with a victim referral in the 12 months either side of their first "
        "homelessness application.",
        "e.dataset = 'victims' AND e.d1 >= c.index_date - INTERVAL 365 DAY "
        "AND e.d1 <= c.index_date + INTERVAL 365 DAY",
        "victims",
    ),
    Indicator(
        "repeat_homelessness",
        "Applied as homeless again within 12 months (any council)",
        "People with another homelessness application, at any participating council, in the "
        "12 months after their first one.",
        "e.dataset = 'homelessness' AND e.d1 > c.index_date "
        "AND e.d1 <= c.index_date + INTERVAL 365 DAY",
        "homelessness",
    ),
)

DATASETS = ("homelessness", "probation", "treatment", "victims")

# Which attribute holds each dataset's start (d1) and end (d2) date.
_EVENT_DATES = {
    "homelessness": ("application_date", "NULL"),
    "probation": ("start_date", "termination_date"),
    "treatment": ("referral_date", "discharge_date"),
    "victims": ("referral_date", "NULL"),
}


@dataclass(frozen=True)
class IndicatorValue:
    indicator: Indicator
    numerator: ReleasedCount
    rate: ReleasedRate
    # False when no submission of the indicator's dataset was in the run.
    in_release: bool = True


@dataclass(frozen=True)
class AreaOutcomes:
    area: str  # a council's GSS code, or "national"
    cohort: ReleasedCount
    values: tuple[IndicatorValue, ...]
    first_application: str | None
    last_application: str | None
    # The datasets that had a submission in the run, in the order of DATASETS.
    datasets: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttributeInput:
    source: str  # "<dataset>:<organisation>"
    path: Path


def compute(links: Path, attributes: list[AttributeInput]) -> list[AreaOutcomes]:
    """Outcomes per council and nationally, disclosure-controlled."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW links AS SELECT * FROM read_parquet({_quote(str(links))})")
    parts = []
    for i, a in enumerate(attributes):
        dataset, org = a.source.split(":", 1)
        d1, d2 = _EVENT_DATES[dataset]
        con.execute(f"CREATE VIEW attr_{i} AS SELECT * FROM read_parquet({_quote(str(a.path))})")
        parts.append(
            f"SELECT record_key, '{dataset}' AS dataset, '{org}' AS org, "
            f"TRY_CAST({d1} AS DATE) AS d1, TRY_CAST({d2} AS DATE) AS d2 FROM attr_{i}"
        )
    if not any(a.source.startswith("homelessness:") for a in attributes):
        return []
    con.execute(
        "CREATE TABLE events AS SELECT l.person_key, a.* FROM ("
        + " UNION ALL ".join(parts)
        + ") a JOIN links l USING (record_key) WHERE a.d1 IS NOT NULL"
    )
    con.execute(
        """CREATE TABLE cohorts AS
           SELECT org AS area, person_key, min(d1) AS index_date
             FROM events WHERE dataset = 'homelessness' GROUP BY org, person_key
           UNION ALL
           SELECT 'national', person_key, min(d1)
             FROM events WHERE dataset = 'homelessness' GROUP BY person_key"""
    )
    flags = ", ".join(f"bool_or({ind.events}) AS {ind.id}" for ind in INDICATORS)
    con.execute(
        f"""CREATE TABLE flags AS
            SELECT c.area, c.person_key, {flags}
              FROM cohorts c LEFT JOIN events e USING (person_key)
             GROUP BY c.area, c.person_key"""
    )
    sums = ", ".join(f"count(*) FILTER (WHERE {ind.id})" for ind in INDICATORS)
    rows = con.execute(
        f"SELECT area, count(*), {sums} FROM flags GROUP BY area ORDER BY area"
    ).fetchall()
    spans = {
        area: (str(lo), str(hi))
        for area, lo, hi in con.execute(
            "SELECT org, min(d1), max(d1) FROM events WHERE dataset = 'homelessness' GROUP BY org "
            "UNION ALL SELECT 'national', min(d1), max(d1) FROM events WHERE dataset = 'homelessness'"
        ).fetchall()
    }
    con.close()
    present = {a.source.split(":", 1)[0] for a in attributes}
    datasets = tuple(d for d in DATASETS if d in present)
    out = []
    for area, cohort_n, *nums in rows:
        cohort = control_count(int(cohort_n))
        values = []
        for ind, n in zip(INDICATORS, nums, strict=True):
            num = control_count(int(n))
            values.append(
                IndicatorValue(ind, num, control_rate(num, cohort), ind.dataset in present)
            )
        lo, hi = spans.get(area, (None, None))
        out.append(AreaOutcomes(area, cohort, tuple(values), lo, hi, datasets))
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
