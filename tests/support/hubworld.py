"""A small multi-organisation world for hub service tests: packages, users, tokens."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from boldhub.council.encode import encode
from boldhub.council.prepare import prepare
from boldhub.demo import Trust, create_trust, register_signed
from boldhub.hub.store import Hub
from boldhub.privacy import signing
from boldhub.privacy.keys import LinkageKey, create_key
from boldhub.privacy.package import ATTRIBUTES_FILE, MANIFEST_FILE, SIGNATURE_FILE, sha256_file
from boldhub.schemas import CENTRAL_BODIES, COUNCILS
from boldhub.synth import generate

COUNCIL_A = "E08000025"  # Birmingham
COUNCIL_B = "E06000023"  # Bristol
COUNCIL_ROLES = ("submitter", "dpo", "analyst", "linkage_operator", "output_checker", "admin")
HUB_ROLES = ("linkage_operator", "output_checker", "admin")
PASSWORD = "correct horse battery staple"


@dataclass
class Packages:
    root: Path
    key: LinkageKey
    trust: Trust
    by_source: dict[str, Path] = field(default_factory=dict)

    def register_agreement(self, hub: Hub) -> None:
        """The hub learns the agreement: parties, their signing keys, key fingerprint."""
        register_signed(hub, self.trust, actor="test")

    def package(self, source: str) -> Path:
        return self.by_source[source]

    def reencode(self, source: str, name: str) -> Path:
        """The same prepared data encoded again: a new package for the same period."""
        dataset, org = source.split(":", 1)
        out = self.root / name
        encode(
            self.root / f"{dataset}-{org}" / "prepared",
            self.key,
            out,
            agreement=self.trust.agreement,
            signing_key=self.trust.signing_keys[org],
        )
        return out


def build_packages(root: Path, persons: int = 400, seed: int = 11) -> Packages:
    summary = generate(root / "exports", persons=persons, councils=2, seed=seed)
    key = create_key(root / "linkage.key")
    # Every council and central body is a party, so tests can also build packages for
    # organisations whose data this population does not hold.
    orgs = [o.code for o in (*COUNCILS, *CENTRAL_BODIES)]
    packs = Packages(root, key, create_trust(root / "trust", key, orgs))
    for source, export in summary.files.items():
        dataset, org = source.split(":", 1)
        folder = root / f"{dataset}-{org}"
        prepare(export, dataset, folder / "prepared", org)
        encode(
            folder / "prepared",
            key,
            folder / "package",
            agreement=packs.trust.agreement,
            signing_key=packs.trust.signing_keys[org],
        )
        packs.by_source[source] = folder / "package"
    return packs


def tampered_copy(package: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(package, dest)
    data = bytearray((dest / "encodings.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (dest / "encodings.parquet").write_bytes(bytes(data))
    return dest


def as_format_2(package: Path, dest: Path, signing_key: Ed25519PrivateKey) -> Path:
    """A copy of ``package`` as a version 2 encoder wrote it: attributes without ``sex``,
    the manifest's hash and format version to match, signed again."""
    import shutil

    shutil.copytree(package, dest)
    attrs = dest / ATTRIBUTES_FILE
    pq.write_table(pq.read_table(attrs).drop_columns(["sex"]), attrs, compression="zstd")
    doc = manifest(dest)
    files = doc["files"]
    assert isinstance(files, dict)
    files[ATTRIBUTES_FILE]["sha256"] = sha256_file(attrs)
    doc["format_version"] = 2
    raw = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    (dest / MANIFEST_FILE).write_bytes(raw)
    (dest / SIGNATURE_FILE).write_text(signing.sign(signing_key, raw), encoding="ascii")
    return dest


def manifest(package: Path) -> dict[str, object]:
    result: dict[str, object] = json.loads((package / "manifest.json").read_text())
    return result


def unique_email(role: str, org: str) -> str:
    return f"{role}.{org.lower()}.{secrets.token_hex(2)}@example.gov.uk"


def postgres_url() -> str:
    return os.environ.get(
        "BOLDHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )


def tokens_for(hub: Hub, orgs: list[str], role: str = "submitter") -> dict[str, str]:
    """One user with ``role`` in each of ``orgs`` (no password), and an API token each."""
    from boldhub.hub.accounts import create_token, create_user

    tokens = {}
    with hub.sessions() as session, session.begin():
        for org in orgs:
            user = create_user(
                session,
                email=unique_email(role, org),
                name=role.replace("_", " ").title(),
                organisation=org,
                role=role,
                password=None,
                actor="test",
            )
            tokens[org] = create_token(session, user, "tests")
    return tokens
