"""A keyed function computed directly from a key, for measurements only.

The attacks and F1 figures of the privacy benchmarks depend on which records share which
encodings, not on how each secret was obtained: HMAC-SHA256 under a benchmark key stands in
for the key service's oblivious PRF here, so that an attack run does not spend minutes on
elliptic-curve arithmetic. BOLD Hub itself never encodes this way (``boldhub.keyservice``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


class DirectPRF:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(b"benchmark\x00" + self._secret).hexdigest()[:32]

    def evaluate(self, domain: str, values: Sequence[bytes]) -> list[bytes]:
        prefix = b"boldhub/v5\x00" + domain.encode() + b"\x00"
        return [hmac.digest(self._secret, prefix + v, "sha256") for v in values]
