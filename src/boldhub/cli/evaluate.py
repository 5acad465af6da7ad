"""`boldhub evaluate`: linkage quality on the operator's own labelled sample."""

from __future__ import annotations

from pathlib import Path

import typer

from boldhub.cli.progress import stdout, steps
from boldhub.config import get_settings
from boldhub.evaluation import evaluate as run_evaluation


def evaluate(
    file: Path = typer.Argument(
        ...,
        help="CSV of identifiers (forename, surname, dob; sex, postcode, nhs_number, "
        "ni_number, other_names, source when present) with a true person id column.",
    ),
    truth_column: str = typer.Option(
        ..., "--truth-column", help="Column holding the true person id."
    ),
    out: Path = typer.Option(
        ..., "--out", help="CSV to write: row (1 = first data row), person_key."
    ),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        help="Match probability to cluster at (default BOLDHUB_LINKAGE_THRESHOLD).",
    ),
) -> None:
    """Link a labelled sample on encodings and with clear-text Splink; print any column
    that could not be used, recall by group for both, and both F1s."""
    chosen = get_settings().linkage_threshold if threshold is None else threshold
    with steps("evaluating"):
        result = run_evaluation(file, truth_column, out, threshold=chosen)
    if result.ignored:
        stdout.print(f"{file.name}: {result.ignored}")
    for line in result.group_lines():
        stdout.print(line)
    b, s = result.boldhub.scores, result.splink.scores
    stdout.print(
        f"rows={result.rows} boldhub: precision={b.precision:.4f} recall={b.recall:.4f}; "
        f"splink: precision={s.precision:.4f} recall={s.recall:.4f}; out={out}"
    )
    stdout.print(result.line())
