"""What the key service and its clients agree on, besides RFC 9497 itself: how an
agreement's key is derived, how a (domain, value) becomes an OPRF input, how the key is
named, and how many elements one request may carry."""

from __future__ import annotations

import hashlib
import re

from boldhub.keyservice import _sodium, oprf

# DeriveKeyPair's info. The seed alone names the key, so that the fingerprint that
# agreements, packages and `boldhub keys fingerprint` carry is the key file's, whatever
# the agreement (each agreement gets its own seed from `boldhub keys create`).
KEY_INFO_PREFIX = b"boldhub-keyservice/v1"
# The OPRF input of evaluate(domain, value); the zero bytes keep (domain, value) pairs
# apart ("ab" + "c" is not "a" + "bc"), so a domain may not contain one.
INPUT_PREFIX = b"boldhub/v6\x00"
# Each domain is evaluated under its own key, the agreement's scalar times a scalar of the
# domain's name, so that a request's domain (sent in clear: it is not personal) is enforced
# by the arithmetic: a request that names one domain and carries another's values gets
# outputs that match nothing, and so a quota per domain holds.
DOMAIN_KEY_DST = b"boldhub/domain-key/v1"
_DOMAIN = re.compile(r"[a-z][a-z0-9-]{0,47}")
FINGERPRINT_PREFIX = b"boldhub/key-fingerprint/v3\x00"
# Bytes of an evaluate() output: the first half of Finalize's SHA-512.
OUTPUT_BYTES = 32

# Elements per request: the service refuses more (413); the client sends this many.
MAX_BATCH = 50_000
DEFAULT_BATCH = 20_000
# A request body over this size is cut off unread: 2 hex digits a byte, quotes, commas.
MAX_BODY_BYTES = MAX_BATCH * (2 * oprf.ELEMENT_BYTES + 4) + 4096

SUITE = "OPRF(ristretto255, SHA-512)"


def key_info(agreement: str = "") -> bytes:
    """DeriveKeyPair's info (the same for every agreement: see KEY_INFO_PREFIX)."""
    return KEY_INFO_PREFIX


def fingerprint(public_key: bytes) -> str:
    """32 hex digits naming an agreement's key, computed from its public element: anyone
    can check it, nobody can evaluate with it."""
    return hashlib.sha256(FINGERPRINT_PREFIX + public_key).hexdigest()[:32]


def prf_input(domain: str, value: bytes) -> bytes:
    if "\x00" in domain:
        raise ValueError("a PRF domain may not contain a zero character")
    return INPUT_PREFIX + domain.encode("utf-8") + b"\x00" + value


def domain_problem(domain: object) -> str | None:
    """What is wrong with a request's domain name, or None."""
    if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
        return (
            "the domain must be a name of lower-case letters, digits and hyphens "
            "(such as dob-salt), at most 48 characters"
        )
    return None


def domain_secret(secret: bytes, domain: str) -> bytes:
    """The scalar that evaluates ``domain``: the agreement's scalar times the domain's."""
    return _sodium.scalar_mul(secret, oprf.hash_to_scalar(domain.encode(), dst=DOMAIN_KEY_DST))
