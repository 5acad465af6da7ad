"""The error model: how each body records a person's identifiers on one record.

Errors are drawn independently for every record, so two records of the same person rarely
agree on every field: that is what makes linkage probabilistic rather than a join. Rates are
per record and roughly follow what linkage studies of administrative data report:

* forename typo 6%, surname typo 6%: one substitution, deletion, insertion or transposition;
* nickname on about 8% of records (``Robert`` -> ``Bob``), from the ``nicknames`` package:
  13% of the records of people whose forename has one;
* married surname: after the marriage date 90% of records use the new surname and some put
  the old one in OtherNames; 10% of bodies never heard of the change;
* date of birth: day and month swapped 2% (only where the day is 12 or less), one digit
  wrong 1%, missing 1%;
* postcode: missing 5%, the previous address 3% (records lag behind house moves), spacing
  and case variation;
* forename missing 1%, sex missing 0.5%; NHS number missing 50% and NI number missing 60%
  in homelessness exports (the only ones that carry them); PNC id missing 8% in probation;
* case and whitespace: 4% upper case, 3% lower case, 2% title-cased by a system (which
  turns ``McDonald`` into ``Mcdonald``), 2% stray spaces; 20% of names with an apostrophe
  or hyphen lose it (``ONeill``, ``Smith Jones``);
* middle names reach OtherNames on 35% of records of people who have one.

These are the ``default`` profile's rates. ``PROFILES`` names the others (``boldhub synth
--profile``): ``clean`` (no recording error at all, only the coverage gaps of each body),
and ``hard``, which adds the errors real homelessness and custody records show and the
default leaves out: dates of birth estimated or defaulted, no fixed abode, partial
postcodes, names reversed or reduced to initials, double-barrelled and hyphenated
surnames, scanned forms (docs/synth.md gives each rate and where it comes from).

NDTMS exports initials only; they are taken from the recorded (possibly nicknamed or
mistyped) forename and surname, so an initial can be wrong when a typo hits the first letter
or a nickname starts with another letter.
"""

from __future__ import annotations

import random
from datetime import date

from nicknames import NickNamer

from boldhub.schemas.datasets import ETHNICITY
from boldhub.synth.truth import END, Person

_LOWER = "abcdefghijklmnopqrstuvwxyz"

DEFAULT: dict[str, float] = {
    "forename_typo": 0.06,
    "surname_typo": 0.06,
    # Applied to names that have a nickname (about 60% of records), ~8% of all records.
    "nickname": 0.13,
    "married_name_used": 0.9,
    "previous_surname_in_other_names": 0.3,
    "dob_swap": 0.02,
    "dob_digit": 0.01,
    "dob_missing": 0.01,
    "postcode_missing": 0.05,
    "postcode_stale": 0.03,
    "forename_missing": 0.01,
    "sex_missing": 0.005,
    "nhs_missing": 0.5,
    "ni_missing": 0.6,
    "pnc_missing": 0.08,
    "middle_recorded": 0.35,
    # Errors only the hard profile makes (0 here: the default draws nothing for them, so
    # its files stay byte-identical to those before profiles existed).
    "dob_year_off": 0.0,
    "dob_defaulted": 0.0,
    "postcode_partial": 0.0,
    "forename_initial": 0.0,
    "names_swapped": 0.0,
    "surname_hyphenated": 0.0,
    "surname_split": 0.0,
    "ocr": 0.0,
}

# Each profile names every rate (so a misspelt rate is an error, not a silent zero).
PROFILES: dict[str, dict[str, float]] = {
    "default": DEFAULT,
    "clean": {
        **dict.fromkeys(DEFAULT, 0.0),
        # Coverage, not error: what each body records at all.
        "nhs_missing": DEFAULT["nhs_missing"],
        "ni_missing": DEFAULT["ni_missing"],
        "pnc_missing": DEFAULT["pnc_missing"],
        "middle_recorded": DEFAULT["middle_recorded"],
        "married_name_used": 1.0,
        "previous_surname_in_other_names": DEFAULT["previous_surname_in_other_names"],
    },
    "hard": {
        **DEFAULT,
        "forename_typo": 0.08,
        "surname_typo": 0.08,
        "dob_swap": 0.03,
        "dob_digit": 0.02,
        "dob_missing": 0.06,
        "dob_year_off": 0.02,
        "dob_defaulted": 0.03,
        "postcode_missing": 0.15,
        "postcode_stale": 0.08,
        "postcode_partial": 0.03,
        "forename_missing": 0.02,
        "forename_initial": 0.03,
        "names_swapped": 0.01,
        "surname_hyphenated": 0.15,
        "surname_split": 0.3,
        "ocr": 0.02,
    },
}


def typo(name: str, rng: random.Random) -> str:
    """One keying error: substitution, deletion, insertion or transposition."""
    if len(name) < 2:
        return name
    for _ in range(10):
        i = rng.randrange(len(name))
        kind = rng.randrange(4)
        if kind == 0:
            letter = rng.choice(_LOWER)
            if name[i].isupper():
                letter = letter.upper()
            out = name[:i] + letter + name[i + 1 :]
        elif kind == 1 and len(name) >= 3:
            out = name[:i] + name[i + 1 :]
        elif kind == 2:
            letter = rng.choice(_LOWER)
            out = name[:i] + (letter.upper() if i == 0 else letter) + name[i:]
        elif i < len(name) - 1:
            a, b = name[i], name[i + 1]
            if i == 0:
                a, b = a.lower(), b.upper()
            out = name[:i] + b + a + name[i + 2 :]
        else:
            continue
        if out != name and out.strip():
            return out
    return name


# Characters a scanned form's OCR confuses (both ways).
_OCR = (("O", "0"), ("I", "1"), ("l", "1"), ("S", "5"), ("B", "8"), ("m", "rn"), ("d", "cl"))


def ocr(name: str, rng: random.Random) -> str:
    """One OCR confusion, where the name has a character it applies to."""
    options = [(a, b) for a, b in _OCR if a in name] + [(b, a) for a, b in _OCR if b in name]
    if not options:
        return name
    a, b = rng.choice(options)
    i = rng.choice([k for k in range(len(name)) if name.startswith(a, k)])
    return name[:i] + b + name[i + len(a) :]


class Recorder:
    """Draws the recorded identifiers of one record at a time, from its own seeded stream."""

    def __init__(self, seed: int, profile: str = "default") -> None:
        self.rng = random.Random(f"boldhub-synth-recording-{seed}")
        self.rates = PROFILES[profile]
        self._namer = NickNamer()
        self._nicknames: dict[str, tuple[str, ...]] = {}

    def chance(self, rate: str) -> bool:
        p = self.rates[rate]
        # A rate of 0 draws nothing: a profile's new errors leave the others' streams as
        # they were.
        return p > 0 and self.rng.random() < p

    def nicknames(self, forename: str) -> tuple[str, ...]:
        key = forename.lower()
        found = self._nicknames.get(key)
        if found is None:
            # A set from the package: sort it, or the choice would vary between runs.
            names = sorted(n for n in self._namer.nicknames_of(key) if n != key and n.isalpha())
            found = tuple(n.title() for n in names)
            self._nicknames[key] = found
        return found

    def styled(self, name: str) -> str:
        """Case, whitespace and punctuation as different systems and typists leave them."""
        rng = self.rng
        if ("'" in name or "-" in name) and rng.random() < 0.2:
            name = name.replace("'", "").replace("-", " ")
        r = rng.random()
        if r < 0.04:
            return name.upper()
        if r < 0.07:
            return name.lower()
        if r < 0.09:
            return name.title()
        if r < 0.11:
            return rng.choice((" ", "", "  ")) + name + rng.choice((" ", ""))
        return name

    def forename(self, person: Person) -> str:
        """The recorded forename, unstyled; "" if missing."""
        name = person.forename
        options = self.nicknames(name)
        if options and self.chance("nickname"):
            name = self.rng.choice(options)
        if self.chance("forename_typo"):
            name = typo(name, self.rng)
        if self.chance("ocr"):
            name = ocr(name, self.rng)
        if self.chance("forename_initial"):
            name = name[:1]
        return name

    def surnames(self, person: Person, when: date) -> tuple[str, str]:
        """(recorded surname, previous surname worth putting in OtherNames or "")."""
        current = person.surname_at(when)
        previous = ""
        if current != person.surname:
            if self.chance("married_name_used"):
                if self.chance("previous_surname_in_other_names"):
                    previous = person.surname
            else:
                current = person.surname
        if previous == "" and current != person.surname and self.chance("surname_hyphenated"):
            # Both surnames, hyphenated, in either order.
            pair = [person.surname, current]
            current = "-".join(pair if self.rng.random() < 0.5 else pair[::-1])
        if ("-" in current or " " in current) and self.chance("surname_split"):
            # One part of a double-barrelled surname (the systems that keep one).
            current = self.rng.choice([p for p in current.replace("-", " ").split() if p])
        if self.chance("surname_typo"):
            current = typo(current, self.rng)
        if self.chance("ocr"):
            current = ocr(current, self.rng)
        return current, previous

    def swapped(self) -> bool:
        """Whether this record has forename and surname the wrong way round."""
        return self.chance("names_swapped")

    def dob(self, person: Person) -> date | None:
        rng = self.rng
        if self.chance("dob_missing"):
            return None
        dob = person.dob
        if self.chance("dob_defaulted"):
            # An estimated date: 1 January of the year, or the 1st of the month.
            return date(dob.year, 1, 1) if rng.random() < 0.6 else date(dob.year, dob.month, 1)
        if self.chance("dob_year_off"):
            shift = rng.choice((-10, -1, 1, 10) if rng.random() < 0.3 else (-1, 1))
            try:
                moved = dob.replace(year=dob.year + shift)
            except ValueError:  # 29 February
                moved = dob.replace(year=dob.year + shift, day=28)
            if moved <= END:
                return moved
        if dob.day <= 12 and dob.day != dob.month and self.chance("dob_swap"):
            return date(dob.year, dob.day, dob.month)
        if self.chance("dob_digit"):
            for _ in range(20):
                text = list(f"{dob.year:04d}{dob.month:02d}{dob.day:02d}")
                # Any digit but the century: a wrong century is caught by validation.
                pos = rng.randrange(2, 8)
                text[pos] = rng.choice([d for d in "0123456789" if d != text[pos]])
                s = "".join(text)
                try:
                    wrong = date(int(s[:4]), int(s[4:6]), int(s[6:]))
                except ValueError:
                    continue
                if wrong <= END:
                    return wrong
        return dob

    def postcode(self, person: Person, when: date) -> str:
        rng = self.rng
        if self.chance("postcode_missing"):
            return ""
        spell = person.address_at(when)
        if self.chance("postcode_stale"):
            spell = person.previous_address(when) or spell
        pc = spell.postcode
        if self.chance("postcode_partial"):
            return pc.split(" ")[0]  # the outward code only
        r = rng.random()
        if r < 0.08:
            return pc.replace(" ", "")
        if r < 0.13:
            return pc.lower()
        return pc

    def sex(self, person: Person) -> str | None:
        return None if self.chance("sex_missing") else person.sex

    def other_names(self, person: Person, previous_surname: str) -> str:
        parts: list[str] = []
        if person.middle and self.chance("middle_recorded"):
            parts.append(person.middle)
        if previous_surname:
            parts.append(previous_surname)
        return " ".join(parts)

    def nhs_number(self, person: Person) -> str:
        if self.chance("nhs_missing"):
            return ""
        n = person.nhs_number
        # Both layouts occur in council systems: "943 476 5919" and "9434765919".
        return f"{n[:3]} {n[3:6]} {n[6:]}" if self.rng.random() < 0.3 else n

    def ni_number(self, person: Person) -> str:
        if self.chance("ni_missing"):
            return ""
        n = person.ni_number
        return f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:8]} {n[8]}" if self.rng.random() < 0.5 else n

    def pnc_id(self, person: Person) -> str:
        return "" if self.chance("pnc_missing") else person.pnc_id

    def ethnicity(self, person: Person) -> str:
        return ETHNICITY[-1] if self.rng.random() < 0.03 else person.ethnicity
