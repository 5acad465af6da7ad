"""Submitting a package to the hub: the client used by `boldhub submit` and the page.

:class:`HttpHubClient` sends a package folder as a tar stream to the hub's
``POST /api/v1/submissions`` with the user's API token, and retries on network failures
and 5xx answers: resending is safe, because the hub treats the same package twice as one
submission. Without a configured hub (no URL or no token) the council page uses
:class:`NoHubClient`, offers "save the package" only, and says so plainly.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from boldhub.errors import HubUnavailable, UserError
from boldhub.privacy.package import MANIFEST_FILE, package_files

NOT_AVAILABLE = (
    "Submitting to the hub from this page is not set up: start the page with --hub and an "
    "API token in BOLDHUB_TOKEN, or save the package and send it with `boldhub submit`."
)


@dataclass(frozen=True)
class SubmissionReceipt:
    """What the hub answers for an accepted package."""

    submission_id: str
    source: str
    records: int
    created: bool  # False: the hub already had this very package


class HubClient(Protocol):
    def available(self) -> bool:
        """Whether a hub is configured and submitting can be offered."""

    def submit(self, package: Path) -> SubmissionReceipt:
        """Upload one package folder; raise a UserError saying why when the hub refuses."""


class NoHubClient:
    """No hub configured: the page offers saving only."""

    def available(self) -> bool:
        return False

    def submit(self, package: Path) -> SubmissionReceipt:
        raise HubUnavailable(NOT_AVAILABLE)


def submission_body(package: Path) -> bytes:
    """What `boldhub submit` and the page send: the files the package's signed manifest
    lists, its manifest and signature, as an uncompressed tar. Raises PackageError,
    before any connection, for a folder holding anything else or a changed file."""
    return _tar(package_files(package))


def tar_package(package: Path) -> bytes:
    """Every file of a folder as a tar, unchecked: for tests that send the hub what a
    broken client would. Clients send :func:`submission_body`."""
    if not package.is_dir() or not (package / MANIFEST_FILE).is_file():
        raise UserError(
            f"{package} is not a package folder (no {MANIFEST_FILE}); give the folder "
            "`boldhub encode` wrote"
        )
    return _tar([p for p in sorted(package.iterdir()) if p.is_file()])


def _tar(files: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in files:
            tar.add(path, arcname=path.name, recursive=False)
    return buffer.getvalue()


class HttpHubClient:
    """Uploads packages to a hub service over HTTP(S) with an API token."""

    def __init__(self, url: str, token: str, *, retries: int = 3) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.retries = max(retries, 1)

    def available(self) -> bool:
        return bool(self.url and self.token)

    def submit(self, package: Path) -> SubmissionReceipt:
        return self.send(submission_body(package))

    def send(self, body: bytes, progress: Callable[[int], None] | None = None) -> SubmissionReceipt:
        """Upload a package already packed by :func:`submission_body`. ``progress`` is called
        with each count of bytes sent; before a retry it is called with minus what the
        failed attempt sent, so that a bar counts each byte once."""
        last: str = ""
        sent = [0]

        def count(n: int) -> None:
            sent[0] += n
            if progress is not None:
                progress(n)

        for attempt in range(1, self.retries + 1):
            if sent[0]:
                count(-sent[0])
            try:
                response = httpx.post(
                    self.url + "/api/v1/submissions",
                    content=_chunks(body, count),
                    headers={
                        "Authorization": f"Bearer {self.token}",
                        "Content-Type": "application/x-tar",
                        "Content-Length": str(len(body)),
                    },
                    timeout=httpx.Timeout(30.0, read=600.0),
                )
            except httpx.TransportError as exc:
                last = exc.__class__.__name__
            else:
                if 400 <= response.status_code < 500:
                    raise UserError(
                        f"the hub refused the package ({response.status_code}): {_detail(response)}"
                    )
                if response.status_code < 300:
                    data = response.json()
                    return SubmissionReceipt(
                        str(data["id"]),
                        str(data["source"]),
                        int(data["records"]),
                        bool(data["created"]),
                    )
                last = f"HTTP {response.status_code}"
            if attempt < self.retries:
                time.sleep(min(2**attempt, 10))
        raise UserError(
            f"could not reach the hub at {self.url} after {self.retries} attempts ({last}); "
            "check the URL and try again (resending is safe)"
        )


def _chunks(body: bytes, progress: Callable[[int], None] | None) -> Iterator[bytes]:
    for i in range(0, len(body), 1 << 20):
        chunk = body[i : i + (1 << 20)]
        if progress is not None:
            progress(len(chunk))
        yield chunk


def _detail(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        return str(response.json().get("detail", response.text))
    return response.text[:300]
