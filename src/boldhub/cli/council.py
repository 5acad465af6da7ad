"""Commands that run on a data provider's machine: prepare, encode, keys."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import typer

from boldhub.cli.progress import bar, stdout
from boldhub.council import encode as encode_mod
from boldhub.council import prepare as prepare_mod
from boldhub.council.read import read_export
from boldhub.privacy import keys as keys_mod

keys_app = typer.Typer(no_args_is_help=True)


def prepare(
    file: Path = typer.Argument(..., help="The export file (CSV)."),
    dataset: str = typer.Option(
        ..., "--dataset", help="homelessness, probation, treatment or victims."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Folder for prepared.parquet, quarantine.csv, meta.json."
    ),
    org: str | None = typer.Option(
        None,
        "--org",
        help="Submitting organisation's code (a council's GSS code; central bodies default).",
    ),
) -> None:
    """Standardise and validate an export. Prints `rows: input=N accepted=A quarantined=Q`."""
    total = len(read_export(file).rows)
    with bar(f"preparing {file.name}", total) as advance:
        result = prepare_mod.prepare(file, dataset, out, org, progress=advance)
    stdout.print(
        f"rows: input={result.input_rows} accepted={result.accepted} quarantined={result.quarantined}"
    )


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
