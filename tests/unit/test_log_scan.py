"""The log scan (tests/support/log_scan.py) finds what it is for: a run whose code logs a
token, a password or an identifier fails, with or without xdist, and names the test and
the kind, not the value. Its patterns leave the hub's ordinary log lines alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.log_scan import kinds_in

ROOT = Path(__file__).resolve().parents[2]

LEAKY = """
import logging

log = logging.getLogger("boldhub.hub")


def test_quiet() -> None:
    log.info("request refused", extra={"status": 422, "path": "/api/v1/submissions"})


def test_leaks() -> None:
    quiet = logging.getLogger("boldhub.quiet")
    quiet.propagate = False  # seen even so
    quiet.warning("upload from %s", "NHS 943 476 5919")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_run_that_logs_an_identifier_fails_and_names_the_test(
    tmp_path: Path, workers: list[str]
) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    args = ["-q", "-p", "tests.support.log_scan", *workers, "--rootdir", str(tmp_path)]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "BOLDHUB_LOG_SCAN_DIR": ""},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
    assert "log scan: 1 log lines hold" in proc.stdout
    assert "test_leaky.py::test_leaks" in proc.stdout and "an NHS number" in proc.stdout
    assert "943 476 5919" not in proc.stdout


@pytest.mark.parametrize(
    ("line", "kinds"),
    [
        ('{"message": "request refused", "status": 422, "path": "/api/v1/submissions"}', []),
        ('127.0.0.1:54321 - "GET /healthz HTTP/1.1" 200', []),
        ("linkage run 20261207T101010-a1b2c3 done: 1,234 records, E08000025", []),
        ("manifest sha256 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", []),
        ("Authorization: Bearer bh_" + "x" * 43, ["an API token"]),
        ("signed in with correct horse battery staple", ["a password"]),
        ("nhs_number=9434765919", ["an NHS number"]),
        ("ni AB 12 34 56 C", ["a National Insurance number"]),
        ("no fixed abode, last at SW1A 1AA", ["a postcode"]),
    ],
)
def test_the_patterns(line: str, kinds: list[str]) -> None:
    assert kinds_in(line) == kinds
