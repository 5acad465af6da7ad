"""The oblivious PRF of RFC 9497 in its base mode (0x00, "OPRF"), suite ristretto255-SHA512.

A client turns each input into a random-looking group element (``blind``), the server
multiplies it by its secret scalar (``blind_evaluate``) and the client removes its blind
and hashes (``finalize``). The output is a function of the server's key and the input
alone; the server sees neither the input nor the output, and the client never holds the
key. The group arithmetic is libsodium's (``_sodium``); everything else, from
expand_message_xmd to the bytes Finalize hashes, follows the RFC's text and is pinned
by its Appendix A test vectors (tests/unit/test_oprf.py).

The batch functions are what the key service and its client call: they give the same
answers as the single ones, faster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from boldhub.errors import InvalidElement
from boldhub.keyservice import _sodium

MODE_OPRF = 0x00
IDENTIFIER = b"ristretto255-SHA512"
CONTEXT = b"OPRFV1-" + bytes([MODE_OPRF]) + b"-" + IDENTIFIER
HASH_TO_GROUP_DST = b"HashToGroup-" + CONTEXT
HASH_TO_SCALAR_DST = b"HashToScalar-" + CONTEXT
DERIVE_KEY_PAIR_DST = b"DeriveKeyPair" + CONTEXT

ELEMENT_BYTES = _sodium.ELEMENT_BYTES
SCALAR_BYTES = _sodium.SCALAR_BYTES
OUTPUT_BYTES = 64
# Finalize prefixes the input with its length in two bytes.
MAX_INPUT_BYTES = 0xFFFF

_SHA512_BLOCK = 128
_SHA512_BYTES = 64
_ZERO_SCALAR = bytes(SCALAR_BYTES)


def i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 section 5.3.1 with SHA-512."""
    ell = -(-length // _SHA512_BYTES)
    if ell > 255 or length > 0xFFFF or len(dst) > 255:
        raise ValueError("expand_message_xmd: output or domain separation tag too long")
    dst_prime = dst + i2osp(len(dst), 1)
    msg_prime = bytes(_SHA512_BLOCK) + msg + i2osp(length, 2) + i2osp(0, 1) + dst_prime
    b0 = hashlib.sha512(msg_prime).digest()
    blocks = [hashlib.sha512(b0 + i2osp(1, 1) + dst_prime).digest()]
    for i in range(2, ell + 1):
        mixed = bytes(x ^ y for x, y in zip(b0, blocks[-1], strict=True))
        blocks.append(hashlib.sha512(mixed + i2osp(i, 1) + dst_prime).digest())
    return b"".join(blocks)[:length]


# HashToGroup runs once per input, always with the same tag and length: its first hash
# starts from a saved state that has absorbed the 128 zero bytes, and its constant tails
# are built once. Equal to expand_message_xmd(msg, HASH_TO_GROUP_DST, 64) (tested).
_H2G_DST_PRIME = HASH_TO_GROUP_DST + i2osp(len(HASH_TO_GROUP_DST), 1)
_H2G_TAIL = i2osp(_SHA512_BYTES, 2) + i2osp(0, 1) + _H2G_DST_PRIME
_H2G_SECOND_TAIL = i2osp(1, 1) + _H2G_DST_PRIME
_ZERO_BLOCK_STATE = hashlib.sha512(bytes(_SHA512_BLOCK))


def _h2g_uniform(msg: bytes) -> bytes:
    first = _ZERO_BLOCK_STATE.copy()
    first.update(msg)
    first.update(_H2G_TAIL)
    return hashlib.sha512(first.digest() + _H2G_SECOND_TAIL).digest()


def hash_to_group(msg: bytes) -> bytes:
    """HashToGroup: hash_to_ristretto255 of RFC 9380 with the suite's tag."""
    return _sodium.from_hash(_h2g_uniform(msg))


def hash_to_scalar(msg: bytes, dst: bytes = HASH_TO_SCALAR_DST) -> bytes:
    return _sodium.scalar_reduce(expand_message_xmd(msg, dst, 64))


@dataclass(frozen=True, repr=False)
class KeyPair:
    """The server's secret scalar skS and its public element pkS = skS * G."""

    secret: bytes
    public: bytes

    def __repr__(self) -> str:  # the secret never reaches a log or a traceback
        return f"KeyPair(public={self.public.hex()})"


def derive_key_pair(seed: bytes, info: bytes) -> KeyPair:
    """DeriveKeyPair (RFC 9497 section 3.2.1): the same seed and info give the same key."""
    if len(seed) != SCALAR_BYTES:
        raise ValueError(f"DeriveKeyPair takes a 32-byte seed, not {len(seed)} bytes")
    if len(info) > 0xFFFF:
        raise ValueError("DeriveKeyPair: info longer than 65535 bytes")
    derive_input = seed + i2osp(len(info), 2) + info
    for counter in range(256):
        secret = hash_to_scalar(derive_input + i2osp(counter, 1), DERIVE_KEY_PAIR_DST)
        if secret != _ZERO_SCALAR:
            public = _sodium.scalarmult_base(secret)
            assert public is not None  # a non-zero scalar times the generator
            return KeyPair(secret, public)
    # 256 zero scalars in a row: probability about 2^-64000, so a broken hash.
    raise RuntimeError("DeriveKeyPair failed (DeriveKeyPairError)")


def _check_input(value: bytes) -> None:
    if len(value) > MAX_INPUT_BYTES:
        raise ValueError(f"an OPRF input is at most {MAX_INPUT_BYTES} bytes, not {len(value)}")


@dataclass(frozen=True, repr=False)
class Blinded:
    """What Blind returns for a batch: the client keeps ``blinds`` and sends ``elements``."""

    blinds: list[bytes]
    elements: list[bytes]

    def __repr__(self) -> str:
        return f"Blinded({len(self.elements)} elements)"


def blind_batch(inputs: Sequence[bytes], blinds: Sequence[bytes] | None = None) -> Blinded:
    """Blind each input with a fresh random scalar (or the given ones: the RFC's test
    vectors fix them). Raises ValueError for an input that hashes to the identity, which
    happens with probability about 2^-252."""
    if blinds is not None and len(blinds) != len(inputs):
        raise ValueError("Blind: one blind per input")
    chosen = list(blinds) if blinds is not None else []
    elements: list[bytes] = []
    for i, value in enumerate(inputs):
        _check_input(value)
        if blinds is None:
            chosen.append(_sodium.scalar_random())
        element = _sodium.scalarmult(chosen[i], hash_to_group(value))
        if element is None:
            raise ValueError(f"Blind: input {i} maps to the identity (InvalidInputError)")
        elements.append(element)
    return Blinded(chosen, elements)


def blind_evaluate_batch(secret: bytes, elements: Sequence[bytes]) -> list[bytes]:
    """BlindEvaluate for each element; raises InvalidElement at the first one that is not
    a canonical encoding of a group element other than the identity."""
    out: list[bytes] = []
    for i, element in enumerate(elements):
        evaluated = _sodium.scalarmult(secret, element)
        if evaluated is None:
            raise InvalidElement(i)
        out.append(evaluated)
    return out


def _invert_all(scalars: Sequence[bytes]) -> list[bytes]:
    """Every inverse for the price of one inversion (Montgomery's trick): an inversion
    costs about as much as 40 multiplications."""
    if not scalars:
        return []
    prefix = [scalars[0]]
    for s in scalars[1:]:
        prefix.append(_sodium.scalar_mul(prefix[-1], s))
    running = _sodium.scalar_invert(prefix[-1])
    if running is None:
        raise ValueError("Finalize: a blind is zero")
    inverses = [b""] * len(scalars)
    for i in range(len(scalars) - 1, 0, -1):
        inverses[i] = _sodium.scalar_mul(running, prefix[i - 1])
        running = _sodium.scalar_mul(running, scalars[i])
    inverses[0] = running
    return inverses


def finalize_batch(
    inputs: Sequence[bytes], blinds: Sequence[bytes], evaluated: Sequence[bytes]
) -> list[bytes]:
    """Finalize each input: SHA-512 of the input and its unblinded element (64 bytes
    each). Raises InvalidElement for an evaluated element that is not a group element."""
    if not len(inputs) == len(blinds) == len(evaluated):
        raise ValueError("Finalize: one blind and one evaluated element per input")
    out: list[bytes] = []
    for i, inverse in enumerate(_invert_all(blinds)):
        unblinded = _sodium.scalarmult(inverse, evaluated[i])
        if unblinded is None:
            raise InvalidElement(i)
        out.append(_finalize_hash(inputs[i], unblinded))
    return out


def _finalize_hash(value: bytes, unblinded: bytes) -> bytes:
    _check_input(value)
    return hashlib.sha512(
        i2osp(len(value), 2) + value + i2osp(ELEMENT_BYTES, 2) + unblinded + b"Finalize"
    ).digest()


def blind(value: bytes, blind_scalar: bytes | None = None) -> tuple[bytes, bytes]:
    """Blind (RFC 9497 section 3.3.1): (blind, blindedElement)."""
    blinded = blind_batch([value], None if blind_scalar is None else [blind_scalar])
    return blinded.blinds[0], blinded.elements[0]


def blind_evaluate(secret: bytes, blinded_element: bytes) -> bytes:
    """BlindEvaluate (RFC 9497 section 3.3.1): skS * blindedElement."""
    return blind_evaluate_batch(secret, [blinded_element])[0]


def finalize(value: bytes, blind_scalar: bytes, evaluated_element: bytes) -> bytes:
    """Finalize (RFC 9497 section 3.3.1): the 64-byte PRF output."""
    return finalize_batch([value], [blind_scalar], [evaluated_element])[0]


def evaluate(secret: bytes, value: bytes) -> bytes:
    """Evaluate (RFC 9497 section 3.3.1): the PRF computed by the key's holder, without
    blinding; equal to Finalize's output for the same input."""
    _check_input(value)
    element = _sodium.scalarmult(secret, hash_to_group(value))
    if element is None:
        raise ValueError("Evaluate: the input maps to the identity (InvalidInputError)")
    return _finalize_hash(value, element)
