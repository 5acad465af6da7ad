"""`boldhub serve` (the hub service) and `boldhub submit` (its client)."""

from __future__ import annotations

from pathlib import Path

import typer

from boldhub.cli.options import HOME
from boldhub.cli.progress import bar, stdout
from boldhub.council.submit import HttpHubClient, submission_body


def serve(
    home: Path = HOME,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Run the hub service (API, pages, /healthz, /metrics, OpenAPI at /docs)."""
    import uvicorn

    from boldhub.config import get_settings
    from boldhub.hub.api.app import create_app
    from boldhub.hub.api.logs import configure
    from boldhub.hub.slow_clients import guarded

    settings = get_settings()
    configure(settings.log_level)
    app = create_app(home, settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=True,
        http=guarded(settings.slow_request_seconds),
    )


def submit(
    package: Path = typer.Argument(..., help="A package folder written by `boldhub encode`."),
    hub: str = typer.Option(
        ...,
        "--hub",
        envvar="BOLDHUB_HUB_URL",
        help="The hub's URL, e.g. https://hub.example.gov.uk",
    ),
    token: str = typer.Option(
        ..., "--token", envvar="BOLDHUB_TOKEN", help="Your API token (better: set BOLDHUB_TOKEN)."
    ),
    retries: int = typer.Option(
        3, "--retries", help="Attempts on network failure; resending is safe."
    ),
) -> None:
    """Upload a package to the hub. Safe to retry: the same package twice is one submission.

    Only the files the signed manifest lists are sent, with the manifest and manifest.sig;
    a folder holding anything else, or a file changed since encoding, is refused first.
    """
    # Checked and packed before the client exists: a folder holding anything but the
    # signed package is refused with nothing sent.
    body = submission_body(package)
    client = HttpHubClient(hub, token, retries=retries)
    with bar(f"submitting {package.name}", len(body)) as advance:
        receipt = client.send(body, progress=advance)
    word = "accepted" if receipt.created else "already received"
    stdout.print(
        f"{word}: submission={receipt.submission_id} source={receipt.source} records={receipt.records}"
    )
