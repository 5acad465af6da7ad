"""Standardisation, as a table of raw cells and what every party must make of them."""

from __future__ import annotations

from datetime import date

import pytest

from boldhub.council import standardise as std


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  smith ", "SMITH"),
        ("O'Neill", "O'NEILL"),
        ("o\u2019neill", "O'NEILL"),
        ("Smith-Jones", "SMITH-JONES"),
        ("Nic an tSaoi", "NIC AN TSAOI"),
        ("Zoë", "ZOE"),
        ("Mr John", "JOHN"),
        ("Dr. Ann-Marie", "ANN-MARIE"),
        ("smith - jones", "SMITH-JONES"),
        ("Smith Jones", "SMITH JONES"),  # double-barrelled without a hyphen keeps its space
        ("O ' Neill", "O'NEILL"),
        ("D’Arcy-O’Brien", "D'ARCY-O'BRIEN"),
        ("Siobhán", "SIOBHAN"),
        ("Łukasz", "LUKASZ"),
        ("Müller", "MULLER"),
        ("Lord", "LORD"),  # a title alone is the name
        ("Smith Jnr", "SMITH"),
        ("Smith,John", "SMITH JOHN"),
        ("J0hn", "JHN"),
        ("", None),
    ],
)
def test_name(raw: str, expected: str | None) -> None:
    assert std.name(raw) == (expected, None)


def test_name_without_letters_is_a_problem() -> None:
    assert std.name("1234") == (None, "has no letters")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("14/02/1985", "1985-02-14"),
        ("1985-02-14", "1985-02-14"),
        ("14.02.1985", "1985-02-14"),
        ("1985-02-14 00:00:00", "1985-02-14"),
        ("1985-02-14T00:00:00", "1985-02-14"),
        ("19850214", "1985-02-14"),
        ("14-02-1985", "1985-02-14"),
        ("14 Feb 1985", "1985-02-14"),
        ("14-FEB-85", "1985-02-14"),
        ("14 February 1985", "1985-02-14"),
        ("31092", "1985-02-14"),  # an Excel serial
        ("31092.0", "1985-02-14"),
        ("14/02/85", "1985-02-14"),
        ("01/02/05", "2005-02-01"),  # two-digit years are this century unless in the future
        ("01/02/62", "1962-02-01"),
    ],
)
def test_dob_formats(raw: str, expected: str) -> None:
    assert std.dob(raw, date(2026, 1, 1)) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("31/02/1985", "not a real calendar date"),
        ("29/02/2023", "not a real calendar date"),
        ("1985", "recognised format"),
        ("01/01/2030", "future"),
        ("01/01/1850", "before 1900"),
        ("soon", "recognised format"),
    ],
)
def test_dob_problems(raw: str, problem: str) -> None:
    value, reason = std.dob(raw, date(2026, 1, 1))
    assert value is None and reason is not None and problem in reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        (" b15 2tt ", "B15 2TT"),
        ("M1 1AE", "M1 1AE"),
    ],
)
def test_postcode(raw: str, expected: str) -> None:
    assert std.postcode(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["NOT A CODE", "QA1 1AA", "SW1A 1CA", "B15", "12345"])
def test_invalid_postcode(raw: str) -> None:
    assert std.postcode(raw)[1] == "is not a valid UK postcode"


def test_special_postcodes() -> None:
    assert std.postcode("gir0aa") == ("GIR 0AA", None)
    assert std.postcode("IM1 1AA") == ("IM1 1AA", None)


def test_nhs_number_with_spaces_and_check_digit() -> None:
    assert std.nhs_number("943 476 5919") == ("9434765919", None)
    assert std.nhs_number("943-476-5919") == ("9434765919", None)
    assert std.nhs_number("9434765919.0") == ("9434765919", None)  # a number cell
    assert std.nhs_number("943 476 5918")[0] is None
    assert std.nhs_number("94347659")[0] is None


def test_nhs_number_in_scientific_notation_says_why() -> None:
    value, problem = std.nhs_number("9.43E+09")
    assert value is None and problem is not None and "scientific notation" in problem


@pytest.mark.parametrize(
    ("raw", "expected", "problem"),
    [
        ("100023336956", "100023336956", None),
        ("100023336956.0", "100023336956", None),
        ("", None, None),
        ("012345", None, "is not a valid UPRN (1 to 12 digits)"),
        ("1000233369561", None, "is not a valid UPRN (1 to 12 digits)"),
        ("12AB", None, "is not a valid UPRN (1 to 12 digits)"),
    ],
)
def test_uprn(raw: str, expected: str | None, problem: str | None) -> None:
    assert std.uprn(raw) == (expected, problem)


def test_date_order_evidence_and_month_first_reading() -> None:
    evidence = std.date_order_evidence([("12/25/1980", 3), ("03/04/1980", 2), ("1980-01-01", 9)])
    assert (evidence.dmy_only, evidence.mdy_only, evidence.ambiguous) == (0, 3, 2)
    assert evidence.order() == "mdy"
    assert std.date_order_evidence([("25/12/1980", 1), ("12/25/1980", 1)]).order() == "dmy"
    assert std.dob("12/25/1980", date(2026, 1, 1), "mdy") == ("1980-12-25", None)
    assert std.dob("03/04/1980", date(2026, 1, 1), "mdy") == ("1980-03-04", None)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("QQ 12 34 56 C", False),  # Q is never a first letter
        ("AB123456C", True),
        ("ab 12 34 56 c", True),
        ("AB-12-34-56-C", True),
        ("GB123456A", False),  # never-issued prefixes
        ("TN123456A", False),
        ("AO123456A", False),  # O is never a second letter
        ("AB123456E", False),  # suffix A to D
        ("AB12345C", False),
    ],
)
def test_ni_number(raw: str, ok: bool) -> None:
    assert (std.ni_number(raw)[0] is not None) is ok


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Male", "M"), ("f", "F"), ("2", "F"), ("", "U"), ("Not  known", "U"), ("Indeterminate", "U")],
)
def test_sex(raw: str, expected: str) -> None:
    assert std.sex(raw)[0] == expected


@pytest.mark.parametrize(
    ("dob", "at", "band"),
    [
        ("2000-06-15", "2018-06-14", "16-17"),
        ("2000-06-15", "2018-06-15", "18-24"),
        ("1950-01-01", "2020-01-01", "65+"),
        (None, "2020-01-01", "unknown"),
    ],
)
def test_age_band(dob: str | None, at: str, band: str) -> None:
    assert std.age_band(dob, at) == band


def test_whole_column_age_bands_agree_with_the_scalar_rule() -> None:
    """prepare computes age bands for whole columns; they must be the scalar rule's."""
    import random

    import pyarrow as pa

    from boldhub.council.validate import _age_bands

    rng = random.Random(11)
    births: list[str | None] = []
    events: list[str | None] = []
    for _ in range(3000):
        b = date(1930, 1, 1).toordinal() + rng.randrange(0, 33000)
        e = b + rng.randrange(0, 40000)
        births.append(None if rng.random() < 0.05 else date.fromordinal(b).isoformat())
        events.append(date.fromordinal(min(e, date(2030, 1, 1).toordinal())).isoformat())
    # Birthdays on the event day and the day before: the edges of every band.
    for year in (2000, 1960, 2004):
        births += [f"{year}-03-01", f"{year}-02-29" if year % 4 == 0 else f"{year}-02-28"]
        events += [f"{year + 18}-03-01", f"{year + 18}-02-28"]
    got = _age_bands(pa.array(births, pa.string()), pa.array(events, pa.string())).to_pylist()
    assert got == [std.age_band(b, e) for b, e in zip(births, events, strict=True)]
