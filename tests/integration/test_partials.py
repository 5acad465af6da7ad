"""What a crash leaves behind is cleaned when the hub starts (issue 17: after a crash,
``*.partial`` files stayed forever)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from boldhub.config import Settings
from boldhub.hub.api.app import create_app
from boldhub.hub.store import ATTRIBUTES_DIR, ENCODINGS_DIR, RUNS_DIR, open_hub


def _age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_the_hub_removes_unfinished_writes_at_start_and_keeps_everything_else(
    tmp_path: Path,
) -> None:
    home = tmp_path / "hub"
    open_hub(home, create=True)
    for d in (ENCODINGS_DIR, ATTRIBUTES_DIR, RUNS_DIR, "tmp"):
        home.joinpath(d).mkdir(parents=True, exist_ok=True)
    stale_file = home / ENCODINGS_DIR / "0123456789abcdef.parquet.partial"
    stale_file.write_bytes(b"half a file")
    stale_run = home / RUNS_DIR / ".20261207T101010-abcdef.partial"
    (stale_run / "model").mkdir(parents=True)
    (stale_run / "model" / "model.json").write_text("{}")
    stale_upload = home / "tmp" / "upload-x1y2"
    stale_upload.mkdir()
    (stale_upload / "upload.tar.partial").write_bytes(b"\0" * 10)
    for path in (stale_file, stale_run, stale_upload):
        _age(path, 2 * 3600)
    # A write that may still be running in another process, and finished files.
    fresh = home / ATTRIBUTES_DIR / "fedcba9876543210.parquet.partial"
    fresh.write_bytes(b"being written")
    kept = home / ENCODINGS_DIR / "0123456789abcdef.parquet"
    kept.write_bytes(b"a stored file")
    _age(kept, 2 * 3600)

    create_app(home, Settings(cookie_secure=False))

    assert not stale_file.exists() and not stale_run.exists() and not stale_upload.exists()
    assert fresh.exists()
    assert kept.read_bytes() == b"a stored file"
