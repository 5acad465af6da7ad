"""`boldhub prepare`: runs on a data provider's machine."""

from __future__ import annotations

from pathlib import Path

import typer

from boldhub.cli.progress import bar, stdout
from boldhub.council import prepare as prepare_mod
from boldhub.council.read import read_export


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
