"""The key service: keyed values for the encoder without any party holding the key.

An oblivious PRF (RFC 9497, OPRF(ristretto255, SHA-512), mode 0x00): the service holds
one key per agreement and evaluates blinded elements, within each party's quota, on a
hash-chained audit; ``OprfClient`` is the encoder's ``boldhub.privacy.prf.KeyedFunction``.
docs/keyservice.md describes the protocol, what the service sees, and how to run it.

    oprf.py      the RFC's functions (libsodium through _sodium.py)
    protocol.py  what client and service agree on: key info, PRF input, fingerprint, sizes
    service.py   KeyService: keys, parties, quotas, audit (one SQLite file)
    client.py    OprfClient, HttpTransport, LocalTransport, local_key_function
    app.py       the HTTP API (FastAPI)
"""

from boldhub.keyservice.client import (
    HttpTransport,
    LocalTransport,
    OprfClient,
    Transport,
    local_key_function,
)
from boldhub.keyservice.service import KeyService

__all__ = [
    "HttpTransport",
    "KeyService",
    "LocalTransport",
    "OprfClient",
    "Transport",
    "local_key_function",
]
