"""`boldhub agreement`: register an agreement at the hub, rotate its key, show it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from boldhub.cli.options import HOME
from boldhub.cli.progress import stdout
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
