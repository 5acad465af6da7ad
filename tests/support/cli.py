"""Run the real `boldhub` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def boldhub(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boldhub.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """A user error: non-zero exit, one line on stderr naming the problem, no traceback."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("boldhub: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), (needle, lines[0])


def register_and_sign(agreement: Path, home: Path, signing_keys: dict[str, Path]) -> None:
    """Register an agreement at the hub and have each party sign it, by command, as the
    hub's team and each DPO would: it is active afterwards."""
    proc = boldhub("agreement", "register", str(agreement), "--home", str(home))
    assert proc.returncode == 0, proc.stderr
    for org, key in sorted(signing_keys.items()):
        proc = boldhub(
            "agreement", "sign", str(agreement), "--key", str(key),
            "--organisation", org, "--home", str(home),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    assert "status=active" in proc.stdout, proc.stdout
