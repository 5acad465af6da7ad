"""`boldhub sample`: what a council would get back, before it joins."""

from __future__ import annotations

from pathlib import Path

import typer

from boldhub.cli.progress import stdout, steps
from boldhub.sample import SAMPLE_PERSONS, SAMPLE_SEED, build_sample


def sample(
    council: str = typer.Option(
        ..., "--council", help="Your council's GSS code, such as E06000023 (Bristol)."
    ),
    out: Path = typer.Option(..., "--out", help="New folder for the sample's pages and files."),
    persons: int = typer.Option(
        SAMPLE_PERSONS, "--persons", help="People in the synthetic population."
    ),
    seed: int = typer.Option(SAMPLE_SEED, "--seed", help="Random seed."),
) -> None:
    """Build a sample release from synthetic data for a council that has not joined: its
    dashboard beside the national benchmark, and the CSV files, exactly as a real release
    would give them, every page marked as synthetic. No real data is read."""
    with steps("linking a synthetic population and building its release"):
        files = build_sample(out, council, persons=persons, seed=seed)
    code = council.strip().upper()
    stdout.print(f"sample for {code}: {out / f'{code}.html'}")
    stdout.print(f"files: {len(files)} in {out}")
