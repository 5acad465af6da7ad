"""Signing keys: each submitting organisation signs its package manifests with Ed25519.

The private key stays with the organisation (a PKCS#8 PEM file, owner-only permissions);
the public key is registered with the hub in the agreement. The hub accepts a package
only when ``manifest.sig`` is a valid signature of the exact bytes of ``manifest.json``
by the registered key of the organisation the manifest names.

Public keys travel as text: ``ed25519:`` followed by the base64 of the 32 raw bytes.
A key's id is the first 16 hex digits of the SHA-256 of those bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from boldhub.errors import InputFileError, UserError

PUBLIC_PREFIX = "ed25519:"
SIGNATURE_HEADER = "boldhub-ed25519-signature v1"


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its ``ed25519:<base64>`` text."""
    if not isinstance(text, str) or not text.startswith(PUBLIC_PREFIX):
        raise UserError(f"a signing public key must look like {PUBLIC_PREFIX}<base64>")
    try:
        raw = base64.b64decode(text[len(PUBLIC_PREFIX) :], validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        raise UserError("a signing public key must be 32 bytes of base64 after 'ed25519:'")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def create_signing_key(path: Path, *, overwrite: bool = False) -> Ed25519PrivateKey:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) and its public key beside it
    (``<path>.pub``, the text to register with the hub)."""
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists; choose another --out or delete it first")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    path.chmod(0o600)
    public_path(path).write_text(public_key_text(key.public_key()) + "\n", encoding="ascii")
    return key


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    if not path.is_file():
        raise InputFileError(
            f"signing key {path} not found; create one with `boldhub keys create-signing`"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InputFileError(
            f"signing key {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputFileError(
            f"{path} is not an Ed25519 signing key; make one with `boldhub keys create-signing`"
        )
    return key


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    """The text of a detached signature file over ``data``."""
    signer = key_id(key.public_key())
    sig = base64.b64encode(key.sign(data)).decode("ascii")
    return f"{SIGNATURE_HEADER}\nkey-id: {signer}\nsignature: {sig}\n"


def verify(public: Ed25519PublicKey, data: bytes, signature_text: str) -> bool:
    """Whether ``signature_text`` (a signature file) is a valid signature of ``data``."""
    lines = signature_text.strip().splitlines()
    if len(lines) != 3 or lines[0] != SIGNATURE_HEADER or not lines[2].startswith("signature: "):
        return False
    try:
        raw = base64.b64decode(lines[2].removeprefix("signature: "), validate=True)
        public.verify(raw, data)
    except (binascii.Error, InvalidSignature, ValueError):
        return False
    return True
