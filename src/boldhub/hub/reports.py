"""Compute and release outcome reports from the latest linkage run."""

from __future__ import annotations

from pathlib import Path

from boldhub.errors import HubStateError
from boldhub.hub import audit
from boldhub.hub.ingest import current_submissions
from boldhub.hub.linking import latest_run, links_path
from boldhub.hub.store import ATTRIBUTES_DIR, Hub
from boldhub.outcomes.indicators import AttributeInput, compute
from boldhub.outcomes.render import RenderedReport, render_reports


def release_reports(hub: Hub, out: Path, *, actor: str = "cli") -> tuple[str, list[RenderedReport]]:
    run = latest_run(hub)
    subs = [s for s in current_submissions(hub) if s.id in run.submissions]
    attrs = [AttributeInput(s.source, hub.path(ATTRIBUTES_DIR, f"{s.id}.parquet")) for s in subs]
    outcomes = compute(links_path(hub, run.id), attrs)
    if not outcomes:
        raise HubStateError("the latest linkage run holds no homelessness submissions to report on")
    reports = render_reports(outcomes, out, run.id)
    with hub.sessions() as session, session.begin():
        audit.append(
            session,
            actor=actor,
            action="reports.released",
            subject=run.id,
            details={"areas": [r.area for r in reports]},
        )
    return run.id, reports
