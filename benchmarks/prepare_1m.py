"""Benchmark: `boldhub prepare` on a 1,000,000-row homelessness export, on one core.

    .venv/bin/python benchmarks/prepare_1m.py [--rows 1000000] [--runs 3] [--work DIR]

Builds the export first (not timed): rows of a synthetic population's homelessness export
(`boldhub.synth`), each given a new case reference and perturbed so that the distinct
values are as many as a real export of this size would have: about half the rows get a
fresh valid NHS number, most a postcode from a pool of 300,000, some a keying error in a
name, and the formats are mixed the way exports are ("sw1a1aa", NHS numbers with spaces,
two date styles). About 0.3% of rows lack the application date, so some are quarantined.

Then runs `boldhub prepare` on it ``--runs`` times, each pinned to one core
(``taskset -c 0``) under ``/usr/bin/time -v``, and prints the wall time and peak memory
(maximum resident set size) of each run and their medians. Exits 1 if the median is over
60 s or the peak memory reaches 2 GiB.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from boldhub.schemas import get_dataset
from boldhub.synth import generate
from boldhub.synth.noise import typo

LIMIT_SECONDS = 60.0
LIMIT_BYTES = 2 * 1024**3
ORG = "E08000025"


def _nhs_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """Valid NHS numbers (modulus 11 check digit), ``n`` of them."""
    out: list[str] = []
    weights = np.arange(10, 1, -1)
    while len(out) < n:
        digits = rng.integers(0, 10, size=(n, 9))
        digits[:, 0] = rng.integers(4, 10, size=n)
        check = 11 - (digits @ weights) % 11
        check[check == 11] = 0
        ok = check != 10
        rows = np.concatenate([digits[ok], check[ok, None]], axis=1)
        out.extend("".join(map(str, r)) for r in rows[: n - len(out)])
    return out


def _postcodes(rng: random.Random, n: int) -> list[str]:
    areas = [
        "B",
        "M",
        "LS",
        "SW",
        "EC",
        "N",
        "E",
        "W",
        "BS",
        "OX",
        "NG",
        "NE",
        "BN",
        "CB",
        "HU",
        "L",
        "S",
        "G",
    ]
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    pool: set[str] = set()
    while len(pool) < n:
        pool.add(
            f"{rng.choice(areas)}{rng.randint(1, 40)} {rng.randint(0, 9)}"
            f"{rng.choice(letters)}{rng.choice(letters)}"
        )
    return sorted(pool)


def build_export(path: Path, rows: int, seed: int = 1) -> None:
    dataset = get_dataset("homelessness")
    header = list(dataset.export_headers)
    col = {h: i for i, h in enumerate(header)}
    with tempfile.TemporaryDirectory() as tmp:
        summary = generate(Path(tmp), persons=30_000, councils=1, seed=seed)
        with summary.files[f"homelessness:{ORG}"].open(newline="", encoding="utf-8") as fh:
            templates = list(csv.reader(fh))[1:]
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    nhs = _nhs_numbers(nrng, rows // 2)
    postcodes = _postcodes(rng, 300_000)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        for i in range(rows):
            row = list(templates[rng.randrange(len(templates))])
            row[col["CaseRef"]] = f"HC-{i + 1:08d}"
            r = rng.random()
            if i % 2 == 0:
                number = nhs[i // 2]
                row[col["NHSNumber"]] = (
                    f"{number[:3]} {number[3:6]} {number[6:]}" if r < 0.2 else number
                )
            if r < 0.7:
                pc = postcodes[rng.randrange(len(postcodes))]
                row[col["Postcode"]] = pc.replace(" ", "").lower() if r < 0.1 else pc
            if r < 0.06:
                row[col["Surname"]] = typo(row[col["Surname"]], rng)
            elif r < 0.12:
                row[col["Forename"]] = typo(row[col["Forename"]], rng)
            if rng.random() < 0.3 and re.match(r"\d\d/\d\d/\d{4}$", row[col["DateOfBirth"]]):
                d, m, y = row[col["DateOfBirth"]].split("/")
                row[col["DateOfBirth"]] = f"{y}-{m}-{d}"
            if rng.random() < 0.003:
                row[col["AppDate"]] = ""
            writer.writerow(row)


def _measure(export: Path, out: Path) -> tuple[float, int, str]:
    """One run, pinned to CPU 0: (wall seconds, peak RSS bytes, the command's summary line)."""
    shutil.rmtree(out, ignore_errors=True)
    command = [
        "/usr/bin/time", "-v", "taskset", "-c", "0",
        sys.executable, "-m", "boldhub.cli.main", "prepare", str(export),
        "--dataset", "homelessness", "--org", ORG, "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"prepare failed:\n{proc.stderr[-3000:]}")
    elapsed = re.search(
        r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", proc.stderr
    )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert elapsed and rss, proc.stderr
    hours, minutes, seconds = elapsed.groups()
    wall = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    summary = next(line for line in proc.stdout.splitlines() if line.startswith("rows:"))
    return wall, int(rss.group(1)) * 1024, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="keep the export here")
    args = parser.parse_args()
    for tool in ("/usr/bin/time", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (Debian: apt-get install time util-linux)")
    work = args.work or Path(tempfile.mkdtemp(prefix="boldhub-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    export = work / f"homelessness_{args.rows}.csv"
    if not export.exists():
        print(f"building {export} ...", flush=True)
        build_export(export, args.rows)
    print(f"export: {args.rows:,} rows, {export.stat().st_size / 1024**2:.0f} MiB", flush=True)
    walls: list[float] = []
    peaks: list[int] = []
    for run in range(1, args.runs + 1):
        wall, peak, summary = _measure(export, work / "prepared")
        walls.append(wall)
        peaks.append(peak)
        print(f"run {run}: {wall:.1f} s, peak RSS {peak / 1024**3:.2f} GiB ({summary})", flush=True)
    median_wall = statistics.median(walls)
    median_peak = statistics.median(peaks)
    print(
        f"median: {median_wall:.1f} s, peak RSS {median_peak / 1024**3:.2f} GiB "
        f"(max {max(peaks) / 1024**3:.2f} GiB); limits {LIMIT_SECONDS:.0f} s, 2 GiB"
    )
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if median_wall <= LIMIT_SECONDS and max(peaks) < LIMIT_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
