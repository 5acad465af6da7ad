"""`boldhub submit`'s progress: a retried upload counts each byte once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from boldhub.council import submit
from boldhub.council.submit import HttpHubClient


def test_a_retry_rewinds_the_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []

    def post(url: str, content: Iterator[bytes], **_: Any) -> httpx.Response:
        sent = 0
        for chunk in content:
            sent += len(chunk)
            if not attempts and sent >= 2 << 20:  # the first attempt dies mid-upload
                attempts.append(sent)
                raise httpx.ConnectError("connection reset")
        attempts.append(sent)
        return httpx.Response(201, json={"id": "S1", "source": "x", "records": 3, "created": True})

    monkeypatch.setattr(submit.httpx, "post", post)
    monkeypatch.setattr(submit.time, "sleep", lambda _s: None)
    counts: list[int] = []
    body = b"\0" * (5 << 20)
    receipt = HttpHubClient("http://hub.test", "token", retries=2).send(body, counts.append)
    assert receipt.submission_id == "S1"
    assert attempts == [2 << 20, 5 << 20]
    assert sum(counts) == len(body)  # the bar ends at the body's size, not beyond it
    assert -(2 << 20) in counts
