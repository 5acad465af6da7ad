"""The 10-5 rule, as a table: raw count -> what is released."""

from __future__ import annotations

import pytest

from boldhub.outcomes.disclosure import control_count, control_rate


@pytest.mark.parametrize(
    ("raw", "released"),
    [
        (0, "[c]"),
        (1, "[c]"),
        (9, "[c]"),
        (10, "10"),
        (12, "10"),
        (13, "15"),
        (15, "15"),
        (17, "15"),
        (18, "20"),
        (1234, "1,235"),
    ],
)
def test_ten_five_rule(raw: int, released: str) -> None:
    assert str(control_count(raw)) == released


def test_rates_use_released_counts() -> None:
    assert str(control_rate(control_count(13), control_count(52))) == "30%"  # 15 / 50
    assert str(control_rate(control_count(7), control_count(52))) == "[c]"
    assert str(control_rate(control_count(20), control_count(3))) == "[c]"


def test_negative_counts_are_a_bug() -> None:
    with pytest.raises(ValueError):
        control_count(-1)
