"""`boldhub serve` (the hub service) and `boldhub submit` (its client)."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import typer

from boldhub.cli.progress import bar, stdout
from boldhub.errors import UserError

HOME = typer.Option(..., "--home", envvar="BOLDHUB_HOME", help="The hub's home folder.")


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

    configure(get_settings().log_level)
    app = create_app(home)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=True)


def _tar_package(package: Path) -> bytes:
    if not package.is_dir() or not (package / "manifest.json").is_file():
        raise UserError(
            f"{package} is not a package folder (no manifest.json); give the folder `boldhub encode` wrote"
        )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(package.iterdir()):
            if path.is_file():
                tar.add(path, arcname=path.name, recursive=False)
    return buffer.getvalue()


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
    """Upload a package to the hub. Safe to retry: the same package twice is one submission."""
    body = _tar_package(package)
    url = hub.rstrip("/") + "/api/v1/submissions"
    last: Exception | None = None
    for attempt in range(1, max(retries, 1) + 1):
        try:
            with bar(f"submitting {package.name}", len(body)) as advance:

                def chunks() -> Iterator[bytes]:
                    for i in range(0, len(body), 1 << 20):
                        chunk = body[i : i + (1 << 20)]
                        advance(len(chunk))
                        yield chunk

                response = httpx.post(
                    url,
                    content=chunks(),
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/x-tar",
                        "Content-Length": str(len(body)),
                    },
                    timeout=httpx.Timeout(30.0, read=600.0),
                )
                if 400 <= response.status_code < 500:
                    # Raised inside the bar, so a refusal prints one line, not a full bar.
                    raise UserError(
                        f"the hub refused the package ({response.status_code}): {_detail(response)}"
                    )
        except httpx.TransportError as exc:
            last = exc
            time.sleep(min(2**attempt, 10))
            continue
        if response.status_code >= 500:
            last = UserError(f"the hub answered {response.status_code}")
            time.sleep(min(2**attempt, 10))
            continue
        data = response.json()
        word = "accepted" if data.get("created") else "already received"
        stdout.print(
            f"{word}: submission={data['id']} source={data['source']} records={data['records']}"
        )
        return
    raise UserError(
        f"could not reach the hub at {hub} after {retries} attempts ({last}); check the URL and try again"
    )


def _detail(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        return str(response.json().get("detail", response.text))
    return response.text[:300]
