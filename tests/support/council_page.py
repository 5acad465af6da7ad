"""Keys, an agreement and a running `boldhub council` page, for the council page's tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from boldhub.council.encode import encode
from boldhub.privacy.agreement import load_agreement
from boldhub.privacy.keys import create_key
from boldhub.privacy.signing import create_signing_key, public_key_text

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_council(workdir: Path, keys: Keys, *extra: str) -> Iterator[str]:
    """The real `boldhub council` in a subprocess on a free loopback port."""
    port = free_port()
    log_path = workdir.parent / f"council-{port}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "boldhub.cli.main", "council", *keys.args(),
                "--workdir", str(workdir), "--port", str(port), "--no-open", *extra,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"boldhub council did not start: {log_path.read_text()[-2000:]}"
                    )
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
