"""Persons: names, date of birth, identifiers, address history and latent circumstances.

The circumstances (offending, drug and alcohol use, mental health, domestic abuse, care
leaving, rough sleeping) are never exported as such; the event builders read them to decide
which events a person has, which is what correlates the datasets.
"""

from __future__ import annotations

from bisect import insort
from datetime import date, timedelta

from faker import Faker

from boldhub.schemas.datasets import ETHNICITY
from boldhub.synth.draws import Draws
from boldhub.synth.numbers import Numbers
from boldhub.synth.places import Places
from boldhub.synth.truth import END, MOVES_FROM, START, AddressSpell, Person

# Known groups only; "Not known" is a recording outcome, added per record by the noise model.
_ETHNICITY_WEIGHTS: tuple[tuple[str, float], ...] = (
    (ETHNICITY[0], 0.75),  # White
    (ETHNICITY[1], 0.04),  # Mixed or multiple
    (ETHNICITY[2], 0.12),  # Asian or Asian British
    (ETHNICITY[3], 0.065),  # Black, Black British, Caribbean or African
    (ETHNICITY[4], 0.025),  # Other ethnic group
)

_EXTRA_SURNAMES = ("D'Souza", "D'Arcy", "O'Hara", "O'Leary", "MacDonald", "McLaughlin")


class People:
    """Draws one person at a time; names come from Faker, everything else from ``draws``."""

    def __init__(self, draws: Draws, fake: Faker, places: Places, numbers: Numbers) -> None:
        self.draws = draws
        self.fake = fake
        self.places = places
        self.numbers = numbers

    def person(self, index: int) -> Person:
        d = self.draws
        # Homelessness and justice cohorts are mostly men.
        sex = "M" if d.chance(0.6) else "F"
        # Ages 16-80 at the start of 2019, mode in the early thirties.
        age = min(80, 16 + int(64 * d.rng.betavariate(2.2, 4.0)))
        dob = date(2019 - age, 1, 1) - timedelta(days=d.rng.randint(1, 365))
        forename, middle, surname, new_surname, marriage = self._names(sex, age)
        addresses = self._addresses()
        young = age < 35
        offender = d.chance((0.58 if sex == "M" else 0.30) * (1.15 if young else 0.85))
        drug = d.chance(0.45 if offender else 0.2)
        alcohol = d.chance((0.28 if offender else 0.18) * (1.2 if age >= 30 else 0.8))
        household = d.pick(
            [
                ("single adult", 0.6),
                ("couple", 0.07),
                ("single parent", 0.3 if sex == "F" else 0.04),
                ("couple with children", 0.08),
                ("other", 0.05),
            ]
        )
        # Keyword arguments are evaluated in the order written: the draws below must stay in
        # this order.
        return Person(
            person_id=f"P{index + 1:06d}",
            sex=sex,
            dob=dob,
            forename=forename,
            middle=middle,
            surname=surname,
            new_surname=new_surname,
            marriage_date=marriage,
            nhs_number=self.numbers.nhs_number(),
            ni_number=self.numbers.ni_number(),
            ethnicity=d.pick(_ETHNICITY_WEIGHTS),
            home_council=addresses[0].council,
            addresses=addresses,
            household=household,
            drug=drug,
            alcohol=alcohol,
            mental_health=d.chance(0.35 + 0.15 * (drug or alcohol)),
            domestic_abuse=d.chance(0.35 if sex == "F" else 0.06),
            care_leaver=d.chance(0.2 if age < 25 else 0.03),
            rough_sleeping=d.chance(0.25 if drug or alcohol else 0.08),
            offender=offender,
        )

    def _names(self, sex: str, age: int) -> tuple[str, str, str, str, date | None]:
        """(forename, middle, surname, surname after marriage or "", marriage date)."""
        d = self.draws
        forename = self._forename(sex)
        middle = ""
        if d.chance(0.45):
            middle = self._forename(sex)
            if middle == forename:
                middle = ""
        surname = self._surname()
        new_surname = ""
        marriage: date | None = None
        if sex == "F" and 20 <= age <= 45 and d.chance(0.2):
            new_surname = self._surname()
            if new_surname != surname:
                marriage = d.day_between(START, END)
            else:
                new_surname = ""
        return forename, middle, surname, new_surname, marriage

    def _surname(self) -> str:
        r = self.draws.rng.random()
        if r < 0.01:
            return self.draws.rng.choice(_EXTRA_SURNAMES)
        if r < 0.04:
            first, second = str(self.fake.last_name()), str(self.fake.last_name())
            if first != second:
                return f"{first}-{second}"
        return str(self.fake.last_name())

    def _forename(self, sex: str) -> str:
        return str(self.fake.first_name_male() if sex == "M" else self.fake.first_name_female())

    def move_elsewhere(self, p: Person, after: date, by: date) -> None:
        """Move ``p`` to another council on a day after ``after`` and no later than ``by``,
        so that the address in force on ``by`` is in a council other than the one in force
        on ``after``. The move comes after any move already planned up to ``by`` (which
        would otherwise take over again); moves after ``by`` stay as they were."""
        d, places = self.draws, self.places
        if places.count < 2:
            return
        starts = [a.start for a in p.addresses]
        earliest = max(after, *(s for s in starts if s <= by)) + timedelta(days=1)
        if earliest > by:
            return  # a move already planned for ``by`` itself: nothing to insert before it
        left = p.address_at(after).council
        council = d.rng.choice([c for c in range(places.count) if c != left])
        spell = AddressSpell(
            d.day_between(earliest, by), council, d.rng.choice(places.pools[council])
        )
        insort(p.addresses, spell, key=lambda a: a.start)

    def _addresses(self) -> list[AddressSpell]:
        """A home council, then zero to two moves; about one in ten to another council."""
        d, places = self.draws, self.places
        home = d.pick(list(enumerate(places.weights)))
        addresses = [AddressSpell(date.min, home, d.rng.choice(places.pools[home]))]
        moves = d.pick([(0, 0.45), (1, 0.35), (2, 0.2)])
        for moved in sorted(d.day_between(MOVES_FROM, END) for _ in range(moves)):
            council = addresses[-1].council
            if places.count > 1 and d.chance(0.1):
                council = d.rng.choice([c for c in range(places.count) if c != council])
            postcode = d.rng.choice(places.pools[council])
            addresses.append(AddressSpell(moved, council, postcode))
        return addresses
