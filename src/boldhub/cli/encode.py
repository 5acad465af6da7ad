"""`boldhub encode` and `boldhub keys`: run on a data provider's machine.

Key rotation: `boldhub keys create --out new.key`, share it with the parties, tell the hub
its fingerprint (`boldhub agreement rotate-key`), then encode again with `--key new.key`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import typer

from boldhub.cli.options import AGREEMENT_FILE, SIGNING_KEY
from boldhub.cli.progress import bar, stdout
from boldhub.council import encode as encode_mod
from boldhub.council import prepare as prepare_mod
from boldhub.errors import UserError
from boldhub.keyservice import HttpTransport, OprfClient
from boldhub.privacy import keys as keys_mod
from boldhub.privacy import signing
from boldhub.privacy.agreement import load_agreement
from boldhub.privacy.keys import LinkageKey
from boldhub.privacy.prf import KeyedFunction

keys_app = typer.Typer(no_args_is_help=True)


def encode(
    prepared_dir: Path = typer.Argument(..., help="A folder written by `boldhub prepare`."),
    key: Path | None = typer.Option(
        None,
        "--key",
        help="The agreement's linkage key file: the key service runs in this process from "
        "it (the demo and tests do this). Give --key-service instead when the agreement's "
        "key service runs apart.",
    ),
    key_service: str | None = typer.Option(
        None,
        "--key-service",
        help="URL of the agreement's key service (`boldhub keyservice serve`); your party's "
        "token in BOLDHUB_KEY_SERVICE_TOKEN.",
    ),
    key_service_token: str | None = typer.Option(
        None, "--key-service-token", envvar="BOLDHUB_KEY_SERVICE_TOKEN", hidden=True
    ),
    out: Path = typer.Option(..., "--out", help="New folder for the submission package."),
    signing_key: Path = SIGNING_KEY,
    agreement: Path = AGREEMENT_FILE,
) -> None:
    """Encode identifiers (scheme v6, secrets from the key service) and write a signed
    package for the hub."""
    if (key is None) == (key_service is None):
        raise UserError("give either --key (a key file) or --key-service (its URL), not both")
    signer = signing.load_signing_key(signing_key)
    spec = load_agreement(agreement)
    linkage_key: LinkageKey | KeyedFunction
    if key_service is not None:
        if not key_service_token:
            raise UserError("--key-service needs your party's token: set BOLDHUB_KEY_SERVICE_TOKEN")
        linkage_key = OprfClient(HttpTransport(key_service, key_service_token, spec.id))
    else:
        assert key is not None
        linkage_key = keys_mod.load_key(key)
    prepare_mod.read_meta(prepared_dir)
    total = pq.ParquetFile(prepared_dir / prepare_mod.PREPARED_FILE).metadata.num_rows
    with bar(f"encoding {prepared_dir.name}", total) as advance:
        result = encode_mod.encode(
            prepared_dir, linkage_key, out, agreement=spec, signing_key=signer, progress=advance
        )
    stdout.print(f"package: {result.package} records={result.records} source={result.source}")
    stdout.print(f"keymap kept locally: {result.keymap}")
    asked = " ".join(f"{d}={n}" for d, n in result.evaluations.items())
    stdout.print(f"key service evaluations: {asked or 'none'}")
    if result.withheld:
        stdout.print(
            f"left out: {result.withheld} rows without consent ({result.withheld_by}): "
            "neither linked nor counted"
        )


@keys_app.command("create")
def keys_create(
    out: Path = typer.Option(..., "--out", help="Where to write the new key file (mode 0600)."),
) -> None:
    """Create a new random linkage key; share it with the agreement's parties, never the hub."""
    key = keys_mod.create_key(out)
    stdout.print(f"key: {out} fingerprint={key.fingerprint}")


@keys_app.command("fingerprint")
def keys_fingerprint(key: Path = typer.Argument(..., help="A key file.")) -> None:
    """Print a key's public fingerprint (what packages carry instead of the key)."""
    stdout.print(keys_mod.load_key(key).fingerprint)


@keys_app.command("create-signing")
def keys_create_signing(
    out: Path = typer.Option(
        ...,
        "--out",
        help="Where to write the private signing key (mode 0600); the public "
        "key goes beside it as OUT.pub.",
    ),
) -> None:
    """Create your organisation's Ed25519 signing key; register OUT.pub with the hub."""
    key = signing.create_signing_key(out)
    stdout.print(f"signing key: {out} (keep it here)")
    stdout.print(f"public key: {signing.public_path(out)} id={signing.key_id(key.public_key())}")
    stdout.print(signing.public_key_text(key.public_key()))


@keys_app.command("public")
def keys_public(signing_key: Path = typer.Argument(..., help="A signing key file.")) -> None:
    """Print the public key of a signing key (the text the agreement registers)."""
    stdout.print(signing.public_key_text(signing.load_signing_key(signing_key).public_key()))
