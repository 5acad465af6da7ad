"""`boldhub agreement render`: an agreement as documents people read; `boldhub agreement
catalogue`: the lawful bases and conditions an agreement may cite."""

from __future__ import annotations

from pathlib import Path

import typer

from boldhub.agreements.catalogue import KINDS, of_kind
from boldhub.agreements.load import AgreementFileError, load_path
from boldhub.agreements.render import DOCUMENTS
from boldhub.agreements.validate import check
from boldhub.cli.progress import stdout
from boldhub.errors import UserError


def render(
    file: Path = typer.Argument(..., help="The agreement file (YAML, schema_version 2)."),
    out: Path = typer.Option(
        ..., "--out", help="The folder to write the documents to (made if missing)."
    ),
) -> None:
    """Write the agreement, a pre-filled DPIA, an Appropriate Policy Document outline and a
    public register entry as standalone HTML pages."""
    if not file.is_file():
        raise UserError(f"no agreement file at {file.name}; give the path of the YAML file")
    try:
        doc, problems = check(load_path(file))
    except AgreementFileError as exc:
        typer.echo(str(exc.problem), err=True)
        raise typer.Exit(2) from None
    if doc is None:
        for problem in problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(2)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out.name} is a file; give a folder to write the documents to")
    out.mkdir(parents=True, exist_ok=True)
    for name, make in DOCUMENTS:
        (out / name).write_text(make(doc), encoding="utf-8", newline="\n")
        stdout.print(f"wrote {name}", markup=False)


def catalogue(
    kind: str | None = typer.Option(
        None, "--kind", help=f"Only entries of this kind: {', '.join(KINDS)}."
    ),
) -> None:
    """List the lawful bases, conditions and laws an agreement may cite, each explained."""
    if kind is not None and kind not in KINDS:
        raise UserError(f"--kind {kind!r} is not a kind of entry; use one of: {', '.join(KINDS)}")
    entries = [e for k in KINDS if kind in (None, k) for e in of_kind(k)]
    for i, entry in enumerate(entries):
        if i:
            stdout.print("", markup=False)
        stdout.print(f"{entry.id} ({entry.kind}): {entry.title}", markup=False)
        stdout.print(f"    {entry.citation}", markup=False)
        stdout.print(f"    {entry.plain}", markup=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``boldhub agreement``."""
    app.command("render")(render)
    app.command("catalogue")(catalogue)
