"""The benchmarks' keyed function: ``ThrowawayPRF`` under a fixed benchmark key.

The attacks and F1 figures depend on which records share which encodings, not on how each
secret was obtained, so HMAC-SHA256 stands in for the key service's oblivious PRF here and
an attack run does not spend minutes on elliptic-curve arithmetic.
"""

from __future__ import annotations

from boldhub.privacy.prf import ThrowawayPRF


def DirectPRF(secret: bytes) -> ThrowawayPRF:
    return ThrowawayPRF(secret)
