"""The README's promise: `boldhub demo` at the default size, in time, accurately."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.support.cli import boldhub


@pytest.mark.slow
def test_default_demo_meets_its_targets(tmp_path: Path) -> None:
    started = time.perf_counter()
    proc = boldhub("demo", "--out", str(tmp_path / "demo"), timeout=600)
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    m = re.fullmatch(r"linkage: precision=([\d.]+) recall=([\d.]+) f1=([\d.]+)", last)
    assert m, last
    assert float(m.group(3)) >= 0.95
    assert seconds < 180, seconds
    records = int(re.search(r"records linked: (\d+)", proc.stdout).group(1))  # type: ignore[union-attr]
    assert records >= 30_000
    for sub in ("council", "hub", "reports"):
        assert (tmp_path / "demo" / sub).is_dir()
    assert (tmp_path / "demo" / "reports" / "national.html").is_file()
