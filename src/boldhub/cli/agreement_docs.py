"""`boldhub agreement render`: an agreement as documents people read."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``boldhub agreement``."""
