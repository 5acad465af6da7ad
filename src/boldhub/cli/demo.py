"""`boldhub demo`: the whole pipeline on synthetic data, with progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from boldhub.cli.progress import stderr, stdout
from boldhub.demo import Reporter, run_demo


class RichReporter(Reporter):
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def bar(self, description: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(description, total=total)
        self.tasks[description] = task
        return lambda n: self.progress.advance(task, n)

    def done(self, description: str) -> None:
        task = self.tasks[description]
        total = self.progress.tasks[task].total
        self.progress.update(task, completed=total)

    def step(self, description: str) -> Callable[[str], None]:
        task = self.progress.add_task(description, total=None)

        def on_step(name: str) -> None:
            self.progress.update(task, description=f"{description}: {name}")

        return on_step

    def line(self, text: str) -> None:
        self.progress.console.print(text)


def demo(
    out: Path = typer.Option(
        ..., "--out", help="New folder for the council side, the hub and the reports."
    ),
    seed: int = typer.Option(42, "--seed", help="Random seed for the synthetic population."),
    persons: int = typer.Option(14_000, "--persons", help="People in the synthetic population."),
    councils: int = typer.Option(3, "--councils", help="Council areas (1-10)."),
) -> None:
    """synth -> prepare -> encode -> ingest -> link -> report, then score against the truth."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
    ) as progress:
        try:
            result = run_demo(
                out, seed=seed, persons=persons, councils=councils, reporter=RichReporter(progress)
            )
        except BaseException:
            for task in progress.tasks:
                progress.update(task.id, visible=False)
            progress.live.transient = True
            raise
        for task in progress.tasks:
            if not task.finished:
                progress.update(task.id, total=1, completed=1)
    stdout.print(f"records linked: {result.records}; persons found: {result.persons}")
    stdout.print(f"council side: {out / 'council'}")
    stdout.print(f"hub home: {out / 'hub'}")
    stdout.print(f"reports: {out / 'reports' / 'index.html'}")
    s = result.scores
    stdout.print(f"linkage: precision={s.precision:.4f} recall={s.recall:.4f} f1={s.f1:.4f}")
