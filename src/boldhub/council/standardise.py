"""Standardise identifier values the way every party must, so that encodings compare.

Each function takes one raw cell and returns ``(value, problem)``: the standard form (or
None) and, when the raw value was present but unusable, a plain-English reason that
names the field but never repeats the value (reasons end up in reports and logs).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

from stdnum.gb import nhs

Result = tuple[str | None, str | None]

_TITLES = frozenset(
    {"MR", "MRS", "MS", "MISS", "MX", "DR", "PROF", "REV", "SIR", "DAME", "LADY", "LORD"}
)
_NAME_DROP = re.compile(r"[^A-Z '\-]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=200_000)
def name(raw: str) -> Result:
    """Upper case, diacritics folded, titles dropped, apostrophes and hyphens kept."""
    text = raw.strip()
    if not text:
        return None, None
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).upper()
    folded = folded.replace("\u2019", "'").replace("\u2018", "'").replace(".", " ")
    folded = _SPACES.sub(" ", _NAME_DROP.sub("", folded)).strip(" -'")
    parts = [p for p in folded.split(" ") if p and p not in _TITLES]
    value = " ".join(parts)
    if not any("A" <= ch <= "Z" for ch in value):
        return None, "has no letters"
    return value, None


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d", "%d/%m/%y")


@lru_cache(maxsize=200_000)
def parse_date(raw: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    if " " in text or "T" in text:  # exports often carry a midnight time
        text = re.split(r"[ T]", text, maxsplit=1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def dob(raw: str, today: date) -> Result:
    """ISO date of birth; impossible, future and pre-1900 dates are problems."""
    if not raw.strip():
        return None, None
    try:
        value = parse_date(raw)
    except ValueError:
        return None, "is not a date in a recognised format (use DD/MM/YYYY or YYYY-MM-DD)"
    assert value is not None
    if value > today:
        return None, "is in the future"
    if value.year < 1900:
        return None, "is before 1900"
    return value.isoformat(), None


_SEX = {
    "M": "M", "MALE": "M", "1": "M", "MAN": "M",
    "F": "F", "FEMALE": "F", "2": "F", "WOMAN": "F",
    "U": "U", "UNKNOWN": "U", "9": "U", "0": "U", "X": "U", "NOT KNOWN": "U", "": "U",
}  # fmt: skip


def sex(raw: str) -> Result:
    value = _SEX.get(raw.strip().upper())
    if value is None:
        return "U", "is not a recognised sex code (use M, F, Male, Female, 1, 2 or U)"
    return value, None


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")


@lru_cache(maxsize=200_000)
def postcode(raw: str) -> Result:
    compact = re.sub(r"[^A-Z0-9]", "", raw.upper())
    if not compact:
        return None, None
    m = _POSTCODE.match(compact)
    if not m:
        return None, "is not a valid UK postcode"
    return f"{m.group(1)} {m.group(2)}", None


def nhs_number(raw: str) -> Result:
    compact = re.sub(r"[\s\-]", "", raw)
    if not compact:
        return None, None
    if not nhs.is_valid(compact):
        return None, "is not a valid NHS number (wrong length or check digit)"
    return compact, None


_NI = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")


def ni_number(raw: str) -> Result:
    compact = re.sub(r"\s", "", raw.upper())
    if not compact:
        return None, None
    if not _NI.match(compact):
        return None, "is not a valid National Insurance number"
    return compact, None


def justice_id(raw: str) -> Result:
    compact = re.sub(r"\s", "", raw.upper())
    return (compact or None), None


def age_band(birth: str | None, at: str | None) -> str:
    """Age band at an event: an attribute, so the hub never needs the date of birth."""
    if not birth or not at:
        return "unknown"
    b, e = date.fromisoformat(birth), date.fromisoformat(at)
    age = e.year - b.year - ((e.month, e.day) < (b.month, b.day))
    for low, band in (
        (65, "65+"),
        (55, "55-64"),
        (45, "45-54"),
        (35, "35-44"),
        (25, "25-34"),
        (18, "18-24"),
    ):
        if age >= low:
            return band
    return "16-17" if age >= 16 else "under 16"
