"""Standardise identifier values the way every party must, so that encodings compare.

Each function takes one raw cell and returns ``(value, problem)``: the standard form (or
None) and, when the raw value was present but unusable, a plain-English reason that
names no value (reasons end up in reports and logs; the caller adds the field's name).

These are scalar functions on purpose: :mod:`boldhub.council.prepare` calls them once per
*distinct* value of a column, not once per row, because names, dates and postcodes repeat.
That keeps them simple to read and test while a million-row export stays fast.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

from stdnum.gb import nhs

from boldhub import clock
from boldhub.errors import DateError

Result = tuple[str | None, str | None]
DateOrder = Literal["dmy", "mdy"]

# -- names --------------------------------------------------------------------------------

_TITLES = frozenset(
    {"MR", "MRS", "MS", "MISS", "MX", "DR", "PROF", "REV", "SIR", "DAME", "LADY", "LORD", "MASTER"}
)
# Generational suffixes sit after a surname and are not part of it.
_SUFFIXES = frozenset({"JR", "JNR", "SR", "SNR", "II", "III", "IV"})
_NAME_DROP = re.compile(r"[^A-Z '\-]")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]")
_AROUND_JOINERS = re.compile(r" ?([-']) ?")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", ".": " "})
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))
# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {"\u00df": "SS", "\u1e9e": "SS", "\u00c6": "AE", "\u0152": "OE", "\u00d8": "O",
     "\u0141": "L", "\u0110": "D", "\u00d0": "D", "\u00de": "TH", "\u0131": "I"}
)  # fmt: skip


@lru_cache(maxsize=200_000)
def name(raw: str) -> Result:
    """Upper case, diacritics folded, titles and suffixes dropped, apostrophes and hyphens kept.

    ``Nic an tSaoi`` stays three words (``NIC AN TSAOI``) and ``O ' Neill`` becomes
    ``O'NEILL``: the spaces a typist puts around a hyphen or apostrophe are not part of
    the name. A double-barrelled surname without a hyphen keeps its space.
    """
    text = raw.strip()
    if not text:
        return None, None
    folded = unicodedata.normalize("NFKD", text.translate(_QUOTES).translate(_DASHES))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).upper()
    folded = folded.translate(_UNDECOMPOSED)
    # Punctuation separates words ("SMITH,JOHN"); a stray digit is a keying slip inside one.
    folded = _SPACES.sub(" ", _NAME_DROP.sub(" ", _DIGITS.sub("", folded))).strip()
    folded = _AROUND_JOINERS.sub(r"\1", folded).strip(" -'")
    parts = [p for p in folded.split(" ") if p.strip("-'")]
    # A title only counts at the front, and never when it is the whole name ("Sir" can be
    # a surname); a suffix only at the end.
    while len(parts) > 1 and parts[0] in _TITLES:
        parts.pop(0)
    while len(parts) > 1 and parts[-1] in _SUFFIXES:
        parts.pop()
    value = " ".join(parts)
    if not any("A" <= ch <= "Z" for ch in value):
        return None, "has no letters"
    return value, None


# -- dates --------------------------------------------------------------------------------

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        (
            ("JAN", "JANUARY"),
            ("FEB", "FEBRUARY"),
            ("MAR", "MARCH"),
            ("APR", "APRIL"),
            ("MAY",),
            ("JUN", "JUNE"),
            ("JUL", "JULY"),
            ("AUG", "AUGUST"),
            ("SEP", "SEPT", "SEPTEMBER"),
            ("OCT", "OCTOBER"),
            ("NOV", "NOVEMBER"),
            ("DEC", "DECEMBER"),
        )
    )
    for m in names
}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4}|\d{2})(?:[T ].*)?$")
_MONTH_NAME = re.compile(r"^(\d{1,2})[ \-/]?([A-Za-z]{3,9})\.?[ \-/,]*(\d{4}|\d{2})(?: .*)?$")
# Excel counts days from 30 December 1899 (its 1900 leap-year bug is folded into that
# epoch). Only five-digit serials are taken: four digits would read a bare year ("1985")
# as a date in 1905, and five digits cover 1927 to 2173.
_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def _make(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(impossible=True) from None


def _full_year(two_digits: int, today: date) -> int:
    # A two-digit year is this century unless that would be in the future.
    year = 2000 + two_digits
    return year if year <= today.year else year - 100


@lru_cache(maxsize=200_000)
def parse_date(raw: str, order: DateOrder = "dmy", today: date | None = None) -> date | None:
    """A date from any of the forms exports use; raises :class:`DateError` otherwise.

    ISO (``1985-02-14``, with or without a time), ``19850214``, day/month/year with ``/``,
    ``-``, ``.`` or a space (month/day/year when ``order`` is ``"mdy"``), month names
    (``14 Feb 1985``, ``14-FEB-85``) and five-digit Excel serials (``31092``).
    """
    text = raw.strip()
    if not text:
        return None
    today = today or clock.today()
    if m := _ISO.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.match(text):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        year = _full_year(y, today) if len(m[3]) == 2 else y
        day, month = (a, b) if order == "dmy" else (b, a)
        return _make(year, month, day)
    if m := _MONTH_NAME.match(text):
        named = _MONTHS.get(m[2].upper())
        if named is None:
            raise DateError(impossible=False)
        year = _full_year(int(m[3]), today) if len(m[3]) == 2 else int(m[3])
        return _make(year, named, int(m[1]))
    if m := _SERIAL.match(text):
        return _EXCEL_EPOCH + timedelta(days=int(m[1]))
    raise DateError(impossible=False)


def date_problem(exc: DateError) -> str:
    if exc.impossible:
        return "is not a real calendar date"
    return "is not a date in a recognised format (use DD/MM/YYYY or YYYY-MM-DD)"


def dob(raw: str, today: date, order: DateOrder = "dmy") -> Result:
    """ISO date of birth; impossible, future and pre-1900 dates are problems."""
    if not raw.strip():
        return None, None
    try:
        value = parse_date(raw, order, today)
    except DateError as exc:
        return None, date_problem(exc)
    assert value is not None
    if value > today:
        return None, "is in the future"
    if value.year < 1900:
        return None, "is before 1900"
    return value.isoformat(), None


@dataclass(frozen=True)
class DateOrderEvidence:
    """What a column's values say about day/month order.

    ``dmy_only``: values that are only a date read day first (``25/12/1980``);
    ``mdy_only``: only month first (``12/25/1980``); ``ambiguous``: both parts 12 or less
    and different (``03/04/1980``), so the reading depends on the order chosen.
    """

    dmy_only: int = 0
    mdy_only: int = 0
    ambiguous: int = 0

    def __add__(self, other: DateOrderEvidence) -> DateOrderEvidence:
        return DateOrderEvidence(
            self.dmy_only + other.dmy_only,
            self.mdy_only + other.mdy_only,
            self.ambiguous + other.ambiguous,
        )

    def order(self) -> DateOrder:
        """Month first only when every value that settles it says so: UK exports are DMY."""
        return "mdy" if self.mdy_only > 0 and self.dmy_only == 0 else "dmy"


def date_order_evidence(values: Iterable[tuple[str, int]]) -> DateOrderEvidence:
    """Evidence from ``(distinct value, how many rows hold it)`` pairs."""
    dmy = mdy = amb = 0
    for value, count in values:
        m = _NUMERIC.match(value.strip())
        if not m:
            continue
        a, b = int(m[1]), int(m[2])
        if a > 12 and 1 <= b <= 12:
            dmy += count
        elif b > 12 and 1 <= a <= 12:
            mdy += count
        elif a != b and 1 <= a <= 12 and 1 <= b <= 12:
            amb += count
    return DateOrderEvidence(dmy, mdy, amb)


# -- other identifiers ----------------------------------------------------------------------

_SEX = {
    "M": "M", "MALE": "M", "1": "M", "MAN": "M", "BOY": "M",
    "F": "F", "FEMALE": "F", "2": "F", "WOMAN": "F", "GIRL": "F",
    "U": "U", "UNKNOWN": "U", "9": "U", "0": "U", "X": "U", "NOT KNOWN": "U", "": "U",
    "NOT STATED": "U", "NOT SPECIFIED": "U", "N/K": "U", "NK": "U", "I": "U",
    "INDETERMINATE": "U", "PREFER NOT TO SAY": "U", "OTHER": "U",
}  # fmt: skip


def sex(raw: str) -> Result:
    value = _SEX.get(_SPACES.sub(" ", raw.strip().upper()))
    if value is None:
        return "U", "is not a recognised sex code (use M, F, Male, Female, 1, 2 or U)"
    return value, None


# Outward code: area (a first letter other than Q, V or X, a second other than I, J or Z;
# the Isle of Man's IM is the exception), district (digit, then digit or letter); inward
# code: digit and two letters without C, I, K, M, O or V. GIR 0AA is Girobank's old code.
_POSTCODE = re.compile(r"^((?:[A-PR-UWYZ][A-HK-Y]?|IM)[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")


@lru_cache(maxsize=65_536)
def postcode(raw: str) -> Result:
    """``AB1 2CD`` form: upper case, one space before the inward code."""
    compact = re.sub(r"[^A-Z0-9]", "", raw.upper())
    if not compact:
        return None, None
    if compact == "GIR0AA":
        return "GIR 0AA", None
    m = _POSTCODE.match(compact)
    if not m:
        return None, "is not a valid UK postcode"
    return f"{m.group(1)} {m.group(2)}", None


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)


def nhs_number(raw: str) -> Result:
    """Ten digits with a valid modulus-11 check digit (python-stdnum)."""
    compact = re.sub(r"[\s\-]", "", raw)
    if not compact:
        return None, None
    if _SCIENTIFIC.match(compact):
        # Excel shows a ten-digit number as 9.43E+09 and saves it that way: digits are lost.
        return None, (
            "was saved in scientific notation (like 9.43E+09), losing digits; "
            "format the column as text and export again"
        )
    if compact.endswith(".0") and compact[:-2].isdigit():  # a number cell written as 1.0
        compact = compact[:-2]
    if not nhs.is_valid(compact):
        return None, "is not a valid NHS number (wrong length or check digit)"
    return compact, None


# Prefix rules (HMRC): first letter not D, F, I, Q, U or V; second letter not D, F, I, O,
# Q, U or V; BG, GB, KN, NK, NT, TN and ZZ are never issued; suffix A to D.
_NI = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")


def ni_number(raw: str) -> Result:
    compact = re.sub(r"[\s\-]", "", raw.upper())
    if not compact:
        return None, None
    if not _NI.match(compact):
        return None, "is not a valid National Insurance number"
    return compact, None


def justice_id(raw: str) -> Result:
    compact = re.sub(r"\s", "", raw.upper())
    return (compact or None), None


def uprn(raw: str) -> Result:
    """Unique Property Reference Number: 1 to 12 digits, no leading zero."""
    compact = re.sub(r"\s", "", raw)
    if compact.endswith(".0"):  # a number cell written by a spreadsheet
        compact = compact[:-2]
    if not compact:
        return None, None
    if not compact.isdigit() or len(compact) > 12 or compact.startswith("0"):
        return None, "is not a valid UPRN (1 to 12 digits)"
    return compact, None


def age_band(birth: str | None, at: str | None) -> str:
    """Age band at an event: an attribute, so the hub never needs the date of birth."""
    if not birth or not at:
        return "unknown"
    b, e = date.fromisoformat(birth), date.fromisoformat(at)
    age = e.year - b.year - ((e.month, e.day) < (b.month, b.day))
    return band_for_age(age)


AGE_BANDS: tuple[tuple[int, str], ...] = (
    (65, "65+"),
    (55, "55-64"),
    (45, "45-54"),
    (35, "35-44"),
    (25, "25-34"),
    (18, "18-24"),
    (16, "16-17"),
)


def band_for_age(age: int) -> str:
    for low, band in AGE_BANDS:
        if age >= low:
            return band
    return "under 16"
