"""`boldhub agreement`: register an agreement at the hub, amend it by a new version,
rotate its key, show it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from boldhub.cli.options import HOME
from boldhub.cli.progress import stdout
from boldhub.errors import UserError
from boldhub.hub import agreements
from boldhub.hub.store import open_hub
from boldhub.privacy.agreement import load_agreement

agreement_app = typer.Typer(no_args_is_help=True)


@agreement_app.command("register")
def register(
    file: Path = typer.Argument(..., help="The agreement file (JSON)."),
    home: Path = HOME,
) -> None:
    """Register an agreement: its parties' signing keys, key fingerprint and encoding."""
    spec = load_agreement(file)
    hub = open_hub(home, create=True)
    result = agreements.register(hub, spec)
    if result.created:
        stdout.print(f"registered: agreement={result.agreement_id} parties={result.parties}")
    else:
        stdout.print(f"already registered: agreement={result.agreement_id} (nothing changed)")


@agreement_app.command("amend")
def amend(
    file: Path = typer.Argument(..., help="The new version's agreement file (JSON), own id."),
    supersedes: str | None = typer.Option(
        None,
        "--supersedes",
        help='The id of the version it replaces (default: the file\'s "supersedes" field).',
    ),
    home: Path = HOME,
) -> None:
    """Register a new version of an agreement (a party added, a term amended). The old
    version is kept for the record; packages encoded under it are refused from now on."""
    spec = load_agreement(file)
    old = supersedes or spec.document.get("supersedes")
    if not isinstance(old, str) or not old:
        raise UserError(
            'say which agreement this version replaces: --supersedes ID, or a "supersedes" '
            "field in the file"
        )
    hub = open_hub(home)
    result = agreements.amend(hub, spec, old)
    added = ", ".join(result.parties_added) or "none"
    stdout.print(
        f"amended: agreement={result.agreement_id} supersedes={result.supersedes} "
        f"(new parties: {added}); packages under {result.supersedes} are refused from now "
        f"on: parties encode again with the file of {result.agreement_id}"
    )


@agreement_app.command("rotate-key")
def rotate_key(
    agreement_id: str = typer.Argument(..., help="The agreement's id."),
    fingerprint: str = typer.Option(
        ..., "--fingerprint", help="The new key's fingerprint (`boldhub keys fingerprint`)."
    ),
    home: Path = HOME,
) -> None:
    """Move an agreement to a new linkage key; packages under the old key are refused."""
    hub = open_hub(home)
    result = agreements.rotate_key(hub, agreement_id, fingerprint)
    stdout.print(
        f"rotated: agreement={result.agreement_id} key {result.old_fingerprint[:8]}... -> "
        f"{result.new_fingerprint[:8]}...; retired submissions: {len(result.retired)} "
        "(parties encode again with the new key and resubmit)"
    )


@agreement_app.command("show")
def show(
    agreement_id: str = typer.Argument(..., help="The agreement's id."),
    home: Path = HOME,
) -> None:
    """Print an agreement's registered terms as JSON."""
    stdout.print(json.dumps(agreements.describe(open_hub(home), agreement_id), indent=2))
