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
    ],
)
def test_dob_formats(raw: str, expected: str) -> None:
    assert std.dob(raw, date(2026, 1, 1)) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("31/02/1985", "recognised format"),
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


def test_invalid_postcode() -> None:
    assert std.postcode("NOT A CODE")[1] == "is not a valid UK postcode"


def test_nhs_number_with_spaces_and_check_digit() -> None:
    assert std.nhs_number("943 476 5919") == ("9434765919", None)
    assert std.nhs_number("943 476 5918")[0] is None


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("QQ 12 34 56 C", False), ("AB123456C", True), ("ab 12 34 56 c", True), ("GB123456A", False)],
)
def test_ni_number(raw: str, ok: bool) -> None:
    assert (std.ni_number(raw)[0] is not None) is ok


@pytest.mark.parametrize(("raw", "expected"), [("Male", "M"), ("f", "F"), ("2", "F"), ("", "U")])
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
