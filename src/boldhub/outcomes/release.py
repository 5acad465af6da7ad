"""One release: every indicator's tables, protected once, written as the tidy CSV files,
and the dashboards rendered from those files.

The dashboards read the CSV rows back rather than the protected tables in memory, so that
no page can show a figure the files do not (two outputs that differ in one cell are a
differencing attack); charts, tables and summaries all come from the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boldhub.outcomes.catalogue import NATIONAL
from boldhub.outcomes.dashboard import PreviousRelease, ReleaseContext, render_release
from boldhub.outcomes.disclosure import SUPPRESSED, THRESHOLD
from boldhub.outcomes.tidy import (
    AttributeInput,
    ReleasedTable,
    compute_tables,
    protect_tables,
    write_release_files,
)
from boldhub.schemas import get_organisation

SUMMARY_FILE = "release.json"


def area_name(area: str) -> str:
    if area == NATIONAL:
        return "England (all participating councils)"
    return get_organisation(area).name


@dataclass(frozen=True)
class BuiltRelease:
    areas: tuple[str, ...]
    indicators: tuple[str, ...]
    files: tuple[Path, ...]
    summary: dict[str, Any]


def build_release(
    links: Path,
    attributes: Sequence[AttributeInput],
    out_dir: Path,
    context: ReleaseContext,
    *,
    threshold: int = THRESHOLD,
    previous: Callable[[str], Sequence[PreviousRelease]] = lambda _area: (),
) -> BuiltRelease:
    """Compute, protect and write a run's release into ``out_dir``: ``<area>.csv`` (and
    ``<area>-measures.csv``) per area, a dashboard ``<area>.html`` per area, ``index.html``
    and ``release.json`` (what the release holds, for the output checkers)."""
    raws = compute_tables(links, attributes)
    released = protect_tables(raws, threshold=threshold)
    files = write_release_files(released, out_dir)
    areas = tuple(sorted({t.area for t in released}))
    indicators = tuple(dict.fromkeys(t.indicator.id for t in released))
    summary = _summary(released, areas, indicators, threshold)
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    pages = render_dashboards(out_dir, context, previous=previous)
    return BuiltRelease(areas, indicators, (*files, *pages, out_dir / SUMMARY_FILE), summary)


def render_dashboards(
    folder: Path,
    context: ReleaseContext,
    *,
    previous: Callable[[str], Sequence[PreviousRelease]] = lambda _area: (),
) -> list[Path]:
    """(Re)render every area's dashboard and the index from the release's CSV files (again
    when the release is approved, to name its checkers). ``previous`` gives an area's
    earlier releases, newest first."""
    areas = release_areas(folder)
    return render_release(
        folder,
        folder,
        context,
        {a: area_name(a) for a in areas},
        {a: tuple(reversed(previous(a))) for a in areas},
    )


def release_areas(folder: Path) -> list[str]:
    """The areas of a release folder, from its rate files (every area has one)."""
    return sorted(p.stem for p in folder.glob("*.csv") if not p.stem.endswith("-measures"))


def csv_files(folder: Path, area: str) -> list[Path]:
    return [p for p in (folder / f"{area}.csv", folder / f"{area}-measures.csv") if p.is_file()]


def _summary(
    released: Sequence[ReleasedTable],
    areas: Sequence[str],
    indicators: Sequence[str],
    threshold: int,
) -> dict[str, Any]:
    """What an output checker is asked to look at: how much is withheld, and where."""
    cells = suppressed = secondary = 0
    for t in released:
        for protected in (t.people, t.cohort):
            if protected is None:
                continue
            cells += len(protected.values)
            suppressed += sum(1 for v in protected.values.values() if v is None)
            secondary += len(protected.secondary)
    return {
        "areas": list(areas),
        "indicators": list(indicators),
        "tables": len(released),
        "cells": cells,
        "suppressed": suppressed,
        # Counted, never located: which cells are secondary would say which are small.
        "secondary_suppressions": secondary,
        "threshold": threshold,
        "suppressed_marker": SUPPRESSED,
    }
