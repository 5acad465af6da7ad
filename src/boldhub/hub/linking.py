"""Run linkage over the hub's current submissions, and export its links to the operator."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select

from boldhub import clock
from boldhub.config import get_settings
from boldhub.errors import HubStateError, UserError
from boldhub.hub import audit
from boldhub.hub.ingest import current_submissions
from boldhub.hub.store import ENCODINGS_DIR, RUNS_DIR, Hub
from boldhub.hub.store.models import LinkageRun
from boldhub.linkage.run import LinkInput, LinkResult, Step, link
from boldhub.safecsv import write_csv

LINKS_FILE = "links.parquet"
MODEL_FILE = "model.json"


def run_linkage(
    hub: Hub, *, actor: str = "cli", on_step: Step | None = None
) -> tuple[str, LinkResult]:
    subs = current_submissions(hub)
    if not subs:
        raise HubStateError("the hub holds no submissions to link; ingest packages first")
    settings = get_settings()
    if settings.linkage_backend != "duckdb":
        raise UserError(
            f"BOLDHUB_LINKAGE_BACKEND={settings.linkage_backend} is not available in this "
            "version; unset it to link on the embedded DuckDB backend"
        )
    inputs = [LinkInput(s.source, hub.path(ENCODINGS_DIR, f"{s.id}.parquet")) for s in subs]
    started = clock.now()
    result = link(
        inputs,
        threshold=settings.linkage_threshold,
        memory_limit=settings.duckdb_memory_limit,
        on_step=on_step,
    )
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    final = hub.path(RUNS_DIR, run_id)
    tmp = hub.path(RUNS_DIR, f".{run_id}.partial")
    tmp.mkdir(parents=True)
    try:
        pq.write_table(result.links, tmp / LINKS_FILE, compression="zstd")
        (tmp / MODEL_FILE).write_text(json.dumps(result.model_json, indent=2))
        with hub.sessions() as session, session.begin():
            session.add(
                LinkageRun(
                    id=run_id,
                    started_at=started,
                    finished_at=clock.now(),
                    records=result.records,
                    persons=result.persons,
                    threshold=settings.linkage_threshold,
                    submissions={s.id: s.source for s in subs},
                    summary={"pairs_scored": result.pairs_scored, "seconds": result.seconds},
                )
            )
            audit.append(
                session,
                actor=actor,
                action="linkage.run",
                subject=run_id,
                details={
                    "submissions": sorted(s.id for s in subs),
                    "records": result.records,
                    "persons": result.persons,
                },
            )
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        raise
    return run_id, result


def latest_run(hub: Hub) -> LinkageRun:
    with hub.sessions() as session:
        run = session.execute(
            select(LinkageRun).order_by(LinkageRun.finished_at.desc()).limit(1)
        ).scalar_one_or_none()
    if run is None:
        raise HubStateError("the hub has no linkage run yet; run `boldhub link --home ...` first")
    return run


def links_path(hub: Hub, run_id: str) -> Path:
    return hub.path(RUNS_DIR, run_id, LINKS_FILE)


def export_links(hub: Hub, out: Path, *, actor: str = "cli") -> tuple[str, int]:
    """Write (record_key, source, person_key, match_probability) of the latest run."""
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UserError(f"--out {out} must end in .csv or .parquet")
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give a file name ending in .csv or .parquet")
    run = latest_run(hub)
    table = pq.read_table(links_path(hub, run.id))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    try:
        if out.suffix.lower() == ".parquet":
            pq.write_table(table, tmp)
        else:
            # record keys and person keys are hex; escaping still applies to every cell
            # so that no CSV the project writes can carry a formula.
            write_csv(
                tmp,
                table.column_names,
                zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True),
            )
        with hub.sessions() as session, session.begin():
            audit.append(
                session,
                actor=actor,
                action="links.exported",
                subject=run.id,
                details={"rows": table.num_rows, "file": out.name},
            )
            tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return run.id, table.num_rows
