"""Rich progress bars, written to stderr so stdout stays for results."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

stderr = Console(stderr=True)
stdout = Console(highlight=False, soft_wrap=True)


@contextmanager
def bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A bar that advances by the count it is called with."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
        progress.update(task, completed=total if total is not None else 1, total=total or 1)


@contextmanager
def steps(description: str) -> Iterator[Callable[[str], None]]:
    """A spinner whose text names the current step of a longer job."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr
    ) as progress:
        task = progress.add_task(description, total=None)
        yield lambda step: progress.update(task, description=f"{description}: {step}")
        progress.update(task, description=f"{description}: done", total=1, completed=1)
