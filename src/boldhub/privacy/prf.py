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
