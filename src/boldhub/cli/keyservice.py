"""`boldhub keyservice`: run the key service and manage its keys, parties and quotas.

Every command works on the service's home folder (``--home``, or BOLDHUB_KEYSERVICE_HOME),
which holds its SQLite file; administrator commands may run while it serves.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from boldhub.cli.options import LINKAGE_KEY
from boldhub.cli.progress import stdout
from boldhub.privacy.keys import load_key

if TYPE_CHECKING:
    from boldhub.keyservice.service import KeyService

keyservice_app = typer.Typer(no_args_is_help=True)

KS_HOME = typer.Option(
    ..., "--home", envvar="BOLDHUB_KEYSERVICE_HOME", help="The key service's home folder."
)
AGREEMENT = typer.Option(..., "--agreement", help="The agreement's id.")
PARTY = typer.Option(..., "--party", help="The party's organisation code, e.g. E08000025.")


def _open(home: Path, *, create: bool = False) -> KeyService:
    # Imported here: `boldhub` starts without loading the key service for other commands.
    from boldhub.keyservice.service import KeyService

    return KeyService.open(home, create=create)


@keyservice_app.command("serve")
def serve(
    home: Path = KS_HOME,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8100, "--port", help="Port to listen on."),
) -> None:
    """Run the key service over HTTP (public keys, evaluation, the audit)."""
    import uvicorn

    from boldhub.keyservice.app import create_app

    service = _open(home)
    # One line per request on stderr: party, agreement, counts and outcome, never bytes.
    logging.basicConfig(format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("boldhub.keyservice").setLevel(logging.INFO)
    uvicorn.run(create_app(service), host=host, port=port, log_config=None, access_log=True)


@keyservice_app.command("add-key")
def add_key(home: Path = KS_HOME, agreement: str = AGREEMENT, key: Path = LINKAGE_KEY) -> None:
    """Hold an agreement's key, derived from its linkage key file; prints its fingerprint,
    which goes into the agreement (the same as `boldhub keys fingerprint` prints). After this only the key service needs the file: keep
    it offline as the agreement's backup, and give it to no party."""
    linkage_key = load_key(key)
    fingerprint = _open(home, create=True).add_key(agreement, linkage_key)
    stdout.print(f"agreement: {agreement} fingerprint={fingerprint}")


@keyservice_app.command("add-party")
def add_party(
    home: Path = KS_HOME,
    agreement: str = AGREEMENT,
    party: str = PARTY,
    quota: int = typer.Option(..., "--quota", help="Evaluations the party may request."),
) -> None:
    """Admit a party to an agreement and print its token, once: the service keeps only its
    hash. Give it to the party over a secure channel."""
    token = _open(home).add_party(agreement, party, quota)
    stdout.print(token)


@keyservice_app.command("grant")
def grant(
    home: Path = KS_HOME,
    agreement: str = AGREEMENT,
    party: str = PARTY,
    quota: int = typer.Option(..., "--quota", help="Evaluations to add to the party's quota."),
) -> None:
    """Raise a party's quota (audited)."""
    remaining = _open(home).grant(agreement, party, quota)
    stdout.print(f"party: {party} agreement={agreement} raised_by={quota} remaining={remaining}")


@keyservice_app.command("cap")
def cap(
    home: Path = KS_HOME,
    agreement: str = AGREEMENT,
    party: str = PARTY,
    domain: str = typer.Option(
        ..., "--domain", help="The domain: dob-salt, postcode, nhs, ni, pnc, crn or prison."
    ),
    cap: int = typer.Option(
        ..., "--cap", help="Evaluations the party may request in that domain, in all."
    ),
) -> None:
    """Cap a party's evaluations in one domain (audited), so that what its dates of birth
    need cannot be spent on names' scopes, nor its numbers' on dates of birth. Set each
    cap to what the party's own submissions need: `boldhub encode` prints it."""
    left = _open(home).set_cap(agreement, party, domain, cap)
    stdout.print(f"party: {party} agreement={agreement} domain={domain} cap={cap} left={left}")


@keyservice_app.command("admin-token")
def admin_token(home: Path = KS_HOME) -> None:
    """Print a new administrator token (for GET /v1/audit), once; the old one stops
    working."""
    stdout.print(_open(home).new_admin_token())


@keyservice_app.command("audit")
def audit(home: Path = KS_HOME) -> None:
    """Print every audit row and whether the hash chain verifies; exits 1 if it does not."""
    service = _open(home)
    for row in service.audit():
        remaining = "-" if row.remaining is None else str(row.remaining)
        stdout.print(
            f"{row.seq}  {row.at}  party={row.party}  agreement={row.agreement}  "
            f"domain={row.domain or '-'}  requested={row.requested}  granted={row.granted}  "
            f"remaining={remaining}  "
            f"{row.outcome}"
        )
    check = service.verify_audit()
    if check.ok:
        stdout.print(f"audit: verified ({check.rows} rows)")
        return
    stdout.print(f"audit: NOT VERIFIED: {check.problem}")
    raise typer.Exit(1)
