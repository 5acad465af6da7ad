"""`boldhub synth`: a synthetic population with known truth."""

from __future__ import annotations

from pathlib import Path

import typer

from boldhub.cli.progress import bar, stdout
from boldhub.synth import generate


def synth(
    out: Path = typer.Option(..., "--out", help="Folder for the exports and truth.csv."),
    persons: int = typer.Option(14_000, "--persons", help="People in the population."),
    councils: int = typer.Option(3, "--councils", help="Council areas they live in (1-10)."),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed gives the same files."),
    profile: str = typer.Option(
        "default",
        "--profile",
        help="Error profile: default, clean (no recording errors) or hard (defaulted and "
        "missing dates of birth, no fixed abode, reversed names...; docs/synth.md).",
    ),
) -> None:
    """Write one homelessness export per council, national probation, treatment and victims
    exports, and truth.csv (source, source_row_id, person_id)."""
    with bar("synthesising people", persons) as advance:
        done = [0]

        def progress(n: int, _total: int) -> None:
            advance(n - done[0])
            done[0] = n

        summary = generate(
            out, persons=persons, councils=councils, seed=seed, progress=progress, profile=profile
        )
    for source, n in summary.records.items():
        stdout.print(f"{source}: {n} records -> {summary.files[source]}")
    stdout.print(f"truth: {summary.truth} ({sum(summary.records.values())} rows)")
