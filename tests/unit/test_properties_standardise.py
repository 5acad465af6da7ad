"""Properties of the standardisers: a standard form is a fixed point, whatever went in.

Two parties must meet on the same form, and a value standardised twice (a prepared export
prepared again, a council page that re-reads what it wrote) must not drift: so for every
standardiser ``f``, ``f(f(x)) == f(x)``, the second pass finds no problem, and no input
raises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from boldhub.council import standardise as s

TODAY = date(2026, 4, 1)
SETTINGS = settings(max_examples=300, deadline=None)

# Text as exports hold it: letters with and without accents, titles, joiners, digits,
# punctuation, odd spaces, and now and then anything at all.
_NAME_PIECES = st.sampled_from(
    ["Mr", "MRS", "dr", "Jr", "III", "O'", "Mc", "-", " - ", "'", "\u2019", ".", ",", "  ",
     "Seán", "Zoë", "ß", "Æ", "Ø", "Łukasz", "nic an", "tSaoi", "smith", "JONES", "1", "x",
     "\u00a0", "\t", "`", "\u2013", "ﬁ", "Ǆ", "İ", "ı"]
)  # fmt: skip
names = st.one_of(st.lists(_NAME_PIECES, max_size=8).map("".join), st.text(max_size=30))

_DATE_SEPARATORS = st.sampled_from(["/", "-", ".", " "])


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    when = draw(st.dates(date(1890, 1, 1), date(2030, 12, 31)))
    form = draw(st.sampled_from(["iso", "dmy", "compact", "month", "serial", "two-digit"]))
    sep = draw(_DATE_SEPARATORS)
    if form == "iso":
        return when.isoformat()
    if form == "dmy":
        return f"{when.day:02d}{sep}{when.month:02d}{sep}{when.year}"
    if form == "compact":
        return when.strftime("%Y%m%d")
    if form == "month":
        return when.strftime("%d %b %Y")
    if form == "serial":
        return str((when - date(1899, 12, 30)).days)
    return f"{when.day}{sep}{when.month}{sep}{when.year % 100:02d}"


dates = st.one_of(date_texts(), st.text(max_size=14))
postcodes = st.one_of(
    st.from_regex(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}", fullmatch=True),
    st.sampled_from(["gir 0aa", "SW1A1AA", " sw1a 1aa ", "IM1 1AA", "QQ1 1AA"]),
    st.text(max_size=10),
)
numbers = st.one_of(
    st.from_regex(r"[0-9 \-]{8,13}", fullmatch=True),
    st.from_regex(r"[0-9]{10}(\.0)?", fullmatch=True),
    st.sampled_from(["943 476 5919", "9434765919", "9.43E+09", "4010232137"]),
    st.text(max_size=14),
)
ni_numbers = st.one_of(
    st.from_regex(r"[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]", fullmatch=True),
    st.text(max_size=12),
)


def assert_fixed_point(f: Callable[[str], s.Result], raw: str) -> None:
    value, _problem = f(raw)
    if value is None:
        return
    again, problem = f(value)
    assert again == value, (raw, value, again)
    assert problem is None, (raw, value, problem)


@SETTINGS
@given(names)
def test_names_are_a_fixed_point(raw: str) -> None:
    assert_fixed_point(s.name, raw)
    value, problem = s.name(raw)
    if value is not None:
        assert value == value.strip() and "  " not in value
        assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ '-")
    else:
        assert problem is None or problem == "has no letters"


@SETTINGS
@given(dates, st.sampled_from(["dmy", "mdy"]))
def test_dates_of_birth_are_a_fixed_point(raw: str, order: s.DateOrder) -> None:
    assert_fixed_point(lambda text: s.dob(text, TODAY, order), raw)


@SETTINGS
@given(st.dates(date(1900, 1, 1), TODAY))
def test_every_real_date_of_birth_reads_back_in_every_form(when: date) -> None:
    for text in (
        when.isoformat(),
        f"{when.day:02d}/{when.month:02d}/{when.year}",
        when.strftime("%d %b %Y"),
        when.strftime("%Y%m%d"),
    ):
        assert s.dob(text, TODAY) == (when.isoformat(), None), text
    serial = (when - date(1899, 12, 30)).days
    if serial >= 10_000:
        assert s.dob(str(serial), TODAY) == (when.isoformat(), None)


@SETTINGS
@given(st.dates(TODAY + timedelta(days=1), date(2100, 1, 1)))
def test_a_future_date_of_birth_is_refused_not_moved(when: date) -> None:
    assert s.dob(when.isoformat(), TODAY) == (None, "is in the future")


@SETTINGS
@given(postcodes)
def test_postcodes_are_a_fixed_point(raw: str) -> None:
    assert_fixed_point(s.postcode, raw)
    value, _ = s.postcode(raw)
    if value is not None:
        outward, inward = value.split(" ")
        assert len(inward) == 3 and 2 <= len(outward) <= 4


@SETTINGS
@given(numbers)
def test_nhs_numbers_are_a_fixed_point(raw: str) -> None:
    assert_fixed_point(s.nhs_number, raw)
    value, _ = s.nhs_number(raw)
    assert value is None or (len(value) == 10 and value.isdigit())


@SETTINGS
@given(ni_numbers)
def test_ni_numbers_are_a_fixed_point(raw: str) -> None:
    assert_fixed_point(s.ni_number, raw)


@SETTINGS
@given(st.one_of(numbers, st.text(max_size=6)))
def test_uprns_sexes_and_justice_ids_are_fixed_points(raw: str) -> None:
    for f in (s.uprn, s.sex, s.justice_id):
        assert_fixed_point(f, raw)
