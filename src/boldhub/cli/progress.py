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
        try:
            yield lambda n: progress.advance(task, n)
        except BaseException:
            # A failed command prints one line saying why, not a half-finished bar.
            progress.update(task, visible=False)
            progress.live.transient = True
            raise
        progress.update(task, completed=total if total is not None else 1, total=total or 1)


@contextmanager
def steps(description: str) -> Iterator[Callable[[str], None]]:
    """A spinner whose text names the current step of a longer job."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr
    ) as progress:
        task = progress.add_task(description, total=None)
        try:
            yield lambda step: progress.update(task, description=f"{description}: {step}")
        except BaseException:
            progress.update(task, visible=False)
            progress.live.transient = True
            raise
        progress.update(task, description=f"{description}: done", total=1, completed=1)
