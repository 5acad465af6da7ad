"""Slow clients are cut off: a request trickled in a byte at a time cannot hold a
connection (and a worker's memory) open for ever.

uvicorn closes idle keep-alive connections, but it waits without limit for the headers of
a request and for the rest of its body. This protocol, uvicorn's h11 one with a clock,
answers 408 and closes the connection when

- the request line and headers are not complete ``timeout`` seconds after they began
  (or after the connection opened, when nothing was sent);
- nothing of a body arrives for ``timeout`` seconds, while the hub is reading it;
- a body still arriving after ``2 × timeout`` seconds has come at under ``MIN_RATE``
  bytes a second on average: a 100 MB package at that rate is a day's upload.

Time during which the hub itself stopped reading (flow control) is not held against the
client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("boldhub.hub")

MIN_RATE = 1024  # bytes a second, averaged over the body so far


class SlowClientGuard(H11Protocol):
    timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._began: float | None = None  # when the current request's first byte came
        self._last = 0.0  # when its last byte came (or reading last resumed)
        self._body_began: float | None = None
        self._body_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._checked = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._began = self._last = self._checked = time.monotonic()
        self._schedule()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self._began is None:
            self._began = now
        self._last = now
        if self.conn.their_state is h11.SEND_BODY:
            if self._body_began is None:
                self._body_began = now
            self._body_bytes += len(data)
        super().data_received(data)
        if self.conn.their_state is h11.SEND_BODY and self._body_began is None:
            self._body_began = now  # the headers ended in this chunk
        elif self.conn.their_state in (h11.DONE, h11.MUST_CLOSE):
            self._began = self._body_began = None
            self._body_bytes = 0

    def _schedule(self) -> None:
        self._timer = self.loop.call_later(min(1.0, self.timeout / 4), self._check)

    def _check(self) -> None:
        now = time.monotonic()
        if self.flow.read_paused:
            # The hub is not reading: not the client's delay.
            self._last = now
            if self._body_began is not None:
                self._body_began += now - self._checked
        self._checked = now
        reason = self._too_slow(now)
        if reason is None:
            self._schedule()
            return
        log.warning("closed a slow request: %s", reason)
        self._refuse()

    def _too_slow(self, now: float) -> str | None:
        state = self.conn.their_state
        if state is h11.IDLE and self._began is not None:
            if now - self._began > self.timeout:
                return "its headers were not complete in time"
        elif state is h11.SEND_BODY and self._body_began is not None:
            if now - self._last > self.timeout:
                return "its body stopped arriving"
            elapsed = now - self._body_began
            if elapsed > 2 * self.timeout and self._body_bytes / elapsed < MIN_RATE:
                return "its body arrived too slowly"
        return None

    def _refuse(self) -> None:
        if self.cycle is None or not self.cycle.response_started:
            try:
                body = b"Request Timeout: the request was sent too slowly; send it again.\n"
                self.transport.write(
                    self.conn.send(
                        h11.Response(
                            status_code=408,
                            headers=[
                                (b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close"),
                            ],
                            reason=b"Request Timeout",
                        )
                    )
                    or b""
                )
                self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
                self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
            except h11.LocalProtocolError:
                pass  # a response was already under way: just close
            if self.cycle is not None:
                self.cycle.response_started = self.cycle.response_complete = True
        self.transport.close()


def guarded(timeout: float) -> type[SlowClientGuard]:
    """The protocol class for uvicorn's ``http=`` with ``timeout`` seconds."""
    return type("SlowClientGuardConfigured", (SlowClientGuard,), {"timeout": float(timeout)})
