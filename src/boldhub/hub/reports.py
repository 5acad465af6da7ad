"""Compute and release outcome reports from an agreement's latest linkage run.

A release is kept in the hub's home (``HOME/reports/<run>/``), where the hub's pages show
each organisation its own; a copy can also be written to a folder for the operator.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from boldhub.agreements.enforce import admit_release
from boldhub.errors import HubStateError
from boldhub.hub import audit
from boldhub.hub.agreements import active_terms
from boldhub.hub.ingest import current_submissions
from boldhub.hub.linking import agreement_of_run, get_run, latest_run, links_path
from boldhub.hub.store import ATTRIBUTES_DIR, Hub
from boldhub.outcomes.disclosure import THRESHOLD
from boldhub.outcomes.indicators import INDICATORS, AttributeInput, compute
from boldhub.outcomes.render import RenderedReport, render_reports

REPORTS_DIR = "reports"


def release_reports(
    hub: Hub,
    out: Path | None = None,
    *,
    actor: str = "cli",
    agreement: str | None = None,
    run_id: str | None = None,
) -> tuple[str, list[RenderedReport]]:
    """Release the reports of run ``run_id`` (default: ``agreement``'s latest) into the
    hub's home (all or nothing), and copy them to ``out`` when given. Returns the run id
    and the reports as released in the hub's home."""
    run = get_run(hub, run_id) if run_id is not None else latest_run(hub, agreement)
    agreement_id = agreement_of_run(hub, run)
    # Asked before anything is computed: a release outside an active agreement, or beyond
    # its permitted outputs, is refused naming the clause.
    terms = active_terms(hub, agreement_id) if agreement_id is not None else None
    subs = [s for s in current_submissions(hub) if s.id in run.submissions]
    attrs = [AttributeInput(s.source, hub.path(ATTRIBUTES_DIR, f"{s.id}.parquet")) for s in subs]
    outcomes = compute(links_path(hub, run.id), attrs)
    if not outcomes:
        raise HubStateError("the latest linkage run holds no homelessness submissions to report on")
    if terms is not None:
        admit_release(terms, [ind.id for ind in INDICATORS], THRESHOLD, [o.area for o in outcomes])
    final = hub.path(REPORTS_DIR, run.id)
    tmp = hub.path(REPORTS_DIR, f".{run.id}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        reports = render_reports(outcomes, tmp, run.id)
        with hub.sessions() as session, session.begin():
            audit.append(
                session,
                actor=actor,
                action="reports.released",
                subject=run.id,
                details={
                    "agreement": agreement_id,
                    "areas": [r.area for r in reports],
                },
            )
            # A release of the same run again replaces the earlier files as a whole.
            if final.exists():
                shutil.rmtree(final)
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    released = [RenderedReport(r.area, final / r.path.name) for r in reports]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for item in final.iterdir():
            shutil.copy2(item, out / item.name)
    return run.id, released
