"""`boldhub retention`: delete what is past its agreement's retention period."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer

from boldhub.cli.options import HOME
from boldhub.cli.progress import stdout
from boldhub.hub import retention
from boldhub.hub.store import open_hub

retention_app = typer.Typer(no_args_is_help=True)

# What each kind is called on the terminal, and what one and several of it are counted as.
LABELS: dict[retention.Kind, tuple[str, str, str]] = {
    "encodings": ("encodings", "file", "files"),
    "attributes": ("attributes", "file", "files"),
    "manifests": ("manifest copies", "copy", "copies"),
    "submissions": ("submission rows", "row", "rows"),
    "link_maps": ("link maps and run outputs", "run folder", "run folders"),
    "linkage_runs": ("linkage run rows", "row", "rows"),
    "releases": ("releases", "report folder", "report folders"),
    "models": ("saved models", "agreement's folder", "agreements' folders"),
}


@retention_app.command("run")
def run(
    home: Path = HOME,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be deleted; delete nothing."
    ),
) -> None:
    """Delete from every store what is past its agreement's retention period (the clock:
    BOLDHUB_NOW, else now), with one deletion record on the audit trail."""
    result = retention.run(open_hub(home), dry_run=dry_run, actor="cli")
    for line in lines(result):
        stdout.print(line, markup=False)


def lines(result: retention.Result) -> list[str]:
    """One line per agreement without terms, one per kind and a summary: counts, dates
    and agreement ids, never a path or a submission's contents."""
    found = result.plan
    out = list(found.notes)
    verb = "would go" if result.dry_run else "deleted"
    for kind in retention.KINDS:
        label, one, several = LABELS[kind]
        items = found.of_kind(kind)
        if not items:
            out.append(f"{label}: none due")
            continue
        by_agreement = Counter(i.agreement or "earlier run's leftovers" for i in items)
        where = ", ".join(f"{a}: {n}" for a, n in sorted(by_agreement.items()))
        since = min(i.due for i in items).date().isoformat()
        unit = one if len(items) == 1 else several
        out.append(f"{label}: {len(items)} {unit} {verb} ({where}; due since {since})")
        if result.dry_run:
            # A dry run names each item, so that the DPO can check what would go before
            # anything does: hub ids (submission, run, agreement), never data.
            out.extend(
                f"  {i.id} (agreement {i.agreement or '-'}; due {i.due.date().isoformat()})"
                for i in sorted(items, key=lambda i: (i.due, i.id))
            )
    total = len(found.items)
    agreements = len(found.agreements())
    at = found.now.isoformat(timespec="seconds")
    if result.dry_run:
        out.append(f"retention (dry run) at {at}: {total} items would go; nothing was deleted")
    elif not total:
        out.append(f"retention at {at}: nothing is past its retention period")
    else:
        out.append(
            f"retention at {at}: {total} items deleted under {agreements} agreement(s); "
            f"deletion record: audit entry {result.audit_seq}"
        )
    if result.files_left:
        out.append(
            f"{result.files_left} files could not be deleted now; the next run deletes them "
            "(see the hub's log)"
        )
    return out
