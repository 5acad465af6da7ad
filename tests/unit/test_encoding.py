"""The encoding specification (scheme v5, docs/encoding.md): scoped tokens and filters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from boldhub.errors import UserError
from boldhub.privacy.encoding import (
    ENCODING_COLUMNS,
    GLOBAL_COLUMNS,
    Encoder,
    EncodingParams,
    compact_name,
    deletions,
    dice,
    salt_of,
)
from boldhub.privacy.prf import ThrowawayPRF

PRF_A = ThrowawayPRF(b"a" * 32)
PRF_B = ThrowawayPRF(b"b" * 32)

PERSON = {
    "forename": ["ROBERT"],
    "surname": ["SMITH"],
    "other_names": ["JONES"],
    "dob": ["1980-03-14"],
    "sex": ["M"],
    "postcode": ["B15 2TT"],
    "nhs_number": ["9434765919"],
    "ni_number": ["QQ123456C"],
    "pnc_id": [None],
    "crn": ["X123456"],
    "prison_number": [None],
}


def person(**changes: Any) -> dict[str, list[Any]]:
    return {k: [changes.get(k, v[0])] for k, v in PERSON.items()}


def encode(prf: Any, *people: dict[str, list[Any]]) -> list[dict[str, Any]]:
    cols = {k: [v for p in people for v in p[k]] for k in PERSON}
    keys = [f"{i:032x}" for i in range(len(people))]
    rows: list[dict[str, Any]] = Encoder(prf).encode_rows(keys, cols).to_pylist()
    return rows


class CountingPRF:
    """The throwaway function, counting what the encoder asks of the key service."""

    def __init__(self) -> None:
        self.inner = ThrowawayPRF(b"c" * 32)
        self.asked: list[tuple[str, bytes]] = []

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def evaluate(self, domain: str, values: Sequence[bytes]) -> list[bytes]:
        self.asked.extend((domain, v) for v in values)
        return self.inner.evaluate(domain, values)


def test_two_parties_with_one_key_service_produce_identical_encodings() -> None:
    assert encode(PRF_A, person()) == encode(ThrowawayPRF(b"a" * 32), person())


def test_different_keys_share_no_token_or_filter() -> None:
    a, b = encode(PRF_A, person())[0], encode(PRF_B, person())[0]
    for column in ENCODING_COLUMNS:
        if column in ("record_key", "fn_bf_pop", "sn_bf_pop") or a[column] is None:
            continue
        assert a[column] != b[column], column


def test_a_typo_keeps_the_filters_similar_within_one_date_of_birth() -> None:
    a, b, c = encode(PRF_A, person(), person(surname="SMYTH"), person(surname="WILLIAMS"))
    assert a["sn_tok"] != b["sn_tok"]
    near = dice(a["sn_bf"], b["sn_bf"], a["sn_bf_pop"], b["sn_bf_pop"])
    far = dice(a["sn_bf"], c["sn_bf"], a["sn_bf_pop"], c["sn_bf_pop"])
    assert near > 0.55 > far


def test_one_name_under_two_dates_of_birth_shares_nothing() -> None:
    a, b = encode(PRF_A, person(), person(dob="1980-03-15"))
    for column in ("fn_tok", "sn_tok", "fn_init_tok", "sn_init_tok", "sex_tok", "salt_tok"):
        assert a[column] != b[column], column
    assert a["pc_sector_tok"] != b["pc_sector_tok"]
    assert set(a["nhs_near_toks"]).isdisjoint(b["nhs_near_toks"])
    # Under other scopes the filters are unrelated: about half their bits differ.
    assert dice(a["sn_bf"], b["sn_bf"], a["sn_bf_pop"], b["sn_bf_pop"]) < 0.0
    # The global tokens of the postcode and the numbers still agree.
    for column in ("pc_tok", "nhs_tok", "ni_tok", "crn_tok"):
        assert a[column] == b[column], column
    assert a["pc_unit_tok"] != b["pc_unit_tok"]  # the postcode within a date-of-birth scope


def test_filters_have_a_fixed_weight_whatever_the_length_of_the_name() -> None:
    rows = encode(PRF_A, person(surname="LI"), person(surname="WOLFESCHLEGELSTEIN"))
    assert {r["sn_bf_pop"] for r in rows} == {EncodingParams().name_filter_weight}
    for r in rows:
        stored = int.from_bytes(r["sn_bf"], "big").bit_count()
        assert 200 < stored < 312  # masked: about half of 512 bits, whatever the name


def test_a_transposed_date_of_birth_keeps_its_scope() -> None:
    a, b = encode(PRF_A, person(dob="1980-03-04"), person(dob="1980-04-03"))
    assert a["salt_tok"] == b["salt_tok"] and a["dob_tok"] != b["dob_tok"]
    assert a["sn_tok"] == b["sn_tok"]
    assert salt_of("1980-04-03") == salt_of("1980-03-04") == "1980-03-04"
    assert salt_of("1980-03-14") == "1980-03-14"
    assert salt_of(None) is None and salt_of("1980") is None


def test_records_of_one_postcode_compare_names_when_dates_differ() -> None:
    a, b, c = encode(
        PRF_A, person(), person(dob="1981-03-14"), person(forename="SMITH", surname="ROBERT")
    )
    assert a["pc_name_tok"] == b["pc_name_tok"] == c["pc_name_tok"]  # either order
    assert a["pc_tok"] == b["pc_tok"] == c["pc_tok"]
    assert a["pc_dob_md_tok"] == b["pc_dob_md_tok"] and a["pc_dob_ym_tok"] != b["pc_dob_ym_tok"]
    (d,) = encode(PRF_A, person(postcode="B15 2TU"))
    assert d["pc_name_tok"] != a["pc_name_tok"] and d["pc_tok"] != a["pc_tok"]
    # Other initials at one postcode: another postcode scope, so no global token says how
    # busy a postcode is.
    (e,) = encode(PRF_A, person(forename="ANN"))
    assert e["pc_tok"] != a["pc_tok"] and e["pc_unit_tok"] == a["pc_unit_tok"]


def test_without_a_date_of_birth_only_postcode_and_numbers_encode() -> None:
    (row,) = encode(PRF_A, person(dob=None))
    present = {c for c, v in row.items() if v is not None} - {"record_key"}
    under_numbers = {f"{n}_{c}" for n in ("nhs", "ni") for c in ("fn_tok", "sn_tok", "pc_tok")}
    assert present == {"pc_tok", "pc_name_tok", "nhs_tok", "ni_tok", "crn_tok", *under_numbers}


def test_initials_only_get_initial_tokens() -> None:
    (row,) = encode(PRF_A, person(forename="R"))
    assert row["fn_init_tok"] and row["fn_tok"] is None and row["fn_bf"] is None
    assert row["fn_alias_toks"] is None


def test_nickname_family_and_earlier_surname_overlap() -> None:
    a, b, c = encode(
        PRF_A, person(forename="BOB"), person(), person(surname="BROWN", other_names="SMITH")
    )
    assert set(a["fn_alias_toks"]) & set(b["fn_alias_toks"])
    assert b["sn_tok"] in c["on_toks"]


def test_names_entered_surname_first_meet_through_the_cross_token() -> None:
    a, b = encode(PRF_A, person(), person(forename="SMITH", surname="ROBERT"))
    assert b["fn_as_sn_tok"] == a["sn_tok"]


@pytest.mark.parametrize(
    ("typed", "shares"),
    [("9434765918", True), ("9434756919", True), ("943476591", True), ("1234567890", False)],
)
def test_near_tokens_meet_after_one_keying_slip(typed: str, shares: bool) -> None:
    a, b = encode(PRF_A, person(), person(nhs_number=typed))
    assert bool(set(a["nhs_near_toks"]) & set(b["nhs_near_toks"])) is shares
    assert a["nhs_tok"] != b["nhs_tok"]
    assert len(deletions("9434765919")) == 11


def test_each_value_is_asked_of_the_key_service_once() -> None:
    prf = CountingPRF()
    cols = {k: v * 300 for k, v in PERSON.items()}
    Encoder(prf).encode_rows([f"{i:032x}" for i in range(300)], cols)
    domains = sorted(d for d, _ in prf.asked)
    # One date-of-birth scope, one postcode, three numbers: nothing per record or name.
    assert domains == ["crn", "dob-salt", "nhs", "ni", "postcode"]
    assert (("dob-salt", b"1980-03-14")) in prf.asked


def test_global_tokens_are_one_per_scope_value_and_all_else_is_scoped() -> None:
    people = [
        person(forename=f, dob=d) for f in ("ANN", "BOB") for d in ("1980-01-20", "1990-02-21")
    ]
    rows = encode(PRF_A, *people)
    for column in ("fn_init_tok", "sn_init_tok", "sn_tok", "sex_tok", "pc_district_tok"):
        # The same surname, sex and district under two dates of birth: two tokens.
        assert len({r[column] for r in rows}) >= 2, column
    assert set(GLOBAL_COLUMNS) <= set(ENCODING_COLUMNS)


def test_names_postcode_and_date_parts_compare_only_under_one_number() -> None:
    one = {**PERSON, "forename": ["JANE"], "surname": ["DOE"], "dob": ["1980-02-03"]}
    # Another date of birth (scoped apart), names entered the wrong way round, same number.
    two = {**one, "dob": ["1981-02-03"], "forename": ["DOE"], "surname": ["JANE"]}
    # The same values under another number.
    three = {**one, "nhs_number": ["9434765870"], "ni_number": [None]}
    a, b, c = encode(PRF_A, one, two, three)
    assert a["nhs_fn_tok"] == b["nhs_sn_tok"] and a["nhs_sn_tok"] == b["nhs_fn_tok"]
    assert a["nhs_pc_tok"] == b["nhs_pc_tok"]
    # Year-day differs, month-day agrees: one part in common.
    assert len(set(a["nhs_dob_toks"]) & set(b["nhs_dob_toks"])) == 1
    for column in ("nhs_fn_tok", "nhs_sn_tok", "nhs_pc_tok"):
        assert c[column] not in (a[column], a["nhs_fn_tok"], a["nhs_sn_tok"]), column
    assert not set(c["nhs_dob_toks"]) & set(a["nhs_dob_toks"])


def test_parameters_are_validated_and_old_schemes_refused_with_what_to_do() -> None:
    with pytest.raises(UserError, match=r"no longer accepted.*encode again"):
        EncodingParams.from_dict({"scheme": "boldhub-fbf-v4", "salt": "dob"})
    # v5 is refused for what it lacks, not as decodable.
    with pytest.raises(UserError, match=r"v5 is no longer accepted \(it lacks the names.*v6"):
        EncodingParams.from_dict({**EncodingParams().as_dict(), "scheme": "boldhub-fbf-v5"})
    with pytest.raises(UserError, match="unknown pepper"):
        EncodingParams.from_dict({**EncodingParams().as_dict(), "pepper": 1})
    with pytest.raises(UserError, match="wrong type"):
        EncodingParams.from_dict({**EncodingParams().as_dict(), "qgram": "2"})
    with pytest.raises(UserError, match="name_filter_weight"):
        EncodingParams(name_filter_weight=400)
    assert EncodingParams.from_dict(EncodingParams().as_dict()) == EncodingParams()


def test_compact_name() -> None:
    assert compact_name("O'Neill") == "ONEILL"
    assert compact_name("SMITH-JONES") == "SMITHJONES"


def test_many_chunks_equal_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    people = [
        person(forename=f, surname=s, dob=d, postcode=p)
        for f in ("ANN", "BOB", "J")
        for s in ("SMITH", "O'NEILL")
        for d in ("1980-01-20", None)
        for p in ("B15 2TT", None)
    ]
    whole = encode(PRF_A, *people)
    monkeypatch.setattr("boldhub.privacy.encoding.CHUNK_ROWS", 5)
    assert encode(PRF_A, *people) == whole


def test_columns_without_values_encode_to_nulls() -> None:
    empty = {k: [None] for k in PERSON}
    (row,) = encode(PRF_A, empty)
    assert all(v is None for k, v in row.items() if k != "record_key")
