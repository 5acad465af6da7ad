"""Encodings: comparable under one key, unlinkable across keys, similar for typos."""

from __future__ import annotations

from boldhub.privacy.encoding import Encoder, compact_name, name_family
from boldhub.privacy.keys import LinkageKey

KEY_A = LinkageKey(bytes(range(32)))
KEY_B = LinkageKey(bytes(range(1, 33)))

PERSON = {
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


def _dice(a: bytes, b: bytes) -> float:
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    return 2 * (x & y).bit_count() / (x.bit_count() + y.bit_count())


def test_two_councils_with_one_key_produce_identical_encodings() -> None:
    council_a = Encoder(KEY_A).encode_rows(["a" * 32], PERSON).to_pylist()[0]
    council_b = Encoder(LinkageKey(bytes(range(32)))).encode_rows(["b" * 32], PERSON).to_pylist()[0]
    del council_a["record_key"], council_b["record_key"]
    assert council_a == council_b


def test_different_keys_produce_encodings_that_do_not_link() -> None:
    a = Encoder(KEY_A).encode_rows(["a" * 32], PERSON).to_pylist()[0]
    b = Encoder(KEY_B).encode_rows(["b" * 32], PERSON).to_pylist()[0]
    for col in ("fn_tok", "sn_tok", "dob_tok", "pc_tok", "nhs_tok", "sex_tok"):
        assert a[col] != b[col]
    # Bloom filters under different keys are no more alike than unrelated names.
    assert _dice(a["fn_bf"], b["fn_bf"]) < 0.3


def test_a_typo_keeps_the_bloom_filter_similar() -> None:
    enc = Encoder(KEY_A)
    same = _dice(enc.bloom("name", "CATHERINE") or b"", enc.bloom("name", "CATHRINE") or b"")
    other = _dice(enc.bloom("name", "CATHERINE") or b"", enc.bloom("name", "MOHAMMED") or b"")
    assert same > 0.85 > 0.4 > other


def test_day_month_swap_meets_the_true_date() -> None:
    enc = Encoder(KEY_A)
    true = enc.encode_rows(["a" * 32], {**PERSON, "dob": ["1985-02-11"]}).to_pylist()[0]
    swapped = enc.encode_rows(["b" * 32], {**PERSON, "dob": ["1985-11-02"]}).to_pylist()[0]
    assert swapped["dob_swap_tok"] == true["dob_tok"]


def test_initials_only_get_initial_tokens() -> None:
    row = (
        Encoder(KEY_A)
        .encode_rows(["a" * 32], {**PERSON, "forename": ["R"], "surname": ["O"]})
        .to_pylist()[0]
    )
    full = Encoder(KEY_A).encode_rows(["b" * 32], PERSON).to_pylist()[0]
    assert row["fn_bf"] is None and row["fn_tok"] is None
    assert row["fn_init_tok"] == full["fn_init_tok"] and row["sn_init_tok"] == full["sn_init_tok"]


def test_nickname_family_overlaps() -> None:
    assert "ROBERT" in name_family("BOB")
    enc = Encoder(KEY_A)
    bob = enc.encode_rows(["a" * 32], {**PERSON, "forename": ["BOB"]}).to_pylist()[0]
    rob = enc.encode_rows(["b" * 32], PERSON).to_pylist()[0]
    assert set(bob["fn_alias_toks"]) & set(rob["fn_alias_toks"])


def test_compact_name() -> None:
    assert compact_name("O'NEILL") == "ONEILL"
    assert compact_name("SMITH-JONES") == "SMITHJONES"


def test_key_never_printed() -> None:
    assert KEY_A.secret.hex() not in repr(KEY_A)
