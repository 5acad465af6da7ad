"""`boldhub agreement`: check an agreement file, register it at the hub, have each party
sign it, amend it by a new version, rotate its key, revoke it, show it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from boldhub.agreements.draft import migrated
from boldhub.agreements.load import (
    AgreementFileError,
    Problem,
    dump_yaml,
    load_path,
    signed_message,
)
from boldhub.agreements.model import json_schema
from boldhub.agreements.validate import check
from boldhub.cli.options import HOME
from boldhub.cli.progress import stderr, stdout
from boldhub.errors import InputFileError, UserError
from boldhub.hub import agreements
from boldhub.hub.store import open_hub
from boldhub.privacy.agreement import load_agreement
from boldhub.privacy.signing import load_signing_key, sign

agreement_app = typer.Typer(no_args_is_help=True)


@agreement_app.command("register")
def register(
    file: Path = typer.Argument(..., help="The agreement file (YAML, or an older JSON one)."),
    home: Path = HOME,
) -> None:
    """Register an agreement at the hub as a draft: every party then signs it."""
    spec = load_agreement(file)
    hub = open_hub(home, create=True)
    result = agreements.register(hub, spec)
    if result.created:
        stdout.print(f"registered: agreement={result.agreement_id} parties={result.parties}")
    else:
        stdout.print(f"already registered: agreement={result.agreement_id} (nothing changed)")


@agreement_app.command("amend")
def amend(
    file: Path = typer.Argument(..., help="The new version's agreement file, with its own id."),
    supersedes: str | None = typer.Option(
        None,
        "--supersedes",
        help='The id of the version it replaces (default: the file\'s "supersedes" field).',
    ),
    home: Path = HOME,
) -> None:
    """Register a new version of an agreement (a party added, a term amended). The old
    version stays in force until every party has signed the new one; from then on it is
    kept for the record and packages encoded under it are refused."""
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
        f"(new parties: {added}); once every party has signed {result.agreement_id}, "
        f"packages under {result.supersedes} are refused: parties encode again with its file"
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


@agreement_app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="The agreement file (YAML)."),
) -> None:
    """Check an agreement file's syntax, schema and meaning; print each problem as
    FILE:LINE: field: what is wrong and what to do (exit 2 when there are any)."""
    problems = _problems(file)
    if problems:
        for problem in problems:
            stderr.print(str(problem), soft_wrap=True)
        raise typer.Exit(2)
    stdout.print(f"{file.name}: valid")


def _problems(file: Path) -> list[Problem]:
    if not file.is_file():
        raise InputFileError(f"agreement file {file.name} not found; check the path")
    try:
        loaded = load_path(file)
    except AgreementFileError as exc:
        return [exc.problem]
    return check(loaded)[1]


@agreement_app.command("schema")
def schema() -> None:
    """Print the published JSON Schema of an agreement file."""
    stdout.print(json.dumps(json_schema(), indent=2), soft_wrap=True, highlight=False)


@agreement_app.command("migrate")
def migrate(
    file: Path = typer.Argument(..., help="An older JSON agreement file."),
    out: Path = typer.Option(..., "--out", help="Where to write the YAML agreement."),
) -> None:
    """Turn an older JSON agreement into a full YAML agreement file: its parties, key and
    terms kept, lawful bases suggested from the catalogue, the rest drafted for the DPO
    to read and change. Validate and register the result as a new version."""
    if out.exists():
        raise UserError(f"--out {out.name} already exists; choose a new file name")
    spec = load_agreement(file)
    if spec.document.get("schema_version") is not None:
        raise UserError(f"{file.name} is already an agreement-as-code file")
    stdout.print(
        f"written: {out.name}; read every clause, change what does not fit, then run "
        f"`boldhub agreement validate {out.name}`"
    )
    out.write_text(dump_yaml(migrated(spec)), encoding="utf-8")


@agreement_app.command("sign")
def sign_agreement(
    file: Path = typer.Argument(..., help="The agreement file, exactly as registered."),
    key: Path = typer.Option(
        ..., "--key", help="The DPO's Ed25519 key, or the organisation's signing key."
    ),
    organisation: str = typer.Option(..., "--organisation", help="The party you sign for."),
    home: Path | None = typer.Option(
        None,
        "--home",
        envvar="BOLDHUB_HOME",
        help="Record the signature at this hub now; without it, print the signature.",
    ),
) -> None:
    """Sign the exact version of an agreement for your organisation. With --home the
    signature is checked and recorded at the hub; without it, it is printed for the DPO
    to paste into the hub's agreement page."""
    spec = load_agreement(file)
    signature = sign(load_signing_key(key), signed_message(spec.document))
    if home is None:
        stdout.print(signature.rstrip("\n"), highlight=False)
        return
    result = agreements.sign(open_hub(home), spec.id, organisation, signature)
    status = result.status
    stdout.print(
        f"signed: agreement={spec.id} version={status.version} by {organisation} "
        f"({result.signer} key); status={status.word}"
        + (f"; still to sign: {', '.join(status.missing)}" if status.missing else "")
    )


@agreement_app.command("status")
def status(
    agreement_id: str | None = typer.Argument(None, help="One agreement (default: all)."),
    home: Path = HOME,
) -> None:
    """Each agreement's lifecycle: draft, signed, active, expired, revoked or superseded,
    and what is still missing before it can start."""
    hub = open_hub(home)
    found = [agreements.status(hub, agreement_id)] if agreement_id else agreements.statuses(hub)
    for item in found:
        stdout.print(
            f"{item.agreement_id} version {item.version}: {item.word} ({item.reason}); "
            f"signed: {', '.join(item.signed) or 'nobody yet'}"
        )


@agreement_app.command("revoke")
def revoke(
    agreement_id: str = typer.Argument(..., help="The agreement's id."),
    reason: str = typer.Option(..., "--reason", help="Why it ends now (goes on the audit)."),
    home: Path = HOME,
) -> None:
    """End an agreement now: nothing more is accepted, linked or released under it."""
    found = agreements.revoke(open_hub(home), agreement_id, reason)
    stdout.print(f"revoked: agreement={found.agreement_id} ({found.reason})")
