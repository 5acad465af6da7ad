"""`boldhub retention`: delete what is past its agreement's retention period."""

from __future__ import annotations

import typer

retention_app = typer.Typer(no_args_is_help=True)
