"""`boldhub council`: the local page for data officers, on this machine only."""

from __future__ import annotations

import socket
import webbrowser
from pathlib import Path

import typer

from boldhub.cli.options import AGREEMENT_FILE, LINKAGE_KEY, SIGNING_KEY
from boldhub.cli.progress import stdout
from boldhub.council.encode import encode, signing_organisations
from boldhub.council.submit import HttpHubClient
from boldhub.errors import UserError
from boldhub.privacy.agreement import load_agreement
from boldhub.privacy.keys import load_key
from boldhub.privacy.signing import load_signing_key

# The page shows identifiers in clear: it listens on loopback and nowhere else, and has
# no option to change that.
HOST = "127.0.0.1"


def council(
    key: Path = LINKAGE_KEY,
    signing_key: Path = SIGNING_KEY,
    agreement: Path = AGREEMENT_FILE,
    workdir: Path = typer.Option(
        Path("boldhub-council"),
        "--workdir",
        help="Folder for uploads, prepared data, packages and saved mappings.",
    ),
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0: any free port)."),
    max_upload_mb: int = typer.Option(
        512, "--max-upload-mb", help="Largest export the page accepts, in MB."
    ),
    hub: str | None = typer.Option(
        None, "--hub", envvar="BOLDHUB_HUB_URL", help="The hub's URL, to submit from the page."
    ),
    token: str | None = typer.Option(
        None, "--token", envvar="BOLDHUB_TOKEN", help="Your API token (better: set BOLDHUB_TOKEN)."
    ),
    open_browser: bool = typer.Option(
        True, "--open/--no-open", help="Open the page in the default browser."
    ),
) -> None:
    """Serve the page for preparing, checking and encoding exports, on 127.0.0.1.

    For data officers without the command line: choose the dataset, upload the export,
    confirm the column mapping, read the validation report, then encode and save.
    """
    import uvicorn

    from boldhub.council.web.app import CouncilSettings, create_app

    signer = load_signing_key(signing_key)
    spec = load_agreement(agreement)
    linkage_key = load_key(key)

    def write_package(prepared: Path, out: Path) -> None:
        encode(prepared, linkage_key, out, agreement=spec, signing_key=signer)

    if max_upload_mb < 1:
        raise UserError("--max-upload-mb must be at least 1")
    if workdir.exists() and not workdir.is_dir():
        raise UserError(f"--workdir {workdir} is a file; give a folder")
    if hub and not token:
        raise UserError("--hub needs an API token: set BOLDHUB_TOKEN (or pass --token)")
    organisations = signing_organisations(spec, signer)
    if not organisations:
        raise UserError(
            f"{signing_key.name} is not the signing key of any party to agreement {spec.id}; "
            "give your organisation's signing key, or have the agreement updated"
        )
    client = HttpHubClient(hub, token) if hub and token else None
    settings = CouncilSettings(
        workdir, write_package, linkage_key.fingerprint, max_upload_mb * 1024**2, organisations
    )
    app = create_app(settings, client)
    sock = _loopback_socket(port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    stdout.print(f"BOLD Hub council page: {url} (work folder: {workdir}; Ctrl+C stops it)")
    if open_browser:
        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])


def _loopback_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise UserError(f"port {port} on {HOST} is in use; choose another with --port") from None
    return sock
