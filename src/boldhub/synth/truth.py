"""The true state of the world: who each person is, where they lived, and what happened.

These are the types the builders in :mod:`boldhub.synth.population` fill in and the exports
in :mod:`boldhub.synth.exports` record with errors. Nothing here draws random numbers.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

from boldhub.schemas.organisations import Organisation

START = date(2019, 1, 1)
END = date(2025, 12, 31)
MOVES_FROM = date(2018, 1, 1)

Value = str | date | None
"""An attribute value before formatting: a category or flag string, a date, or missing."""


@dataclass(frozen=True, slots=True)
class AddressSpell:
    """A postcode in force from ``start`` (the first spell is in force from birth)."""

    start: date
    council: int
    postcode: str


@dataclass(slots=True)
class Person:
    """One synthetic person: true identifiers and latent circumstances."""

    person_id: str
    sex: str  # "M" or "F"
    dob: date
    forename: str
    middle: str
    surname: str
    new_surname: str  # surname after marriage_date, "" if none
    marriage_date: date | None
    nhs_number: str
    ni_number: str
    ethnicity: str
    home_council: int
    addresses: list[AddressSpell]
    household: str
    drug: bool
    alcohol: bool
    mental_health: bool
    domestic_abuse: bool
    care_leaver: bool
    rough_sleeping: bool
    offender: bool
    pnc_id: str = ""
    crns: list[str] = field(default_factory=list)

    def address_at(self, when: date) -> AddressSpell:
        starts = [a.start for a in self.addresses]
        return self.addresses[max(bisect_right(starts, when) - 1, 0)]

    def previous_address(self, when: date) -> AddressSpell | None:
        starts = [a.start for a in self.addresses]
        i = bisect_right(starts, when) - 1
        return self.addresses[i - 1] if i >= 1 else None

    def surname_at(self, when: date) -> str:
        if self.new_surname and self.marriage_date is not None and when >= self.marriage_date:
            return self.new_surname
        return self.surname

    def age_at(self, when: date) -> int:
        return when.year - self.dob.year - ((when.month, when.day) < (self.dob.month, self.dob.day))


@dataclass(slots=True)
class Event:
    """One event that becomes one export row.

    ``dataset`` is the canonical dataset name, ``council`` the index of the council whose
    export gets the row (homelessness only; -1 otherwise), ``attrs`` the canonical attribute
    values, ``crn`` the probation case reference used, and ``order`` a random tie-break so
    that rows on the same date are not grouped by person.
    """

    dataset: str
    person: int
    when: date
    council: int
    attrs: dict[str, Value]
    order: float
    crn: str = ""


@dataclass(slots=True)
class Population:
    councils: tuple[Organisation, ...]
    persons: list[Person]
    events: list[Event]
