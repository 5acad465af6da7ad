"""What the encoder needs from the key service: a keyed function evaluated on values it
never shows to anyone.

Since scheme v5 no party holds a key that encodes offline. Every keyed value of an
encoding derives from ``evaluate(domain, values)``: a pseudorandom function of the
agreement's secret, of the domain and of each value, computed by the key service as an
oblivious PRF (RFC 9497), so that the service never sees the values and the party never
sees the secret. ``boldhub.keyservice`` implements it, over HTTP and in process (the demo
and the tests run the service locally).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Protocol

# Bytes of each output of ``evaluate``.
OUTPUT_BYTES = 32


class KeyedFunction(Protocol):
    @property
    def fingerprint(self) -> str:
        """32 hex digits naming the secret (derived from the service's public key), which
        packages carry and the hub checks against the agreement."""
        ...

    def evaluate(self, domain: str, values: Sequence[bytes]) -> list[bytes]:
        """``OUTPUT_BYTES`` bytes for each value, in order: PRF(secret, domain, value).
        Equal (domain, value) give equal outputs for every party of the agreement; each
        value counts against the party's quota at the key service."""
        ...


class ThrowawayPRF:
    """A keyed function under a key that exists only in this process and is then lost.

    For measurements on data that never leaves the machine (``boldhub evaluate``, the
    benchmarks): HMAC-SHA256 in place of the key service's oblivious PRF gives encodings of
    the same structure, without elliptic-curve work per value. Nothing encoded with it can
    be linked to anything else, because nobody else can ever hold its key. Packages for the
    hub are never made with it (council/encode.py takes the key service).
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secrets.token_bytes(32) if secret is None else secret

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(b"boldhub/throwaway\x00" + self._secret).hexdigest()[:32]

    def evaluate(self, domain: str, values: Sequence[bytes]) -> list[bytes]:
        prefix = b"boldhub/v5\x00" + domain.encode() + b"\x00"
        return [hmac.digest(self._secret, prefix + v, "sha256") for v in values]
