"""Commands that run at the hub: ingest, link, links export, audit verify, store verify."""

from __future__ import annotations

from pathlib import Path

import typer

from boldhub.cli.options import HOME
from boldhub.cli.progress import stdout, steps
from boldhub.config import get_settings
from boldhub.errors import UserError
from boldhub.hub import audit as audit_mod
from boldhub.hub.analysis import add_match_rates
from boldhub.hub.ingest import ingest as ingest_package
from boldhub.hub.integrity import verify_store
from boldhub.hub.linking import (
    export_links,
    options_from,
    run_linkage,
    run_summary,
)
from boldhub.hub.run_state import abandon
from boldhub.hub.store import open_hub

links_app = typer.Typer(no_args_is_help=True)

AGREEMENT = typer.Option(
    None,
    "--agreement",
    help="The agreement whose submissions to use (needed when the hub holds submissions "
    "under more than one).",
)
audit_app = typer.Typer(no_args_is_help=True)
store_app = typer.Typer(no_args_is_help=True)


def ingest(
    package: Path = typer.Argument(..., help="A package folder written by `boldhub encode`."),
    home: Path = HOME,
) -> None:
    """Verify a package (manifest, hashes, counts, schema, key) and store it, all or nothing."""
    with steps(f"ingesting {package.name}") as step:
        step("verifying")
        hub = open_hub(home, create=True)
        result = ingest_package(hub, package)
    if result.created:
        extra = f" supersedes={result.superseded}" if result.superseded else ""
        stdout.print(
            f"accepted: submission={result.submission_id} source={result.source} records={result.records}{extra}"
        )
    else:
        stdout.print(f"already ingested: submission={result.submission_id} (nothing changed)")


def link(
    home: Path = HOME,
    full: bool = typer.Option(
        False,
        "--full",
        help="Re-train and re-link everything, even when only new submissions arrived.",
    ),
    agreement: str | None = AGREEMENT,
) -> None:
    """Link the current submissions of one agreement into persons (Splink 5). Only new
    submissions since its last run: they are linked into the known persons (incremental);
    otherwise all are re-linked with the agreement's saved model (trained on the first
    run). Person keys carry over either way; merges and splits are recorded."""
    hub = open_hub(home)
    with steps("linking") as step:
        run_id, result = run_linkage(
            hub,
            on_step=step,
            full=full,
            options=options_from(get_settings()),
            agreement=agreement,
        )
        step("match rates by group (analysis side)")
        add_match_rates(hub, run_id)
    summary = run_summary(hub, run_id)
    changes = summary.key_changes
    stdout.print(
        f"linkage run {run_id}: mode={summary.mode} records={result.records} "
        f"persons={result.persons} pairs_scored={result.pairs_scored} "
        f"merges={changes.get('merges', 0)} splits={changes.get('splits', 0)} "
        f"seconds={result.seconds['total']:.1f}"
    )


@links_app.command("abandon")
def links_abandon(
    run_id: str = typer.Argument(
        ..., help="The run's id, as the refusal or the Linkage page names it."
    ),
    home: Path = HOME,
) -> None:
    """Mark failed a linkage run that is recorded as running but whose process is gone
    (it ran on another host, which the hub cannot check), so that the agreement can be
    linked again. A run still running on this host is refused."""
    abandon(open_hub(home), run_id, actor="cli")
    stdout.print(f"linkage run {run_id}: marked failed (abandoned)")


@links_app.command("export")
def links_export(
    home: Path = HOME,
    out: Path = typer.Option(..., "--out", help="File to write (.csv or .parquet)."),
    agreement: str | None = AGREEMENT,
) -> None:
    """Write (record_key, source, person_key, match_probability) of the agreement's
    latest run."""
    hub = open_hub(home)
    run_id, rows = export_links(hub, out, agreement=agreement)
    stdout.print(f"links: run={run_id} rows={rows} file={out}")


@audit_app.command("verify")
def audit_verify(home: Path = HOME) -> None:
    """Check the audit log's hash chain; names the first entry that was changed."""
    hub = open_hub(home)
    with hub.sessions() as session:
        result = audit_mod.verify(session)
    if not result.ok:
        raise UserError(f"audit log check FAILED: {result.problem}")
    stdout.print(f"audit log intact: {result.entries} entries")


@store_app.command("verify")
def store_verify(home: Path = HOME) -> None:
    """Check every stored submission file against the sha256 in its signed manifest, and
    each manifest against its signature; names every file that differs or is missing."""
    check = verify_store(open_hub(home))
    for problem in check.problems:
        stdout.print(f"  {problem}")
    if not check.ok:
        raise UserError(
            f"store check FAILED: {len(check.problems)} problems in {check.submissions} "
            "submissions (listed above); restore the named files from a backup or ask the "
            "organisation to submit the package again"
        )
    stdout.print(
        f"store intact: {check.files} files of {check.submissions} submissions are the files "
        "their organisations signed"
    )
