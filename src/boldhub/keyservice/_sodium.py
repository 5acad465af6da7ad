"""libsodium's ristretto255 functions, called through cffi.

PyNaCl bundles libsodium but exposes none of its ristretto255 functions, so these come
from the system's libsodium (1.0.18 or newer; Debian's ``libsodium23``), loaded once with
cffi's ABI mode. cffi releases the GIL for every call, and each call costs well under a
microsecond next to the tens of microseconds of a scalar multiplication.

Every function takes and returns ``bytes``; a failure libsodium reports (an encoding that
is not a group element, a product that is the identity) comes back as ``None``. libsodium
reads a fixed number of bytes behind each pointer, so every length is checked here first:
an element of the wrong length is not an element (None), a scalar or hash of the wrong
length is a bug (ValueError).
"""

from __future__ import annotations

import ctypes.util
from functools import cache
from typing import Any

from cffi import FFI

from boldhub.errors import SodiumMissing

ELEMENT_BYTES = 32
SCALAR_BYTES = 32
HASH_BYTES = 64

_CDEF = """
int sodium_init(void);
const char *sodium_version_string(void);
int crypto_core_ristretto255_from_hash(unsigned char *p, const unsigned char *r);
int crypto_core_ristretto255_is_valid_point(const unsigned char *p);
int crypto_scalarmult_ristretto255(unsigned char *q, const unsigned char *n,
                                   const unsigned char *p);
int crypto_scalarmult_ristretto255_base(unsigned char *q, const unsigned char *n);
void crypto_core_ristretto255_scalar_random(unsigned char *r);
int crypto_core_ristretto255_scalar_invert(unsigned char *recip, const unsigned char *s);
void crypto_core_ristretto255_scalar_mul(unsigned char *z, const unsigned char *x,
                                         const unsigned char *y);
void crypto_core_ristretto255_scalar_reduce(unsigned char *r, const unsigned char *s);
"""

# Tried after the name the dynamic linker's cache gives: sonames of the releases that
# have ristretto255 (1.0.18 on), and macOS's.
_NAMES = ("libsodium.so.26", "libsodium.so.23", "libsodium.dylib")


@cache
def _lib() -> tuple[FFI, Any]:
    ffi = FFI()
    ffi.cdef(_CDEF)
    found = ctypes.util.find_library("sodium")
    for name in (found, *_NAMES) if found else _NAMES:
        try:
            lib = ffi.dlopen(name)
            # Resolving one ristretto255 symbol now, not at the first call, tells a
            # libsodium older than 1.0.18 apart from a usable one.
            lib.crypto_core_ristretto255_from_hash  # noqa: B018
        except (OSError, AttributeError):
            continue
        if lib.sodium_init() < 0:
            continue
        return ffi, lib
    raise SodiumMissing(
        "the key service needs libsodium 1.0.18 or newer and none was found; install it "
        "(Debian and Ubuntu: apt-get install libsodium23; macOS: brew install libsodium)"
    )


def _check(value: bytes, size: int, what: str) -> None:
    if len(value) != size:
        raise ValueError(f"a {what} is {size} bytes, not {len(value)}")


def version() -> str:
    ffi, lib = _lib()
    return str(ffi.string(lib.sodium_version_string()).decode())


def from_hash(uniform: bytes) -> bytes:
    """The ristretto255 element of 64 uniform bytes (the RFC 9380 map, one-way)."""
    _check(uniform, HASH_BYTES, "hash")
    ffi, lib = _lib()
    out = ffi.new("unsigned char[32]")
    lib.crypto_core_ristretto255_from_hash(out, uniform)
    return bytes(ffi.buffer(out))


def scalarmult(scalar: bytes, element: bytes) -> bytes | None:
    """``scalar * element``; None when ``element`` is not a canonical encoding of a group
    element or the product is the identity."""
    _check(scalar, SCALAR_BYTES, "scalar")
    if len(element) != ELEMENT_BYTES:
        return None
    ffi, lib = _lib()
    out = ffi.new("unsigned char[32]")
    if lib.crypto_scalarmult_ristretto255(out, scalar, element) != 0:
        return None
    return bytes(ffi.buffer(out))


def scalarmult_base(scalar: bytes) -> bytes | None:
    _check(scalar, SCALAR_BYTES, "scalar")
    ffi, lib = _lib()
    out = ffi.new("unsigned char[32]")
    if lib.crypto_scalarmult_ristretto255_base(out, scalar) != 0:
        return None
    return bytes(ffi.buffer(out))


def is_valid_element(element: bytes) -> bool:
    _, lib = _lib()
    return len(element) == ELEMENT_BYTES and bool(
        lib.crypto_core_ristretto255_is_valid_point(element)
    )


def scalar_random() -> bytes:
    """A uniformly random non-zero scalar."""
    ffi, lib = _lib()
    out = ffi.new("unsigned char[32]")
    lib.crypto_core_ristretto255_scalar_random(out)
    return bytes(ffi.buffer(out))


def scalar_invert(scalar: bytes) -> bytes | None:
    _check(scalar, SCALAR_BYTES, "scalar")
    ffi, lib = _lib()
    out = ffi.new("unsigned char[32]")
    if lib.crypto_core_ristretto255_scalar_invert(out, scalar) != 0:
        return None
    return bytes(ffi.buffer(out))


def scalar_mul(x: bytes, y: bytes) -> bytes:
    _check(x, SCALAR_BYTES, "scalar")
    _check(y, SCALAR_BYTES, "scalar")
    ffi, lib = _lib()
    out = ffi.new("unsigned char[32]")
    lib.crypto_core_ristretto255_scalar_mul(out, x, y)
    return bytes(ffi.buffer(out))


def scalar_reduce(wide: bytes) -> bytes:
    """64 bytes, little-endian, reduced modulo the group order."""
    _check(wide, HASH_BYTES, "wide scalar")
    ffi, lib = _lib()
    out = ffi.new("unsigned char[32]")
    lib.crypto_core_ristretto255_scalar_reduce(out, wide)
    return bytes(ffi.buffer(out))
