"""Properties of the encoder: one key gives one encoding; another key gives unrelated ones.

Parties meet only if equal standardised values under the agreement's key give equal
encodings, whoever encodes them and in whatever batch. And encodings made under another
key must carry nothing over: no token in common, and Bloom filters that agree bit for bit
no more often than two random filters of the same weight would.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boldhub.keyservice.client import local_key_function
from boldhub.privacy.encoding import ENCODING_COLUMNS, Encoder
from boldhub.privacy.keys import LinkageKey
from boldhub.privacy.prf import ThrowawayPRF

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILTERS = ("fn_bf", "sn_bf")
WEIGHTS = ("fn_bf_pop", "sn_bf_pop")

_NAMES = st.sampled_from(["ROBERT", "BOB", "SMITH", "O'NEILL", "NIC AN TSAOI", "ZOE", "LEE", "A"])
_DOBS = st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
_POSTCODES = st.sampled_from(["B15 2TT", "SW1A 1AA", "M1 1AE", "LS1 4DY"])


@st.composite
def people(draw: st.DrawFn) -> dict[str, list[Any]]:
    """A few standardised records, any field possibly missing."""
    n = draw(st.integers(1, 4))

    def column(values: st.SearchStrategy[str]) -> list[str | None]:
        return draw(st.lists(st.one_of(st.none(), values), min_size=n, max_size=n))

    return {
        "forename": column(_NAMES),
        "surname": column(_NAMES),
        "other_names": column(_NAMES),
        "dob": column(_DOBS),
        "sex": column(st.sampled_from(["M", "F", "U"])),
        "postcode": column(_POSTCODES),
        "nhs_number": column(st.sampled_from(["9434765919", "4010232137"])),
        "ni_number": column(st.sampled_from(["AB123456C", "JG103759A"])),
        "crn": column(st.sampled_from(["X123456", "Y654321"])),
    }


def encode(prf: Any, cols: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = [f"{i:032x}" for i in range(len(cols["forename"]))]
    rows: list[dict[str, Any]] = Encoder(prf).encode_rows(keys, cols).to_pylist()
    return rows


def tokens(row: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for column in ENCODING_COLUMNS:
        value = row[column]
        if column == "record_key" or column in FILTERS or column in WEIGHTS or value is None:
            continue
        found.update(value if isinstance(value, list) else [value])
    return found


@SETTINGS
@given(people(), st.binary(min_size=32, max_size=32))
def test_the_same_values_under_the_same_key_encode_the_same(
    cols: dict[str, list[Any]], secret: bytes
) -> None:
    first = encode(ThrowawayPRF(secret), cols)
    # Another party's encoder, the records in reverse order, one at a time.
    n = len(cols["forename"])
    again = [
        encode(ThrowawayPRF(secret), {k: [v[i]] for k, v in cols.items()})[0]
        for i in reversed(range(n))
    ][::-1]
    strip = [{k: v for k, v in row.items() if k != "record_key"} for row in first]
    assert strip == [{k: v for k, v in row.items() if k != "record_key"} for row in again]


@SETTINGS
@given(people(), st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_another_key_shares_no_token(cols: dict[str, list[Any]], a: bytes, b: bytes) -> None:
    if a == b:
        return
    mine = set().union(*map(tokens, encode(ThrowawayPRF(a), cols)))
    theirs = set().union(*map(tokens, encode(ThrowawayPRF(b), cols)))
    assert not mine & theirs


def _bits(data: bytes) -> list[int]:
    return [(byte >> i) & 1 for byte in data for i in range(8)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_filters_under_another_key_agree_only_by_chance(a: bytes, b: bytes) -> None:
    """Filters of the same names under two keys: their shared set bits are what two random
    filters of the same weights share (hypergeometric mean w*w/m), not more."""
    if a == b:
        return
    names = ["ROBERT", "MARGARET", "ZOE", "OLUWASEUN", "LEE", "SIOBHAN", "MUHAMMAD", "ANNA"]
    cols: dict[str, list[Any]] = {
        "forename": names,
        "surname": names[::-1],
        "dob": ["1980-03-14"] * len(names),
    }
    shared = expected = 0.0
    for ra, rb in zip(encode(ThrowawayPRF(a), cols), encode(ThrowawayPRF(b), cols), strict=True):
        for column in FILTERS:
            x, y = _bits(ra[column]), _bits(rb[column])
            m, wx, wy = len(x), sum(x), sum(y)
            shared += sum(p & q for p, q in zip(x, y, strict=True))
            expected += wx * wy / m
    # 16 filter pairs of ~100 bits in 512: about 312 shared bits by chance, sd about 15.
    assert abs(shared - expected) < 0.2 * expected, (shared, expected)


def test_two_key_services_holding_one_key_encode_alike() -> None:
    """The council encode path's keyed function (the oblivious PRF of a key service in this
    process): two services holding one agreement key give one encoding; another key, none
    of its tokens."""
    cols: dict[str, list[Any]] = {
        "forename": ["ROBERT", None],
        "surname": ["SMITH", "LEE"],
        "dob": ["1980-03-14", "1975-01-31"],
        "postcode": ["B15 2TT", None],
        "nhs_number": ["9434765919", None],
    }
    key = LinkageKey(bytes(range(32)))
    one = encode(local_key_function(key, "bold-a"), cols)
    two = encode(local_key_function(LinkageKey(bytes(range(32))), "bold-a"), cols)
    assert one == two
    other = encode(local_key_function(LinkageKey(bytes(range(1, 33))), "bold-a"), cols)
    assert not set().union(*map(tokens, one)) & set().union(*map(tokens, other))
