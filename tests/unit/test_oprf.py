"""The OPRF against RFC 9497 Appendix A.1.1 (OPRF(ristretto255, SHA-512), mode 0x00) and
RFC 9380 Appendix K.3 (expand_message_xmd with SHA-512), then the properties the key
service relies on: blinding hides the input, and unblinding removes the blind."""

from __future__ import annotations

import pytest

from boldhub.errors import InvalidElement, SodiumMissing
from boldhub.keyservice import _sodium, oprf

# RFC 9497 A.1.1: the key is derived from this seed and info.
SEED = bytes.fromhex("a3" * 32)
KEY_INFO = bytes.fromhex("74657374206b6579")  # "test key"
SK_S = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e"
BLIND = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"

# input, blinded element, evaluation element, output (test vectors 1 and 2)
VECTORS = [
    (
        "00",
        "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
        "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
        "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
        "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6",
    ),
    (
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
        "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
        "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
        "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73",
    ),
]

XMD_DST = b"QUUX-V01-CS02-with-expander-SHA512-256"
XMD_VECTORS = [
    (b"", 32, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"),
    (b"abc", 32, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"),
    (
        b"",
        128,
        "41b037d1734a5f8df225dd8c7de38f851efdb45c372887be655212d07251b921"
        "b052b62eaed99b46f72f2ef4cc96bfaf254ebbbec091e1a3b9e4fb5e5b619d2e"
        "0c5414800a1d882b62bb5cd1778f098b8eb6cb399d5d9d18f5d5842cf5d13d7e"
        "b00a7cff859b605da678b318bd0e65ebff70bec88c753b159a805d2c89c55961",
    ),
]


def test_the_context_string_and_tags_are_the_rfcs() -> None:
    assert oprf.CONTEXT == b"OPRFV1-\x00-ristretto255-SHA512"
    assert oprf.HASH_TO_GROUP_DST == b"HashToGroup-OPRFV1-\x00-ristretto255-SHA512"
    assert oprf.HASH_TO_SCALAR_DST == b"HashToScalar-OPRFV1-\x00-ristretto255-SHA512"


@pytest.mark.parametrize(("msg", "length", "expected"), XMD_VECTORS)
def test_expand_message_xmd_matches_rfc_9380(msg: bytes, length: int, expected: str) -> None:
    assert oprf.expand_message_xmd(msg, XMD_DST, length).hex() == expected


def test_the_fast_hash_to_group_expansion_is_expand_message_xmd() -> None:
    for msg in (b"", b"\x00", b"x" * 200):
        slow = oprf.expand_message_xmd(msg, oprf.HASH_TO_GROUP_DST, 64)
        assert oprf._h2g_uniform(msg) == slow


def test_derive_key_pair_matches_the_rfc() -> None:
    pair = oprf.derive_key_pair(SEED, KEY_INFO)
    assert pair.secret.hex() == SK_S
    assert pair.public == _sodium.scalarmult_base(pair.secret)
    assert SK_S not in repr(pair)


@pytest.mark.parametrize(("value", "blinded", "evaluated", "output"), VECTORS)
def test_blind_evaluate_finalize_match_the_rfc(
    value: str, blinded: str, evaluated: str, output: str
) -> None:
    x = bytes.fromhex(value)
    blind, element = oprf.blind(x, bytes.fromhex(BLIND))
    assert element.hex() == blinded
    evaluation = oprf.blind_evaluate(bytes.fromhex(SK_S), element)
    assert evaluation.hex() == evaluated
    assert oprf.finalize(x, blind, evaluation).hex() == output
    assert oprf.evaluate(bytes.fromhex(SK_S), x).hex() == output


def test_the_batch_functions_give_the_rfcs_answers() -> None:
    inputs = [bytes.fromhex(v[0]) for v in VECTORS]
    blinded = oprf.blind_batch(inputs, [bytes.fromhex(BLIND)] * 2)
    assert [e.hex() for e in blinded.elements] == [v[1] for v in VECTORS]
    evaluated = oprf.blind_evaluate_batch(bytes.fromhex(SK_S), blinded.elements)
    assert [e.hex() for e in evaluated] == [v[2] for v in VECTORS]
    outputs = oprf.finalize_batch(inputs, blinded.blinds, evaluated)
    assert [o.hex() for o in outputs] == [v[3] for v in VECTORS]


def test_blinding_hides_the_input_and_finalize_removes_the_blind() -> None:
    """Obliviousness, as far as a test can see it: the same input blinded twice gives
    unrelated elements (and evaluations), yet the same output."""
    pair = oprf.derive_key_pair(bytes(range(32)), b"obliviousness")
    value = b"SMITH"
    runs = []
    for _ in range(3):
        blind, element = oprf.blind(value)
        evaluated = oprf.blind_evaluate(pair.secret, element)
        runs.append((element, evaluated, oprf.finalize(value, blind, evaluated)))
    assert len({r[0] for r in runs}) == 3
    assert len({r[1] for r in runs}) == 3
    assert {r[2] for r in runs} == {oprf.evaluate(pair.secret, value)}
    # The element the server sees is not the input's hash either.
    assert all(r[0] != oprf.hash_to_group(value) for r in runs)


def test_a_batch_of_many_inputs_finalizes_each_with_its_own_blind() -> None:
    pair = oprf.derive_key_pair(bytes(32), b"batch")
    inputs = [f"value {i}".encode() for i in range(257)]
    blinded = oprf.blind_batch(inputs)
    evaluated = oprf.blind_evaluate_batch(pair.secret, blinded.elements)
    outputs = oprf.finalize_batch(inputs, blinded.blinds, evaluated)
    assert outputs == [oprf.evaluate(pair.secret, x) for x in inputs]


IDENTITY = bytes(32)
NON_CANONICAL = bytes([0xFF] * 31 + [0x7F])  # a field element >= p


@pytest.mark.parametrize("bad", [IDENTITY, NON_CANONICAL, b"\x01" + bytes(31), b"short", bytes(33)])
def test_blind_evaluate_refuses_what_is_not_a_group_element(bad: bytes) -> None:
    pair = oprf.derive_key_pair(bytes(32), b"refuse")
    _, good = oprf.blind(b"x")
    with pytest.raises(InvalidElement) as caught:
        oprf.blind_evaluate_batch(pair.secret, [good, good, bad])
    assert caught.value.index == 2


def test_finalize_refuses_an_evaluated_element_that_is_not_one() -> None:
    blind, _ = oprf.blind(b"x")
    with pytest.raises(InvalidElement):
        oprf.finalize(b"x", blind, IDENTITY)


def test_inputs_longer_than_finalize_can_frame_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 65535"):
        oprf.blind(bytes(65536))


def test_a_missing_libsodium_is_a_user_error_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_sodium.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(_sodium, "_NAMES", ("libsodium-not-here.so.0",))
    with pytest.raises(SodiumMissing, match="apt-get install libsodium23"):
        _sodium._lib.__wrapped__()
