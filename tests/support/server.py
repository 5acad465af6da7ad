"""Start the real `boldhub serve` as a subprocess on a free loopback port, and a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_boldhub(
    args: list[str], port: int, log_path: Path, ready_path: str, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run `boldhub ARGS` in a subprocess until ``ready_path`` answers 200; stop it after."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "boldhub.cli.main", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + ready_path, timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"boldhub {args[0]} did not start: {log_path.read_text()[-2000:]}"
                    )
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def running_hub(home: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The real `boldhub serve` on a free loopback port; its JSON log beside the home."""
    port = free_port()
    args = ["serve", "--home", str(home), "--port", str(port)]
    with running_boldhub(args, port, home.parent / f"serve-{port}.log", "/healthz", env) as url:
        yield url


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (CI installs it: apt-get install chromium)")


def start_serve(
    home: Path, log: Path, env: dict[str, str] | None = None, code: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`boldhub serve` on a free port, left running for the caller to stop or kill:
    the fault tests kill it. ``code``: Python to run instead of the entry point, given
    the command's arguments in ``sys.argv[1:]`` (to place a fault inside the server)."""
    port = free_port()
    args = ["serve", "--home", str(home), "--port", str(port)]
    command = ["-c", code, *args] if code else ["-m", "boldhub.cli.main", *args]
    proc = subprocess.Popen(
        [sys.executable, *command],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "BOLDHUB_COOKIE_SECURE": "false", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"boldhub serve did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def upload(url: str, token: str, package: Path) -> httpx.Response:
    """Send a package folder to the hub's API as `boldhub submit` does."""
    from boldhub.council.submit import submission_body

    return httpx.post(
        url + "/api/v1/submissions",
        content=submission_body(package),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-tar"},
        timeout=60,
    )
