"""Keys, an agreement and a running `boldhub council` page, for the council page's tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from boldhub.council.encode import encode
from boldhub.privacy.agreement import load_agreement
from boldhub.privacy.keys import create_key
from boldhub.privacy.signing import create_signing_key, public_key_text
from tests.support.server import free_port, running_boldhub

COUNCIL = "E08000025"


@dataclass(frozen=True)
class Keys:
    key: Path
    signing_key: Path
    agreement: Path

    def args(self) -> list[str]:
        return [
            "--key", str(self.key),
            "--signing-key", str(self.signing_key),
            "--agreement", str(self.agreement),
        ]  # fmt: skip

    def writer(self):  # type: ignore[no-untyped-def]
        """The package writer `boldhub council` builds, for in-process app tests."""
        from boldhub.privacy.keys import load_key
        from boldhub.privacy.signing import load_signing_key

        key, signer = load_key(self.key), load_signing_key(self.signing_key)
        spec = load_agreement(self.agreement)

        def write(prepared: Path, out: Path) -> None:
            encode(prepared, key, out, agreement=spec, signing_key=signer)

        return write, key.fingerprint


def make_keys(folder: Path, organisation: str = COUNCIL) -> Keys:
    folder.mkdir(parents=True, exist_ok=True)
    key = create_key(folder / "linkage.key")
    signer = create_signing_key(folder / "signing.key")
    agreement = folder / "agreement.json"
    agreement.write_text(
        json.dumps(
            {
                "id": "council-page-test",
                "linkage_key_fingerprint": key.fingerprint,
                "parties": [
                    {
                        "organisation": organisation,
                        "signing_key": public_key_text(signer.public_key()),
                    }
                ],
            }
        )
    )
    return Keys(folder / "linkage.key", folder / "signing.key", agreement)


@contextmanager
def running_council(workdir: Path, keys: Keys, *extra: str) -> Iterator[str]:
    """The real `boldhub council` in a subprocess on a free loopback port."""
    port = free_port()
    args = [
        "council", *keys.args(),
        "--workdir", str(workdir), "--port", str(port), "--no-open", *extra,
    ]  # fmt: skip
    with running_boldhub(args, port, workdir.parent / f"council-{port}.log", "/") as url:
        yield url
