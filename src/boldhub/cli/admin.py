"""`boldhub admin`: bootstrap and manage the hub's users from its own machine."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from boldhub.cli.options import HOME
from boldhub.cli.progress import stdout
from boldhub.config import get_settings
from boldhub.hub.store import Hub, open_hub

admin_app = typer.Typer(no_args_is_help=True)
EMAIL = typer.Option(..., "--email")


def _open(home: Path, *, create: bool = False) -> Hub:
    return open_hub(home, create=create, database_url=get_settings().database_url)


@admin_app.command("create-user")
def create_user(
    home: Path = HOME,
    email: str = EMAIL,
    name: str = typer.Option(..., "--name"),
    org: str = typer.Option(
        ..., "--org", help="Organisation code (GSS code, central body code, or HUB)."
    ),
    role: str = typer.Option(
        ..., "--role", help="submitter, dpo, analyst, linkage_operator, output_checker or admin."
    ),
) -> None:
    """Create a user. The password, if any, is read from BOLDHUB_PASSWORD (never an option)."""
    from boldhub.hub import accounts

    hub = _open(home, create=True)
    password = os.environ.get("BOLDHUB_PASSWORD") or None
    with hub.sessions() as session, session.begin():
        user = accounts.create_user(
            session,
            email=email,
            name=name,
            organisation=org,
            role=role,
            password=password,
            actor="cli:admin",
        )
        uid = user.id
    stdout.print(f"user: id={uid} email={email.lower()} org={org} role={role}")


@admin_app.command("create-token")
def create_token(
    home: Path = HOME,
    email: str = EMAIL,
    label: str = typer.Option("cli", "--label", help="What the token is for."),
    days: int = typer.Option(365, "--days", help="Days until the token expires (1 to 730)."),
) -> None:
    """Create an API token for a user and print it once (the hub keeps only its hash)."""
    from boldhub.hub import accounts

    hub = _open(home)
    with hub.sessions() as session, session.begin():
        user = accounts.user_by_email(session, email)
        token = accounts.create_token(session, user, label, days=days)
    stdout.print(token)


@admin_app.command("revoke-token")
def revoke_token(
    home: Path = HOME,
    email: str = EMAIL,
    label: str | None = typer.Option(
        None, "--label", help="Revoke only the tokens with this label (default: all)."
    ),
) -> None:
    """Revoke a user's API tokens at once (audited); calls with them get 401."""
    from boldhub.hub import accounts

    hub = _open(home)
    with hub.sessions() as session, session.begin():
        user = accounts.user_by_email(session, email)
        count = accounts.revoke_tokens(session, user, label=label, actor="cli:admin")
    stdout.print(f"revoked: {count} token{'s' if count != 1 else ''} of {email.lower()}")


@admin_app.command("disable-user")
def disable_user(home: Path = HOME, email: str = EMAIL) -> None:
    """Disable a user (audited): their sessions end and their tokens stop working."""
    _set_active(home, email, False)


@admin_app.command("enable-user")
def enable_user(home: Path = HOME, email: str = EMAIL) -> None:
    """Enable a disabled user again (audited); their old tokens work again unless revoked."""
    _set_active(home, email, True)


def _set_active(home: Path, email: str, active: bool) -> None:
    from boldhub.hub import accounts

    hub = _open(home)
    with hub.sessions() as session, session.begin():
        user = accounts.user_by_email(session, email)
        accounts.set_active(session, user, active, actor="cli:admin")
    stdout.print(f"{'enabled' if active else 'disabled'}: {email.lower()}")


@admin_app.command("add-organisation")
def add_organisation(
    home: Path = HOME,
    code: str = typer.Option(
        ..., "--code", help="The body's code, e.g. PROVIDER-STMUNGOS (councils need none)."
    ),
    name: str = typer.Option(..., "--name", help="The body's full name."),
    kind: str = typer.Option(..., "--kind", help="central or provider."),
) -> None:
    """Register a central body or provider so that it can have users and join agreements
    (audited). Councils need no registration: every English local authority is known."""
    from boldhub.hub import organisations

    hub = _open(home, create=True)
    with hub.sessions() as session, session.begin():
        org = organisations.add_organisation(
            session, code=code, name=name, kind=kind, actor="cli:admin"
        )
    stdout.print(f"organisation: code={org.code} kind={org.kind} name={org.name}")
