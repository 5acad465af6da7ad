"""Identifier numbers: NHS and NI numbers, probation case references (CRN) and PNC ids.

Each is valid in its own scheme (check digits, issued prefixes) and NHS numbers, NI numbers
and CRNs are unique within a population, as the real registers make them.
"""

from __future__ import annotations

import random

from stdnum.gb import nhs

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# PNC check characters, indexed by (two-digit year followed by the serial) mod 23.
_PNC_CHECK = "ZABCDEFGHJKLMNPQRTUVWXY"
# NI number prefixes: neither letter D, F, I, Q, U or V, second letter not O, and a few
# pairs never issued.
_NI_FIRST = "".join(c for c in _UPPER if c not in "DFIQUV")
_NI_SECOND = "".join(c for c in _UPPER if c not in "DFIQUVO")
_CRN_LETTERS = _UPPER.replace("P", "")
_NI_BAD_PREFIXES = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")


def nhs_check_digit(nine: str) -> int:
    """Modulus 11 check digit of nine digits; 10 means the nine digits cannot be used."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine))
    check = 11 - total % 11
    return 0 if check == 11 else check


def pnc_check(year: int, serial: int) -> str:
    return _PNC_CHECK[int(f"{year % 100:02d}{serial:07d}") % 23]


def pnc_id(rng: random.Random, born: int, sentenced: int) -> str:
    """A PNC id first issued between age 14 (not before 1995) and the year of sentence."""
    year = rng.randint(max(born + 14, 1995), sentenced)
    serial = rng.randrange(1, 10**7)
    return f"{year}/{serial:07d}{pnc_check(year, serial)}"


class Numbers:
    """Issues NHS numbers, NI numbers and CRNs from ``rng``, never the same one twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._nhs_seen: set[str] = set()
        self._ni_seen: set[str] = set()
        self._crn_seen: set[str] = set()

    def nhs_number(self) -> str:
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

    def ni_number(self) -> str:
        while True:
            prefix = self.rng.choice(_NI_FIRST) + self.rng.choice(_NI_SECOND)
            if prefix in _NI_BAD_PREFIXES:
                continue
            number = f"{prefix}{self.rng.randrange(10**6):06d}{self.rng.choice('ABCD')}"
            if number not in self._ni_seen:
                self._ni_seen.add(number)
                return number

    def crn(self) -> str:
        while True:
            # Any letter but P, so that no CRN can look like a synthetic person id.
            crn = f"{self.rng.choice(_CRN_LETTERS)}{self.rng.randrange(10**6):06d}"
            if crn not in self._crn_seen:
                self._crn_seen.add(crn)
                return crn
