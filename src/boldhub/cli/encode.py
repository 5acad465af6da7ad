"""`boldhub encode` and `boldhub keys`: run on a data provider's machine."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import typer

from boldhub.cli.progress import bar, stdout
from boldhub.council import encode as encode_mod
from boldhub.council import prepare as prepare_mod
from boldhub.privacy import keys as keys_mod

keys_app = typer.Typer(no_args_is_help=True)


def encode(
    prepared_dir: Path = typer.Argument(..., help="A folder written by `boldhub prepare`."),
    key: Path = typer.Option(..., "--key", help="The agreement's linkage key file."),
    out: Path = typer.Option(..., "--out", help="New folder for the submission package."),
) -> None:
    """Encode identifiers with the linkage key and write a package for the hub."""
    linkage_key = keys_mod.load_key(key)
    prepare_mod.read_meta(prepared_dir)
    total = pq.ParquetFile(prepared_dir / prepare_mod.PREPARED_FILE).metadata.num_rows
    with bar(f"encoding {prepared_dir.name}", total) as advance:
        result = encode_mod.encode(prepared_dir, linkage_key, out, progress=advance)
    stdout.print(f"package: {result.package} records={result.records} source={result.source}")
    stdout.print(f"keymap kept locally: {result.keymap}")


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
