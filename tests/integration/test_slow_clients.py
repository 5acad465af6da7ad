"""A slowly trickled request is cut off (issue 17: it stayed open indefinitely), and the
hub stays responsive meanwhile. The real `boldhub serve`, raw sockets, a 2-second limit."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from boldhub.hub.store import open_hub
from tests.support.hubworld import tokens_for
from tests.support.server import running_hub

LIMIT = 2.0


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The hub's URL and a submitter's token (so that an upload's body is read)."""
    home = tmp_path_factory.mktemp("slow") / "hub"
    store = open_hub(home, create=True)
    token = tokens_for(store, ["E08000025"])["E08000025"]
    env = {"BOLDHUB_SLOW_REQUEST_SECONDS": str(LIMIT), "BOLDHUB_COOKIE_SECURE": "false"}
    with running_hub(home, env) as url:
        yield url, token


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    return sock


def _trickle(
    sock: socket.socket, head: bytes, drip: bytes, every: float, for_at_most: float
) -> tuple[float, bytes]:
    """Send ``head``, then ``drip`` every ``every`` seconds until the hub closes the
    connection: how long it stayed open, and what the hub answered."""
    started = time.monotonic()
    sock.sendall(head)
    answer = b""
    sock.settimeout(every)
    while time.monotonic() - started < for_at_most:
        try:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
            continue
        except TimeoutError:
            pass
        try:
            sock.sendall(drip)
        except (BrokenPipeError, ConnectionResetError):
            break
    return time.monotonic() - started, answer


def test_headers_trickled_a_byte_at_a_time_are_cut_off(hub: tuple[str, str]) -> None:
    with _connect(hub[0]) as sock:
        took, answer = _trickle(
            sock, b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Slow: ", b"a", 0.5, 30
        )
    assert took < 3 * LIMIT, took
    assert answer.startswith(b"HTTP/1.1 408"), answer


def test_a_body_trickled_a_few_bytes_at_a_time_is_cut_off(hub: tuple[str, str]) -> None:
    url, token = hub
    head = (
        b"POST /api/v1/submissions HTTP/1.1\r\nHost: hub\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: application/x-tar\r\nContent-Length: 1000000\r\n\r\n"
    )
    with _connect(url) as sock:
        took, answer = _trickle(sock, head, b"\0" * 10, 0.5, 30)
    # 10 bytes every half second never stops, but is far below 1 KiB/s: cut at 2 x LIMIT.
    assert 2 * LIMIT <= took < 4 * LIMIT, took
    assert answer.startswith(b"HTTP/1.1 408"), answer


def test_a_connection_that_sends_nothing_is_closed(hub: tuple[str, str]) -> None:
    with _connect(hub[0]) as sock:
        sock.settimeout(4 * LIMIT)
        started = time.monotonic()
        answer = sock.recv(4096)
    assert time.monotonic() - started < 3 * LIMIT
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def test_the_hub_answers_others_while_slow_clients_wait(hub: tuple[str, str]) -> None:
    hub_url = hub[0]
    socks = [_connect(hub_url) for _ in range(20)]
    try:
        for sock in socks:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")
        started = time.monotonic()
        assert httpx.get(hub_url + "/healthz", timeout=5).status_code == 200
        assert time.monotonic() - started < 1
    finally:
        for sock in socks:
            sock.close()
