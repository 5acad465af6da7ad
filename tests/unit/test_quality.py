"""The quality report's match rates: every breakdown, sex included, disclosure-controlled."""

from __future__ import annotations

import itertools
import re

import pyarrow as pa

from boldhub.council.encode import sex_attribute
from boldhub.linkage import quality
from boldhub.outcomes import linkage_quality
from boldhub.schemas.datasets import SEX, sex_category


def _world() -> tuple[pa.Table, pa.Table]:
    """Links and attributes of records by sex, linked to another record or alone: Female
    32 (22 linked), Male 13 (7 linked: three pairs, and one in a Female pair), Not known 4
    (none linked), and 11 records without a sex attribute (2 linked)."""
    counter = itertools.count()
    keys: list[str] = []
    persons: list[str] = []
    sexes: list[str | None] = []

    def add(sex: str | None, linked: int, alone: int) -> None:
        assert linked % 2 == 0
        for i in range(linked):
            keys.append(f"r{next(counter)}")
            persons.append(f"{sex}-pair{i // 2}")
            sexes.append(sex)
        for _ in range(alone):
            n = next(counter)
            keys.append(f"r{n}")
            persons.append(f"alone{n}")
            sexes.append(sex)

    add("Female", 22, 10)
    add("Male", 6, 6)
    add(None, 2, 9)
    # One more Male linked to the last Female pair: 7 linked Male records in all.
    keys.append(f"r{next(counter)}")
    persons.append("Female-pair10")
    sexes.append("Male")
    add("Not known", 0, 4)
    links = pa.table(
        {
            "record_key": keys,
            "source": ["homelessness:E08000025"] * len(keys),
            "person_key": persons,
        }
    )
    with_sex = [(k, s) for k, s in zip(keys, sexes, strict=True) if s is not None]
    attributes = pa.table(
        {
            "record_key": [k for k, _ in with_sex],
            "age_band": ["25-34"] * len(with_sex),
            "sex": [s for _, s in with_sex],
            "ethnicity": ["White"] * len(with_sex),
        }
    )
    return links, attributes


def test_match_rates_by_sex_are_counted_and_disclosure_controlled() -> None:
    links, attributes = _world()
    rates = linkage_quality.match_rates(links, attributes)
    assert list(rates) == ["source", "council", "age_band", "sex", "ethnicity"]
    by_sex = {row["group"]: row for row in rates["sex"]}
    assert set(by_sex) == {"Female", "Male", "Not known", "not recorded"}
    # Female: 32 records -> 30, 22 linked -> 20, rate from the released counts.
    assert by_sex["Female"]["records"] == 30
    assert by_sex["Female"]["linked"] == 20
    assert abs(by_sex["Female"]["rate_percent"] - 100 * 20 / 30) < 1e-9
    # Male: 13 records -> 15, but 7 linked is under 10: suppressed, and so is the rate.
    assert by_sex["Male"] == {"group": "Male", "records": 15, "linked": None, "rate_percent": None}
    # Not known: 4 records, none linked: all suppressed (a zero is suppressed too).
    assert by_sex["Not known"]["records"] is None
    assert by_sex["Not known"]["linked"] is None
    assert by_sex["Not known"]["rate_percent"] is None
    # No sex attribute (a version 2 package): 11 -> 10 records, 2 linked suppressed.
    assert by_sex["not recorded"]["records"] == 10
    assert by_sex["not recorded"]["linked"] is None
    # Every released count obeys the 10-5 rule.
    for rows in rates.values():
        for row in rows:
            for count in (row["records"], row["linked"]):
                assert count is None or (count >= 10 and count % 5 == 0)


def test_match_rates_without_attributes_report_every_group_as_not_recorded() -> None:
    links, _ = _world()
    rates = linkage_quality.match_rates(links, None)
    for group in linkage_quality.ATTRIBUTE_GROUPS:
        assert [row["group"] for row in rates[group]] == ["not recorded"]
        assert (
            rates[group][0]["records"] == linkage_quality.match_rates(links)["source"][0]["records"]
        )


def test_quality_report_shows_the_sex_breakdown_in_json_and_html() -> None:
    links, attributes = _world()
    report = linkage_quality.build_report(
        run_id="r1",
        mode="full",
        threshold=0.9,
        records=links.num_rows,
        persons=len(set(links.column("person_key").to_pylist())),
        estimates=quality.model_estimates(
            pa.table(
                {"weight": [3], "pairs": [11], "p_sum": [10.5], "links": [11], "p_links": [10.5]}
            )
        ),
        rates=linkage_quality.match_rates(links, attributes),
    )
    assert [row["group"] for row in report["match_rates"]["sex"]] == [
        "Female",
        "Male",
        "Not known",
        "not recorded",
    ]
    html = linkage_quality.render_html(report)
    section = html.split("<h2>Match rate by sex</h2>", 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td>([^<]*)</td>", section)
    assert cells[:4] == ["Female", "30", "20", "67%"]
    assert cells[4:8] == ["Male", "15", "[c]", "[c]"]
    assert cells[8:12] == ["Not known", "[c]", "[c]", "[c]"]


def test_the_sex_attribute_is_a_coarse_category_of_the_standard_code() -> None:
    assert [sex_category(c) for c in ("F", "M", "U", None, "")] == [
        "Female",
        "Male",
        "Not known",
        "Not known",
        "Not known",
    ]
    prepared = pa.table({"sex": pa.array(["M", "F", "U", None, "F", "M"], pa.string())})
    got = sex_attribute(prepared).to_pylist()
    assert got == ["Male", "Female", "Not known", "Not known", "Female", "Male"]
    assert set(got) <= set(SEX)
