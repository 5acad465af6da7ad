"""Encodings: comparable under one key, unlinkable across keys, similar for typos, salted."""

from __future__ import annotations

from typing import Any

import pytest

from boldhub.errors import UserError
from boldhub.privacy.encoding import (
    ENCODING_SCHEMA,
    UNHARDENED,
    Encoder,
    EncodingParams,
    compact_name,
    deletions,
    dice,
    name_family,
    salt_of,
)
from boldhub.privacy.keys import LinkageKey

KEY_A = LinkageKey(bytes(range(32)))
KEY_B = LinkageKey(bytes(range(1, 33)))

PERSON: dict[str, list[str | None]] = {
    "forename": ["ROBERT"],
    "surname": ["O'NEILL"],
    "other_names": ["JAMES"],
    "dob": ["1985-02-11"],
    "sex": ["M"],
    "postcode": ["B15 2TT"],
    "nhs_number": ["9434765919"],
    "ni_number": [None],
    "pnc_id": [None],
    "crn": [None],
    "prison_number": [None],
}


def encode(key: LinkageKey, person: dict[str, list[str | None]], **params: Any) -> dict[str, Any]:
    row: dict[str, Any] = (
        Encoder(key, EncodingParams(**params)).encode_rows(["a" * 32], person).to_pylist()[0]
    )
    return row


def name_dice(a: dict[str, Any], b: dict[str, Any], prefix: str = "fn") -> float:
    return dice(a[f"{prefix}_bf"], b[f"{prefix}_bf"], a[f"{prefix}_bf_pop"], b[f"{prefix}_bf_pop"])


def test_two_councils_with_one_key_produce_identical_encodings() -> None:
    """Two parties (two encoders, one shared key) encode the same person identically."""
    council_a = encode(KEY_A, PERSON)
    council_b = encode(LinkageKey(bytes(range(32))), PERSON)
    assert council_a == council_b
    assert name_dice(council_a, council_b) == 1.0 and name_dice(council_a, council_b, "sn") == 1.0


def test_different_keys_produce_encodings_that_do_not_link() -> None:
    a = encode(KEY_A, PERSON)
    b = encode(KEY_B, PERSON)
    tokens = [c for c in ENCODING_SCHEMA.names if c.endswith("_tok") and a[c] is not None]
    assert len(tokens) >= 12
    for col in tokens:
        assert a[col] != b[col], col
    assert not set(a["fn_alias_toks"]) & set(b["fn_alias_toks"])
    # Filters under different keys are no more alike than unrelated names: the hub's Dice
    # falls below every level of the model (0.65), far below.
    assert name_dice(a, b) < 0.2 and name_dice(a, b, "sn") < 0.2


def test_different_keys_do_not_link_even_unsalted() -> None:
    a = encode(KEY_A, PERSON, salt="none")
    b = encode(KEY_B, PERSON, salt="none")
    assert a["fn_tok"] != b["fn_tok"] and name_dice(a, b) < 0.4


def test_a_typo_keeps_the_filters_similar_under_one_salt() -> None:
    enc = Encoder(KEY_A)
    rows = enc.encode_rows(
        ["a" * 32, "b" * 32, "c" * 32],
        {"forename": ["CATHERINE", "CATHRINE", "MOHAMMED"], "dob": ["1985-02-11"] * 3},
    ).to_pylist()
    assert name_dice(rows[0], rows[1]) > 0.85 > 0.4 > name_dice(rows[0], rows[2])


def test_salting_makes_one_name_under_two_dates_unrelated() -> None:
    enc = Encoder(KEY_A)
    rows = enc.encode_rows(
        ["a" * 32, "b" * 32], {"forename": ["CATHERINE"] * 2, "dob": ["1985-02-11", "1985-02-12"]}
    ).to_pylist()
    assert rows[0]["fn_tok"] != rows[1]["fn_tok"]
    assert name_dice(rows[0], rows[1]) < 0.2
    # Unsalted (the foundation encoding), the same name is the same filter whatever the date.
    plain = Encoder(KEY_A, UNHARDENED).encode_rows(
        ["a" * 32, "b" * 32], {"forename": ["CATHERINE"] * 2, "dob": ["1985-02-11", "1985-02-12"]}
    )
    assert plain.column("fn_bf")[0] == plain.column("fn_bf")[1]


def test_masked_filters_hide_the_name_length() -> None:
    """The stored filter's popcount says nothing of the name: about half the bits are set."""
    rows = (
        Encoder(KEY_A)
        .encode_rows(["a" * 32, "b" * 32], {"forename": ["AL", "MAXIMILIAN"], "dob": [None, None]})
        .to_pylist()
    )
    assert rows[0]["fn_bf"] is None  # no date of birth: no salt, so no name encoding
    rows = (
        Encoder(KEY_A)
        .encode_rows(
            ["a" * 32, "b" * 32], {"forename": ["AL", "MAXIMILIAN"], "dob": ["1990-05-17"] * 2}
        )
        .to_pylist()
    )
    for row in rows:
        ones = int.from_bytes(row["fn_bf"], "big").bit_count()
        assert 200 < ones < 312, ones
    assert rows[0]["fn_bf_pop"] < rows[1]["fn_bf_pop"]  # the hub's weight, for Dice only


def test_day_month_swap_meets_the_true_date_and_keeps_the_salt() -> None:
    enc = Encoder(KEY_A)
    true = enc.encode_rows(["a" * 32], {**PERSON, "dob": ["1985-02-11"]}).to_pylist()[0]
    swapped = enc.encode_rows(["b" * 32], {**PERSON, "dob": ["1985-11-02"]}).to_pylist()[0]
    assert swapped["dob_swap_tok"] == true["dob_tok"]
    assert swapped["fn_tok"] == true["fn_tok"] and swapped["fn_bf"] == true["fn_bf"]
    assert salt_of("1985-02-11", "dob") == salt_of("1985-11-02", "dob")
    assert salt_of("1985-02-13", "dob") != salt_of("1985-03-12", "dob")
    assert salt_of("1985-02-11", "yob") == "1985" and salt_of(None, "dob") is None


def test_initials_only_get_initial_tokens() -> None:
    row = encode(KEY_A, {**PERSON, "forename": ["R"], "surname": ["O"]})
    full = encode(KEY_A, PERSON)
    assert row["fn_bf"] is None and row["fn_tok"] is None and row["fn_alias_toks"] is None
    assert row["fn_init_tok"] == full["fn_init_tok"] and row["sn_init_tok"] == full["sn_init_tok"]


def test_fields_are_domain_separated() -> None:
    row = encode(KEY_A, {**PERSON, "forename": ["JAMES"], "surname": ["JAMES"]})
    assert row["fn_tok"] != row["sn_tok"]
    assert row["fn_init_tok"] != row["sn_init_tok"]
    assert row["fn_bf"] != row["sn_bf"]


def test_nickname_family_overlaps() -> None:
    assert "ROBERT" in name_family("BOB")
    bob = encode(KEY_A, {**PERSON, "forename": ["BOB"]})
    rob = encode(KEY_A, PERSON)
    assert set(bob["fn_alias_toks"]) & set(rob["fn_alias_toks"])


def test_an_earlier_surname_in_other_names_meets_the_surname() -> None:
    married = encode(KEY_A, {**PERSON, "surname": ["SMITH"], "other_names": ["JONES"]})
    maiden = encode(KEY_A, {**PERSON, "surname": ["JONES"], "other_names": [None]})
    assert maiden["sn_tok"] in married["on_toks"]


def test_bit_flips_and_folding_keep_names_comparable() -> None:
    enc = Encoder(KEY_A, EncodingParams(bit_flip=0.02, xor_fold=True), seed=1)
    rows = enc.encode_rows(
        ["a" * 32, "b" * 32], {"forename": ["CATHERINE"] * 2, "dob": ["1985-02-11"] * 2}
    ).to_pylist()
    assert len(rows[0]["fn_bf"]) == 32  # 512 bits folded to 256
    assert rows[0]["fn_bf"] != rows[1]["fn_bf"]  # random flips per record
    assert 0.7 < name_dice(rows[0], rows[1]) < 1.0


def test_many_rows_match_row_by_row_encoding() -> None:
    """Column-wise encoding in chunks gives each row what encoding it alone gives."""
    names = ["ANNA", "BOB", None, "R", "CATHERINE", "ANNA"]
    dobs = ["1980-01-02", None, "1990-12-31", "1975-06-07", "1980-01-02", "1981-01-02"]
    columns: dict[str, list[str | None]] = {"forename": names, "surname": names, "dob": dobs}
    enc = Encoder(KEY_A)
    table = enc.encode_rows([f"{i:032x}" for i in range(6)], columns).to_pylist()
    for i in range(6):
        alone = (
            Encoder(KEY_A)
            .encode_rows(["x" * 32], {c: [v[i]] for c, v in columns.items()})
            .to_pylist()[0]
        )
        alone["record_key"] = table[i]["record_key"]
        assert alone == table[i], i


def test_parameters_are_validated() -> None:
    with pytest.raises(UserError, match="salt must be one of"):
        EncodingParams(salt="postcode")
    with pytest.raises(UserError, match="unknown"):
        EncodingParams.from_dict({**EncodingParams().as_dict(), "pepper": 1})
    with pytest.raises(UserError, match="wrong type"):
        EncodingParams.from_dict({**EncodingParams().as_dict(), "xor_fold": "yes"})
    assert EncodingParams.from_dict(EncodingParams().as_dict()) == EncodingParams()


def test_compact_name() -> None:
    assert compact_name("O'NEILL") == "ONEILL"
    assert compact_name("SMITH-JONES") == "SMITHJONES"


def test_key_never_printed() -> None:
    assert KEY_A.secret.hex() not in repr(KEY_A)


def test_fast_gather_equals_arrow_take() -> None:
    import numpy as np
    import pyarrow as pa

    from boldhub.privacy.encoding import _take

    rng = np.random.default_rng(3)
    values = pa.array([None if i % 7 == 0 else f"{i:032x}" for i in range(50)], pa.string())
    idx = rng.integers(0, 50, 1000)
    indices = pa.array(idx, mask=rng.random(1000) < 0.1)
    assert _take(values, indices).to_pylist() == values.take(indices).to_pylist()
    ragged = pa.array(["a", "bb", None])
    assert _take(ragged, pa.array([2, 1, 0])).to_pylist() == [None, "bb", "a"]


def test_names_entered_surname_first_meet_through_the_cross_token() -> None:
    """ROBERT O'NEILL entered as O'NEILL ROBERT: the forename's surname-domain token of
    one record equals the other's surname token, under the same date of birth only."""
    right = encode(KEY_A, PERSON)
    swapped = encode(KEY_A, {**PERSON, "forename": ["O'NEILL"], "surname": ["ROBERT"]})
    assert right["fn_as_sn_tok"] == swapped["sn_tok"]
    assert swapped["fn_as_sn_tok"] == right["sn_tok"]
    assert right["fn_tok"] != swapped["sn_tok"]  # the fields stay domain-separated
    other_day = encode(
        KEY_A, {**PERSON, "forename": ["O'NEILL"], "surname": ["ROBERT"], "dob": ["1985-03-11"]}
    )
    assert right["fn_as_sn_tok"] != other_day["sn_tok"]


def test_the_full_name_bucket_ignores_which_field_held_which_name() -> None:
    right = encode(KEY_A, PERSON)
    swapped = encode(
        KEY_A, {**PERSON, "forename": ["O'NEILL"], "surname": ["ROBERT"], "dob": ["1990-07-30"]}
    )
    other = encode(KEY_A, {**PERSON, "forename": ["ROBERTA"]})
    assert right["name_bucket_tok"] == swapped["name_bucket_tok"]
    assert right["name_bucket_tok"] != other["name_bucket_tok"]


@pytest.mark.parametrize(
    ("typed", "shares"),
    [
        ("9434765919", True),  # the same number
        ("9434765918", True),  # one digit changed
        ("9434756919", True),  # two adjacent digits swapped
        ("943476919", True),  # one digit dropped
        ("9434765999", True),  # one digit doubled over the next
        ("9434567919", False),  # three digits moved
        ("1234567890", False),
    ],
)
def test_near_tokens_meet_after_one_keying_slip(typed: str, shares: bool) -> None:
    true = encode(KEY_A, PERSON)
    slip = encode(KEY_A, {**PERSON, "nhs_number": [typed]})
    assert bool(set(true["nhs_near_toks"]) & set(slip["nhs_near_toks"])) is shares
    assert (true["nhs_tok"] == slip["nhs_tok"]) is (typed == "9434765919")


def test_near_tokens_are_keyed_and_absent_without_a_number() -> None:
    a = encode(KEY_A, PERSON)
    b = encode(KEY_B, PERSON)
    assert len(a["nhs_near_toks"]) == 11 and not set(a["nhs_near_toks"]) & set(b["nhs_near_toks"])
    assert "943476591" not in str(a["nhs_near_toks"])
    none = encode(KEY_A, {**PERSON, "nhs_number": [None]})
    assert none["nhs_near_toks"] is None and none["ni_near_toks"] is None


@pytest.mark.parametrize("number", ["9434765919", "9434765999", "1111111111", "AB123456C"])
def test_near_tokens_are_one_per_distinct_deletion(number: str) -> None:
    """The vectorised encoder gives one token per member of ``deletions`` (repeated
    digits give repeated deletions, counted once)."""
    field = "nhs_number" if number.isdigit() else "ni_number"
    row = encode(KEY_A, {**PERSON, field: [number]})
    toks = row["nhs_near_toks" if number.isdigit() else "ni_near_toks"]
    assert len(toks) == len(set(toks)) == len(deletions(number))


def test_encodings_follow_the_specification() -> None:
    """docs/encoding.md computed directly, one value at a time, against the encoder's
    batched arrays: tokens, long values, names' secret ids (short and long), salted name
    tokens and filter positions."""
    import hmac

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    def aes(purpose: str, block: bytes) -> bytes:
        enc = Cipher(algorithms.AES(KEY_A.subkey(purpose)), modes.ECB()).encryptor()
        return enc.update(block) + enc.finalize()

    def hmac16(purpose: str, value: bytes) -> bytes:
        return hmac.digest(KEY_A.subkey(purpose), value, "sha256")[:16]

    def block(value: str) -> bytes:
        return value.encode().ljust(15, b"\0") + bytes([len(value.encode())])

    long_name, long_crn = "BARTHOLOMEWALEXANDERSON", "CRN-0000000000000042"
    row = encode(KEY_A, {**PERSON, "forename": [long_name], "crn": [long_crn]})
    assert row["dob_tok"] == aes("tok-aes/dob", block("1985-02-11")).hex()
    assert row["dob_md_tok"] == aes("tok-aes/dob-md", block("02-11")).hex()
    assert row["pc_sector_tok"] == aes("tok-aes/postcode-sector", block("B15 2")).hex()
    assert row["crn_tok"] == hmac16("tok/crn", long_crn.encode()).hex()
    salt = b"1985-02-11".ljust(16, b"\0")
    short_id = aes("name-aes/surname", block("ONEILL"))
    long_id = hmac16("name/forename", long_name.encode())
    assert (
        row["sn_tok"]
        == aes("name-salt/surname", bytes(a ^ b for a, b in zip(short_id, salt, strict=True))).hex()
    )
    assert (
        row["fn_tok"]
        == aes("name-salt/forename", bytes(a ^ b for a, b in zip(long_id, salt, strict=True))).hex()
    )
    positions = set()
    for gram in {"_O", "ON", "NE", "EI", "IL", "LL", "L_"}:
        digest = hmac.digest(KEY_A.subkey("bf/surname"), gram.encode(), "sha256")
        h1, h2 = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big") | 1
        positions |= {(h1 + i * h2) % 512 for i in range(10)}
    bits = Encoder(KEY_A).base_filter("surname", "ONEILL")
    assert set(bits.nonzero()[0].tolist()) == positions
    assert row["sn_bf_pop"] == len(positions)


def test_columns_without_values_and_unusual_numbers_encode() -> None:
    """An all-empty column gives nulls; a number with other characters than ASCII gets
    near tokens as if each were one "?"."""
    enc = Encoder(KEY_A)
    rows = enc.encode_rows(
        ["a" * 32, "b" * 32],
        {"forename": [None, None], "nhs_number": ["943476591é", "943476591?"], "dob": [None, ""]},
    ).to_pylist()
    assert rows[0]["fn_tok"] is None and rows[0]["salt_tok"] is None and rows[1]["dob_tok"] is None
    assert rows[0]["nhs_near_toks"] == rows[1]["nhs_near_toks"]
    assert rows[0]["ni_near_toks"] is None


@pytest.mark.parametrize("mode", ["dob", "yob"])
def test_batched_salts_are_salt_of(mode: str) -> None:
    """The encoder salts whole columns at once; each record's salt is what salt_of (the
    specification, one date at a time) gives."""
    dates: list[str | None] = [
        "1985-02-11",
        "1985-11-02",
        "1985-02-13",
        "1985-13-02",
        "1980-02-30",
        "1990-07-07",
        None,
        "",
        "1985-2-11",
    ]
    enc = Encoder(KEY_A, EncodingParams(salt=mode))
    rows = enc.encode_rows([f"{i:032x}" for i in range(len(dates))], {"dob": dates}).to_pylist()
    for date, row in zip(dates, rows, strict=True):
        salt = salt_of(date, mode)
        assert row["salt_tok"] == (None if salt is None else enc.token("salt", salt)), date
