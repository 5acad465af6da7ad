"""Command-line options that several commands share, declared once so that their name,
environment variable and help read the same everywhere."""

from __future__ import annotations

import typer

HOME = typer.Option(..., "--home", envvar="BOLDHUB_HOME", help="The hub's home folder.")
LINKAGE_KEY = typer.Option(..., "--key", help="The agreement's linkage key file.")
SIGNING_KEY = typer.Option(
    ..., "--signing-key", help="Your organisation's Ed25519 signing key file."
)
AGREEMENT_FILE = typer.Option(
    ..., "--agreement", help="The agreement file the hub registered (YAML, or an older JSON one)."
)
