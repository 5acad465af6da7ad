"""The linkage key: a secret shared by the parties to an agreement, never by the hub.

Every party encodes with the same key so that encodings of the same person compare; the
hub sees only the key's fingerprint, which lets it check that all packages used one key
without learning it.

Key file format (text, owner-only permissions)::

    boldhub-linkage-key v1
    <64 hex digits>
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from boldhub.errors import InputFileError, UserError

_HEADER = "boldhub-linkage-key v1"


@dataclass(frozen=True)
class LinkageKey:
    secret: bytes

    @property
    def fingerprint(self) -> str:
        """A public, non-reversible name for the key: that of the key service's public
        element for this seed (keyservice.protocol), which a party's client computes from
        the element the service publishes, without the key."""
        from boldhub.keyservice import oprf, protocol

        public = oprf.derive_key_pair(self.secret, protocol.key_info()).public
        return protocol.fingerprint(public)

    def subkey(self, purpose: str) -> bytes:
        """Domain separation: each field and use gets its own derived key."""
        return hmac.new(self.secret, b"boldhub/v1/" + purpose.encode(), hashlib.sha256).digest()

    def __repr__(self) -> str:  # never print the secret, even by accident
        return f"LinkageKey(fingerprint={self.fingerprint})"


def create_key(path: Path, *, overwrite: bool = False, secret: bytes | None = None) -> LinkageKey:
    """Write a new random key to ``path`` with owner-only permissions (0600). ``secret``
    gives the key's 32 bytes instead: the demo derives its key from its seed, so that one
    seed gives one output; every real key comes from the operating system's generator."""
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists; choose another --out or delete it first")
    key = LinkageKey(secrets.token_bytes(32) if secret is None else secret)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Create with 0600 from the start: a chmod after writing leaves a window.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(f"{_HEADER}\n{key.secret.hex()}\n")
    path.chmod(0o600)
    return key


def load_key(path: Path) -> LinkageKey:
    if not path.is_file():
        raise InputFileError(f"key file {path} not found; create one with `boldhub keys create`")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InputFileError(
            f"key file {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
        )
    try:
        lines = path.read_text(encoding="ascii").split()
    except (UnicodeDecodeError, OSError) as exc:
        raise InputFileError(f"key file {path} is not a BOLD Hub key file ({exc})") from exc
    if len(lines) != 3 or " ".join(lines[:2]) != _HEADER:
        raise InputFileError(
            f"key file {path} is not a BOLD Hub key file; make one with `boldhub keys create`"
        )
    try:
        secret = bytes.fromhex(lines[2])
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise InputFileError(f"key file {path} is damaged (the key is not 64 hex digits)")
    return LinkageKey(secret)
