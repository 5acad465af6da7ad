"""Outcome releases at the hub: draft a run's release, check it, list and show releases."""

from __future__ import annotations

from pathlib import Path

import typer

from boldhub.cli.options import HOME
from boldhub.cli.progress import stdout, steps
from boldhub.errors import UserError
from boldhub.hub import releases as rel
from boldhub.hub.accounts import principal_of, user_by_email
from boldhub.hub.store import open_hub

release_app = typer.Typer(no_args_is_help=True)

AGREEMENT = typer.Option(
    None,
    "--agreement",
    help="The agreement whose latest run to report on (needed when the hub holds runs "
    "under more than one).",
)
RELEASE = typer.Option(..., "--release", help="The release's id (`boldhub release list`).")
CHECKER = typer.Option(
    ...,
    "--as",
    help="The email of the output checker deciding (a hub account with the output_checker "
    "role; not whoever started the run).",
)


def report(
    home: Path = HOME,
    out: Path | None = typer.Option(
        None, "--out", help="A folder to copy the draft's files to, for checking."
    ),
    agreement: str | None = AGREEMENT,
) -> None:
    """Draft the release of the agreement's latest linkage run: every indicator as tidy
    CSV files (DIR/<area>.csv, DIR/<area>-measures.csv) and a dashboard per party, all
    through disclosure control. Nobody outside the hub's team sees it until two output
    checkers approve it (`boldhub release approve`)."""
    if out is not None and out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")
    hub = open_hub(home)
    with steps("computing and protecting the release"):
        view = rel.draft_release(hub, actor="cli", agreement=agreement)
    folder = rel.folder_of(hub, view.id)
    if out is not None:
        rel.copy_release(folder, out)
    for area in view.summary.get("areas", []):  # type: ignore[attr-defined]
        where = out if out is not None else Path("reports") / view.id
        stdout.print(f"report: {area} {where / f'{area}.html'} {where / f'{area}.csv'}")
    stdout.print(
        f"release {view.id}: draft; it needs {rel.APPROVALS_NEEDED} approvals by output "
        f"checkers: boldhub release approve --release {view.id} --as EMAIL"
    )


@release_app.command("list")
def list_releases(home: Path = HOME) -> None:
    """Every release, newest first, with its status and approvals."""
    hub = open_hub(home)
    found = rel.releases(hub)
    if not found:
        stdout.print("no releases yet: `boldhub report` drafts one from the latest run")
    for v in found:
        stdout.print(
            f"{v.id} {v.status} approvals={v.approvals}/{rel.APPROVALS_NEEDED} "
            f"run={v.run_id} agreement={v.agreement_id or '-'}"
        )


@release_app.command("show")
def show(home: Path = HOME, release: str = RELEASE) -> None:
    """One release: what it holds and every decision on it."""
    hub = open_hub(home)
    v = rel.get_release(hub, release)
    stdout.print(f"release {v.id}: {v.status} (run {v.run_id}, agreement {v.agreement_id or '-'})")
    s = v.summary
    stdout.print(
        f"areas: {', '.join(map(str, s.get('areas', [])))}"  # type: ignore[call-overload]
    )
    stdout.print(f"cells: {s.get('cells')} suppressed: {s.get('suppressed')}")
    for checker, decision, comment in v.decisions:
        stdout.print(f"{decision}: {checker}{': ' + comment if comment else ''}")


def _decide(home: Path, release: str, email: str, decision: str, comment: str) -> None:
    hub = open_hub(home)
    with hub.sessions() as session:
        user = user_by_email(session, email)
        if not user.active:
            raise UserError(f"the account {email} is disabled")
        checker = principal_of(session, user)
    v = rel.decide(hub, release, checker, decision, comment)
    if v.status == "approved":
        stdout.print(f"release {v.id}: approved; every party now sees its own part")
    elif v.status == "rejected":
        stdout.print(f"release {v.id}: rejected: {comment}")
    else:
        stdout.print(
            f"release {v.id}: {v.approvals} of {rel.APPROVALS_NEEDED} approvals; "
            "another output checker must approve it"
        )


@release_app.command("approve")
def approve(
    home: Path = HOME,
    release: str = RELEASE,
    email: str = CHECKER,
    comment: str = typer.Option("", "--comment", help="What you checked (kept in the audit)."),
) -> None:
    """Approve a draft release as an output checker; the second approval releases it."""
    _decide(home, release, email, "approve", comment)


@release_app.command("reject")
def reject(
    home: Path = HOME,
    release: str = RELEASE,
    email: str = CHECKER,
    comment: str = typer.Option(..., "--comment", help="Why: what must change before release."),
) -> None:
    """Reject a draft release, saying why; it is never shown to the parties."""
    _decide(home, release, email, "reject", comment)
