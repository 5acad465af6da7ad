"""Who reads which report: every party gets its own back, and only its own."""

from __future__ import annotations

import pytest

from boldhub.hub.access import NATIONAL, allowed
from boldhub.hub.accounts import Principal

A, B = "E08000025", "E06000023"


def _user(role: str, organisation: str = A, kind: str = "council") -> Principal:
    return Principal(1, "x@example.gov.uk", "X", organisation, kind, role)


@pytest.mark.parametrize("role", ["submitter", "analyst", "dpo", "admin"])
def test_a_councils_own_people_read_its_report_and_the_national_one(role: str) -> None:
    # The data officer who submitted sees what the council gets back for it.
    assert allowed(_user(role), "report.read", A)
    assert allowed(_user(role), "report.read", NATIONAL)
    assert not allowed(_user(role), "report.read", B)


def test_the_hubs_linkage_operator_reads_no_report() -> None:
    assert not allowed(_user("linkage_operator", "HUB", "hub"), "report.read", A)
