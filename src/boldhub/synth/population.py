"""Synthetic persons, their identifier histories and their life events: the known truth.

Everything here is the *true* state of the world. How each body then records it (typos,
nicknames, missing values, out-of-date surnames) is the error model in
:mod:`boldhub.synth.noise`; keeping the two apart means the truth can be rebuilt from the seed
and compared with what the exports say.

Each person has a fixed sex, date of birth, forename, optional middle name, surname (and,
for some women, a second surname taken at a "marriage" date), NHS and NI numbers, and an
address history of one to three postcodes in force from move dates between 2018 and 2025.
Addresses are drawn from a per-council pool of postcodes (300, or one per 40 residents in
a larger population, as in England), so a council's residents share postcode districts; about one move in ten goes to another of the chosen councils, which is
what puts the same person in two councils' exports.

Life events run from 2019-01-01 to 2025-12-31 and are correlated on purpose, so that the
outcome indicators have something to find:

* probation episodes (about 45% of persons, men and young adults more often); custody
  releases are followed by homelessness applications referred by prison or probation;
* homelessness cases (about 70% of persons, some repeat), in the council of the address in
  force on the application date;
* drug and alcohol treatment (about 40%), more likely within six months after a
  homelessness case with a drug or alcohol support need, after a probation drug or alcohol
  requirement, and after release from custody;
* victim referrals (about 25%), more likely around a homelessness case with domestic abuse.

Randomness comes from ``random.Random`` seeded with a string derived from the seed (stable
across processes, unlike ``hash``) and from Faker's own seeded generator, always consumed in
the same order, so a seed gives the same population every time.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from faker import Faker
from stdnum.gb import nhs

from boldhub.schemas.datasets import ETHNICITY
from boldhub.schemas.organisations import Organisation

START = date(2019, 1, 1)
END = date(2025, 12, 31)
MOVES_FROM = date(2018, 1, 1)
_START_ORD = START.toordinal()
_END_ORD = END.toordinal()

T = TypeVar("T")

Value = str | date | None
"""An attribute value before formatting: a category or flag string, a date, or missing."""

# Real postcode districts of each council, so that exports look like the places they claim
# to come from. Councils not listed fall back to outward codes taken from Faker.
_DISTRICTS: dict[str, tuple[str, ...]] = {
    "E08000025": ("B5", "B6", "B8", "B10", "B11", "B12", "B13", "B15", "B16", "B18", "B21", "B29"),
    "E06000023": ("BS1", "BS2", "BS3", "BS4", "BS5", "BS6", "BS7", "BS13", "BS16"),
    "E07000178": ("OX1", "OX2", "OX3", "OX4"),
    "E08000003": ("M1", "M4", "M8", "M9", "M11", "M13", "M14", "M20", "M22"),
    "E06000018": ("NG1", "NG2", "NG3", "NG5", "NG6", "NG7", "NG8", "NG11"),
    "E08000021": ("NE1", "NE2", "NE3", "NE4", "NE5", "NE6", "NE7", "NE15"),
    "E06000043": ("BN1", "BN2", "BN3", "BN41"),
    "E07000008": ("CB1", "CB2", "CB3", "CB4", "CB5"),
    "E06000010": ("HU1", "HU2", "HU3", "HU4", "HU5", "HU6", "HU7", "HU8", "HU9"),
    "E08000035": ("LS1", "LS2", "LS4", "LS6", "LS7", "LS8", "LS9", "LS11", "LS12", "LS14"),
}

# Resident populations in thousands (ONS mid-year estimates, rounded): big cities get more
# of the synthetic population, so small councils get the small counts that disclosure
# control has to deal with.
_WEIGHTS: dict[str, float] = {
    "E08000025": 1145,
    "E06000023": 472,
    "E07000178": 162,
    "E08000003": 552,
    "E06000018": 324,
    "E08000021": 300,
    "E06000043": 277,
    "E07000008": 146,
    "E06000010": 267,
    "E08000035": 812,
}
_DEFAULT_WEIGHT = 300.0
_POSTCODES_PER_COUNCIL = 300
# England has about 1.5 million residential postcodes for 57 million people: a council's
# pool grows with its residents so that a large population is not crowded into a few
# hundred postcodes (which would make every postcode shared by thousands of people).
_PERSONS_PER_POSTCODE = 40

# Inward-code letters never include C, I, K, M, O or V.
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# PNC check characters, indexed by (two-digit year followed by the serial) mod 23.
_PNC_CHECK = "ZABCDEFGHJKLMNPQRTUVWXY"
# NI number prefixes: neither letter D, F, I, Q, U or V, second letter not O, and a few
# pairs never issued.
_NI_FIRST = "".join(c for c in _UPPER if c not in "DFIQUV")
_NI_SECOND = "".join(c for c in _UPPER if c not in "DFIQUVO")
_CRN_LETTERS = _UPPER.replace("P", "")
_NI_BAD_PREFIXES = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")

# Known groups only; "Not known" is a recording outcome, added per record by the noise model.
_ETHNICITY_WEIGHTS: tuple[tuple[str, float], ...] = (
    (ETHNICITY[0], 0.75),  # White
    (ETHNICITY[1], 0.04),  # Mixed or multiple
    (ETHNICITY[2], 0.12),  # Asian or Asian British
    (ETHNICITY[3], 0.065),  # Black, Black British, Caribbean or African
    (ETHNICITY[4], 0.025),  # Other ethnic group
)

_EXTRA_SURNAMES = ("D'Souza", "D'Arcy", "O'Hara", "O'Leary", "MacDonald", "McLaughlin")


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


def build_population(
    persons: int,
    councils: Sequence[Organisation],
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> Population:
    """The persons and their events for ``seed``; the same arguments give the same result."""
    return _Builder(tuple(councils), seed, persons).build(persons, progress)


def _yn(flag: bool) -> str:
    return "Y" if flag else "N"


def nhs_check_digit(nine: str) -> int:
    """Modulus 11 check digit of nine digits; 10 means the nine digits cannot be used."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine))
    check = 11 - total % 11
    return 0 if check == 11 else check


def pnc_check(year: int, serial: int) -> str:
    return _PNC_CHECK[int(f"{year % 100:02d}{serial:07d}") % 23]


class _Builder:
    def __init__(self, councils: tuple[Organisation, ...], seed: int, persons: int = 0) -> None:
        self.councils = councils
        self.pool_size = max(
            _POSTCODES_PER_COUNCIL, round(persons / max(len(councils), 1) / _PERSONS_PER_POSTCODE)
        )
        self.rng = random.Random(f"boldhub-synth-population-{seed}")
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)
        self.persons: list[Person] = []
        self.events: list[Event] = []
        self._nhs_seen: set[str] = set()
        self._ni_seen: set[str] = set()
        self._crn_seen: set[str] = set()
        self.pools = [self._postcode_pool(c.code) for c in councils]
        self.council_weights = [_WEIGHTS.get(c.code, _DEFAULT_WEIGHT) for c in councils]

    # -- helpers ---------------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, weighted: Sequence[tuple[T, float]]) -> T:
        total = sum(w for _, w in weighted)
        r = self.rng.random() * total
        for value, w in weighted:
            r -= w
            if r < 0:
                return value
        return weighted[-1][0]

    def day_between(self, first: date, last: date) -> date:
        return date.fromordinal(self.rng.randint(first.toordinal(), last.toordinal()))

    def after(self, when: date, low: int, high: int) -> date:
        return when + timedelta(days=self.rng.randint(low, high))

    def emit(
        self,
        dataset: str,
        person: int,
        when: date,
        attrs: dict[str, Value],
        crn: str = "",
        council: int = -1,
    ) -> None:
        self.events.append(Event(dataset, person, when, council, attrs, self.rng.random(), crn))

    # -- places and numbers ----------------------------------------------------------------

    def _postcode_pool(self, code: str) -> list[str]:
        districts = _DISTRICTS.get(code)
        if districts is None:
            outward = [str(self.fake.postcode()).split()[0] for _ in range(4)]
            districts = tuple(dict.fromkeys(outward))
        pool: list[str] = []
        seen: set[str] = set()
        while len(pool) < self.pool_size:
            pc = (
                f"{self.rng.choice(districts)} {self.rng.randint(1, 9)}"
                f"{self.rng.choice(_INWARD_LETTERS)}{self.rng.choice(_INWARD_LETTERS)}"
            )
            if pc not in seen:
                seen.add(pc)
                pool.append(pc)
        return pool

    def _nhs_number(self) -> str:
        while True:
            # England issues numbers from the 400 and 600 million ranges.
            nine = f"{self.rng.choice('46')}{self.rng.randrange(10**8):08d}"
            check = nhs_check_digit(nine)
            if check == 10:
                continue
            number = f"{nine}{check}"
            if number in self._nhs_seen or not nhs.is_valid(number):
                continue
            self._nhs_seen.add(number)
            return number

    def _ni_number(self) -> str:
        while True:
            prefix = self.rng.choice(_NI_FIRST) + self.rng.choice(_NI_SECOND)
            if prefix in _NI_BAD_PREFIXES:
                continue
            number = f"{prefix}{self.rng.randrange(10**6):06d}{self.rng.choice('ABCD')}"
            if number not in self._ni_seen:
                self._ni_seen.add(number)
                return number

    def _crn(self) -> str:
        while True:
            # Any letter but P, so that no CRN can look like a synthetic person id.
            crn = f"{self.rng.choice(_CRN_LETTERS)}{self.rng.randrange(10**6):06d}"
            if crn not in self._crn_seen:
                self._crn_seen.add(crn)
                return crn

    # -- persons ---------------------------------------------------------------------------

    def _surname(self) -> str:
        r = self.rng.random()
        if r < 0.01:
            return self.rng.choice(_EXTRA_SURNAMES)
        if r < 0.04:
            first, second = str(self.fake.last_name()), str(self.fake.last_name())
            if first != second:
                return f"{first}-{second}"
        return str(self.fake.last_name())

    def _forename(self, sex: str) -> str:
        return str(self.fake.first_name_male() if sex == "M" else self.fake.first_name_female())

    def _person(self, index: int) -> Person:
        rng = self.rng
        # Homelessness and justice cohorts are mostly men.
        sex = "M" if self.chance(0.6) else "F"
        # Ages 16-80 at the start of 2019, mode in the early thirties.
        age = min(80, 16 + int(64 * rng.betavariate(2.2, 4.0)))
        dob = date(2019 - age, 1, 1) - timedelta(days=rng.randint(1, 365))
        forename = self._forename(sex)
        middle = ""
        if self.chance(0.45):
            middle = self._forename(sex)
            if middle == forename:
                middle = ""
        surname = self._surname()
        new_surname = ""
        marriage: date | None = None
        if sex == "F" and 20 <= age <= 45 and self.chance(0.2):
            new_surname = self._surname()
            if new_surname != surname:
                marriage = self.day_between(START, END)
            else:
                new_surname = ""
        home_i = self.pick(list(enumerate(self.council_weights)))
        addresses = [AddressSpell(date.min, home_i, rng.choice(self.pools[home_i]))]
        moves = self.pick([(0, 0.45), (1, 0.35), (2, 0.2)])
        for moved in sorted(self.day_between(MOVES_FROM, END) for _ in range(moves)):
            council = addresses[-1].council
            if len(self.councils) > 1 and self.chance(0.1):
                council = rng.choice([c for c in range(len(self.councils)) if c != council])
            postcode = rng.choice(self.pools[council])
            addresses.append(AddressSpell(moved, council, postcode))
        young = age < 35
        offender = self.chance((0.58 if sex == "M" else 0.30) * (1.15 if young else 0.85))
        drug = self.chance(0.45 if offender else 0.2)
        alcohol = self.chance((0.28 if offender else 0.18) * (1.2 if age >= 30 else 0.8))
        household = self.pick(
            [
                ("single adult", 0.6),
                ("couple", 0.07),
                ("single parent", 0.3 if sex == "F" else 0.04),
                ("couple with children", 0.08),
                ("other", 0.05),
            ]
        )
        return Person(
            person_id=f"P{index + 1:06d}",
            sex=sex,
            dob=dob,
            forename=forename,
            middle=middle,
            surname=surname,
            new_surname=new_surname,
            marriage_date=marriage,
            nhs_number=self._nhs_number(),
            ni_number=self._ni_number(),
            ethnicity=self.pick(_ETHNICITY_WEIGHTS),
            home_council=home_i,
            addresses=addresses,
            household=household,
            drug=drug,
            alcohol=alcohol,
            mental_health=self.chance(0.35 + 0.15 * (drug or alcohol)),
            domestic_abuse=self.chance(0.35 if sex == "F" else 0.06),
            care_leaver=self.chance(0.2 if age < 25 else 0.03),
            rough_sleeping=self.chance(0.25 if drug or alcohol else 0.08),
            offender=offender,
        )

    # -- events ----------------------------------------------------------------------------

    def _probation(self, i: int, p: Person) -> list[tuple[date, str]]:
        """Probation episodes; returns what later events hang on.

        Each item is (date, kind): a custody release, the start of a community sentence, or
        the start of a drug or alcohol requirement ("custody", "community", "requirement").
        """
        if not p.offender:
            return []
        exits: list[tuple[date, str]] = []
        episodes = self.pick([(1, 0.75), (2, 0.2), (3, 0.05)])
        sentences = sorted(
            self.day_between(START + timedelta(days=30), END) for _ in range(episodes)
        )
        crn = self._crn()
        p.crns.append(crn)
        for n, sentence in enumerate(sentences):
            if n == 0:
                year = self.rng.randint(max(p.dob.year + 14, 1995), sentence.year)
                serial = self.rng.randrange(1, 10**7)
                p.pnc_id = f"{year}/{serial:07d}{pnc_check(year, serial)}"
            elif self.chance(0.04):
                # Duplicate offender records happen in nDelius: a second CRN for the same person.
                crn = self._crn()
                p.crns.append(crn)
            # Not an event date: an offence in 2018 sentenced in 2019 is ordinary.
            offence = sentence - timedelta(days=self.rng.randint(14, 300))
            disposal = self.pick(
                [
                    ("custody", 0.3 + 0.1 * n),
                    ("suspended sentence", 0.25),
                    ("community order", 0.45),
                ]
            )
            start = self.after(sentence, 0, 10)
            release: date | None = None
            end_base = start
            if disposal == "custody":
                release = self.after(sentence, 56, 730)
                end_base = release
            termination: date | None = self.after(end_base, 180, 900)
            if release is not None and release > END:
                release = None
                termination = None
            if termination is not None and termination > END:
                termination = None
            if start > END:
                start = END
            drug_req = disposal != "custody" and p.drug and self.chance(0.4)
            alcohol_req = disposal != "custody" and p.alcohol and self.chance(0.35)
            if disposal == "custody":
                accom = self.pick(
                    [
                        ("settled", 0.4),
                        ("transient", 0.2),
                        ("rough sleeping", 0.1),
                        ("approved premises", 0.12),
                        ("unknown", 0.12),
                        ("", 0.06),
                    ]
                )
            else:
                accom = self.pick(
                    [
                        ("settled", 0.65),
                        ("transient", 0.15),
                        ("rough sleeping", 0.04),
                        ("unknown", 0.1),
                        ("", 0.06),
                    ]
                )
            offence_cat = self.pick(
                [
                    ("violence", 0.3),
                    ("theft", 0.2),
                    ("drug offences", 0.15 + 0.15 * p.drug),
                    ("criminal damage", 0.07),
                    ("public order", 0.08),
                    ("burglary", 0.08),
                    ("other", 0.12),
                ]
            )
            self.emit(
                "probation",
                i,
                start,
                {
                    "offence_category": offence_cat,
                    "offence_date": offence,
                    "sentence_date": sentence,
                    "disposal": disposal,
                    "req_drug_rehab": _yn(drug_req),
                    "req_alcohol_treatment": _yn(alcohol_req),
                    "start_date": start,
                    "termination_date": termination,
                    "release_date": release,
                    "accommodation_on_release": accom,
                },
                crn=crn,
            )
            if release is not None:
                exits.append((release, "custody"))
            else:
                exits.append((start, "community"))
            if drug_req or alcohol_req:
                exits.append((start, "requirement"))
        return exits

    def _homelessness_case(
        self, i: int, p: Person, when: date, after_custody: bool, referred_by_probation: bool
    ) -> tuple[date, bool, bool]:
        """One case; returns (application date, drug or alcohol need, domestic abuse)."""
        rng = self.rng

        def need(latent: bool) -> bool:
            # Support needs are assessed imperfectly: most true needs recorded, a few spurious.
            return self.chance(0.8) if latent else self.chance(0.03)

        sn_drug = need(p.drug)
        sn_alcohol = need(p.alcohol)
        sn_da = need(p.domestic_abuse)
        sn_rough = need(p.rough_sleeping)
        if after_custody:
            referral = self.pick([("prison", 0.6), ("probation", 0.3), ("none", 0.1)])
            accom = (
                "custody"
                if self.chance(0.7)
                else self.pick(
                    [("no fixed abode", 0.5), ("living with friends", 0.3), ("rough sleeping", 0.2)]
                )
            )
            reason = "departure from institution" if self.chance(0.75) else "other"
        else:
            referral = self.pick(
                [
                    ("none", 0.7),
                    ("prison", 0.005),
                    ("probation", 0.25 if referred_by_probation else 0.02),
                    ("hospital", 0.05),
                    ("jobcentre", 0.07),
                    ("social services", 0.08),
                    ("other", 0.05),
                ]
            )
            accom = self.pick(
                [
                    ("private rented", 0.26),
                    ("social rented", 0.1),
                    ("living with family", 0.25),
                    ("living with friends", 0.14),
                    ("no fixed abode", 0.08),
                    ("rough sleeping", 0.15 if sn_rough else 0.02),
                    ("custody", 0.005),
                    ("hospital", 0.03),
                    ("other", 0.05),
                ]
            )
            reason = self.pick(
                [
                    ("end of private tenancy", 0.26),
                    ("family or friends no longer willing", 0.27),
                    ("domestic abuse", 0.6 if sn_da else 0.02),
                    ("departure from institution", 0.03),
                    ("relationship breakdown", 0.12),
                    ("eviction from social housing", 0.06),
                    ("other", 0.14),
                ]
            )
        duty = self.pick(
            [
                ("prevention", 0.3 if accom in ("rough sleeping", "no fixed abode") else 0.47),
                ("relief", 0.38),
                ("main", 0.09),
                ("none", 0.06),
            ]
        )
        start: date | None = None
        end: date | None = None
        end_reason = ""
        if duty != "none":
            start = self.after(when, 0, 14)
            end = self.after(start, 21, 500 if duty == "main" else 250)
            if start > END:
                start, end = END, None
            elif end > END:
                end = None
            if end is not None:
                end_reason = self.pick(
                    [
                        ("secured accommodation", 0.55),
                        ("lost contact", 0.18),
                        ("refused", 0.05),
                        ("withdrew", 0.12),
                        ("other", 0.1),
                    ]
                )
        household = (
            p.household
            if self.chance(0.85)
            else rng.choice(
                ("single adult", "couple", "single parent", "couple with children", "other")
            )
        )
        self.emit(
            "homelessness",
            i,
            when,
            {
                "application_date": when,
                "duty_type": duty,
                "duty_start": start,
                "duty_end": end,
                "duty_end_reason": end_reason,
                "reason_loss": reason,
                "accommodation_at_application": accom,
                "referral_agency": referral,
                "sn_drug": _yn(sn_drug),
                "sn_alcohol": _yn(sn_alcohol),
                "sn_offending": _yn(self.chance(0.85) if p.offender else self.chance(0.02)),
                "sn_domestic_abuse": _yn(sn_da),
                "sn_mental_health": _yn(need(p.mental_health)),
                "sn_rough_sleeping": _yn(sn_rough),
                "sn_care_leaver": _yn(need(p.care_leaver)),
                "household_type": household,
            },
            council=p.address_at(when).council,
        )
        return when, sn_drug or sn_alcohol, sn_da or reason == "domestic abuse"

    def _homelessness(
        self, i: int, p: Person, exits: list[tuple[date, str]]
    ) -> list[tuple[date, bool, bool]]:
        cases: list[tuple[date, bool, bool]] = []
        for when, kind in exits:
            if kind == "custody" and self.chance(0.45):
                # Duty to refer: prisons refer up to 56 days before release.
                applied = when + timedelta(days=self.rng.randint(-56, 120))
                if START <= applied <= END:
                    cases.append(self._homelessness_case(i, p, applied, True, False))
            elif kind == "community" and self.chance(0.12):
                applied = self.after(when, 0, 365)
                if applied <= END:
                    cases.append(self._homelessness_case(i, p, applied, False, True))
        base = 0.62 + 0.08 * (p.drug or p.alcohol or p.rough_sleeping)
        if self.chance(base):
            # Repeat homelessness: a geometric number of further cases, months apart.
            when = self.day_between(START, END)
            cases.append(self._homelessness_case(i, p, when, False, False))
            repeat = 0.3 if (p.drug or p.alcohol or p.rough_sleeping) else 0.15
            while self.chance(repeat):
                when = self.after(when, 90, 900)
                if when > END:
                    break
                cases.append(self._homelessness_case(i, p, when, False, False))
        return cases

    def _treatment_episode(self, i: int, p: Person, when: date, source: str, housing: str) -> None:
        if p.drug and p.alcohol:
            substance = "alcohol and non-opiate" if self.chance(0.6) else "opiate"
        elif p.drug:
            substance = "opiate" if self.chance(0.4) else "non-opiate"
        else:
            substance = "alcohol"
        injecting = self.chance(0.45 if substance == "opiate" else 0.04)
        if substance == "opiate":
            modality = self.pick(
                [
                    ("pharmacological", 0.75),
                    ("psychosocial", 0.15),
                    ("recovery support", 0.07),
                    ("inpatient", 0.03),
                ]
            )
        else:
            modality = self.pick(
                [
                    ("pharmacological", 0.1),
                    ("psychosocial", 0.65),
                    ("recovery support", 0.2),
                    ("inpatient", 0.05),
                ]
            )
        discharge: date | None = self.after(when, 30, 540)
        reason = ""
        if discharge is not None and discharge > END:
            discharge = None
        else:
            reason = self.pick(
                [("completed", 0.47), ("dropped out", 0.36), ("transferred", 0.1), ("prison", 0.07)]
            )
        self.emit(
            "treatment",
            i,
            when,
            {
                "referral_date": when,
                "referral_source": source,
                "substance": substance,
                "injecting": _yn(injecting),
                "accommodation_need": housing,
                "modality": modality,
                "discharge_date": discharge,
                "discharge_reason": reason,
            },
        )

    def _treatment(
        self, i: int, p: Person, exits: list[tuple[date, str]], cases: list[tuple[date, bool, bool]]
    ) -> None:
        episodes: list[tuple[date, str, str]] = []
        if p.drug or p.alcohol:
            for applied, substance_need, _ in cases:
                # The hypothesis the outcome reports test: a homelessness case that records a
                # drug or alcohol need is often followed by treatment within six months.
                if substance_need and self.chance(0.4):
                    when = self.after(applied, 7, 180)
                    need = "urgent housing problem" if self.chance(0.5) else "housing problem"
                    episodes.append(
                        (
                            when,
                            self.pick(
                                [("self", 0.45), ("GP", 0.2), ("hospital", 0.1), ("other", 0.25)]
                            ),
                            need,
                        )
                    )
            for when, kind in exits:
                if kind == "requirement" and self.chance(0.7):
                    episodes.append((self.after(when, 0, 60), "probation", "no problem"))
                elif kind == "custody" and p.drug and self.chance(0.3):
                    episodes.append((self.after(when, 0, 21), "prison", "housing problem"))
            # Most people with a dependency come to treatment at some point anyway, and some
            # come back after an earlier episode.
            chance = 0.75 if not episodes else 0.15
            while self.chance(chance):
                source = self.pick(
                    [("self", 0.45), ("GP", 0.25), ("hospital", 0.1), ("other", 0.2)]
                )
                episodes.append((self.day_between(START, END), source, "no problem"))
                chance = 0.15
        for when, source, need in episodes:
            if when <= END:
                housing = need if need != "no problem" or self.chance(0.8) else "housing problem"
                self._treatment_episode(i, p, when, source, housing)

    def _victim_referral(self, i: int, p: Person, when: date, domestic: bool) -> None:
        sexual = self.chance(0.25 if domestic else 0.04)
        if domestic:
            offence = "sexual offence" if sexual and self.chance(0.5) else "violence"
            service = self.pick(
                [
                    ("IDVA/ISVA", 0.5),
                    ("advocacy", 0.2),
                    ("emotional support", 0.2),
                    ("counselling", 0.1),
                ]
            )
        else:
            offence = self.pick(
                [
                    ("violence", 0.3),
                    ("sexual offence", 0.05 + 0.5 * sexual),
                    ("theft", 0.2),
                    ("burglary", 0.12),
                    ("criminal damage", 0.1),
                    ("fraud", 0.13),
                    ("other", 0.1),
                ]
            )
            service = self.pick(
                [
                    ("emotional support", 0.4),
                    ("practical help", 0.3),
                    ("advocacy", 0.15),
                    ("counselling", 0.1),
                    ("IDVA/ISVA", 0.05 + 0.5 * sexual),
                ]
            )
        if (END - when).days < 90:
            outcome = "ongoing" if self.chance(0.7) else "unable to contact"
        else:
            outcome = self.pick(
                [
                    ("support completed", 0.5),
                    ("declined", 0.2),
                    ("unable to contact", 0.2),
                    ("ongoing", 0.1),
                ]
            )
        self.emit(
            "victims",
            i,
            when,
            {
                "referral_date": when,
                "referral_source": self.pick(
                    [
                        ("police", 0.65),
                        ("self", 0.1),
                        ("health", 0.07),
                        ("council", 0.1 + 0.2 * domestic),
                        ("other", 0.08),
                    ]
                ),
                "offence_category": offence,
                "domestic_abuse": _yn(domestic),
                "sexual_abuse": _yn(sexual),
                "consent": _yn(self.chance(0.85)),
                "safe_contact": _yn(self.chance(0.6 if domestic else 0.05)),
                "service_type": service,
                "outcome": outcome,
            },
        )

    def _victims(self, i: int, p: Person, cases: list[tuple[date, bool, bool]]) -> None:
        linked = False
        for applied, _, domestic in cases:
            if domestic and self.chance(0.5):
                when = applied + timedelta(days=self.rng.randint(-90, 60))
                if START <= when <= END:
                    self._victim_referral(i, p, when, True)
                    linked = True
        chance = 0.35 if p.domestic_abuse else 0.16
        if linked:
            chance = 0.1
        # Repeat victimisation is common: each referral makes another more likely.
        while self.chance(chance):
            domestic = p.domestic_abuse and self.chance(0.6)
            self._victim_referral(i, p, self.day_between(START, END), domestic)
            chance = 0.12

    # -- driver ----------------------------------------------------------------------------

    def build(self, count: int, progress: Callable[[int, int], None] | None) -> Population:
        for i in range(count):
            p = self._person(i)
            self.persons.append(p)
            exits = self._probation(i, p)
            cases = self._homelessness(i, p, exits)
            self._treatment(i, p, exits, cases)
            self._victims(i, p, cases)
            if progress is not None and ((i + 1) % 1000 == 0 or i + 1 == count):
                progress(i + 1, count)
        self._deaths()
        return Population(self.councils, self.persons, self.events)

    def _deaths(self) -> None:
        """A few treatment episodes end in death, but only ones after which nothing happens."""
        last: dict[int, Event] = {}
        for e in self.events:
            when = e.when
            if e.dataset == "treatment" and isinstance(e.attrs["discharge_date"], date):
                when = e.attrs["discharge_date"]
            current = last.get(e.person)
            if current is None or when >= _last_date(current):
                last[e.person] = e
        for e in last.values():
            if e.dataset == "treatment" and e.attrs["discharge_reason"] and self.chance(0.04):
                e.attrs["discharge_reason"] = "died"


def _last_date(e: Event) -> date:
    discharge = e.attrs.get("discharge_date")
    return discharge if e.dataset == "treatment" and isinstance(discharge, date) else e.when
