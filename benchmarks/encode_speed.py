"""Encoding speed: the same 200,000 records encoded by clkhash and by BOLD Hub, one core.

    .venv/bin/python -m benchmarks.encode_speed [--records 200000] [--runs 3]

Records: a synthetic population (boldhub.synth) prepared as each body would, first
200,000 rows (made once and cached in the temporary folder, boldhub-bench/). Fields, the same for both:
forename and surname as bigram Bloom filters (10 hashes each, 512 bits per name in
BOLD Hub; one 1,024-bit CLK holding both in clkhash), date of birth, sex, postcode and
NHS number as exact values (keyed tokens in BOLD Hub, hashed into the CLK by clkhash).
BOLD Hub also writes everything else its encoding holds (salting, nickname families,
date and postcode variants, the other ids), so it does more work per record.

Each encoder runs in its own process pinned to core 0 (``taskset -c 0``), reading the
records into memory first (not timed) and timing only the encoding call; the median of
``--runs`` runs is reported. clkhash runs in benchmarks/.venv (see bench_env.py) with
``max_workers=1``; BOLD Hub in this interpreter.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.bench_env import ensure

CACHE = Path(tempfile.gettempdir()) / "boldhub-bench"
FIELDS = ["forename", "surname", "dob", "sex", "postcode", "nhs_number"]

CLKHASH_RUN = textwrap.dedent(
    """
    import json, sys, time
    import pyarrow.parquet as pq
    from clkhash import clk
    from clkhash.schema import from_json_dict
    path, n = sys.argv[1], int(sys.argv[2])
    table = pq.read_table(path).slice(0, n)
    cols = __FIELDS__
    rows = [[v or "" for v in r] for r in zip(*(table.column(c).to_pylist() for c in cols))]
    def feature(name, comparison):
        return {"identifier": name, "format": {"type": "string", "encoding": "utf-8"},
                "hashing": {"comparison": comparison, "strategy": {"bitsPerToken": 10},
                            "hash": {"type": "doubleHash"},
                            "missingValue": {"sentinel": ""}}}
    bigram, exact = {"type": "ngram", "n": 2}, {"type": "exact"}
    schema = from_json_dict({"version": 3, "clkConfig": {"l": 1024, "kdf": {"type": "HKDF",
        "hash": "SHA256", "keySize": 64}}, "features": [feature("forename", bigram),
        feature("surname", bigram), feature("dob", exact), feature("sex", exact),
        feature("postcode", exact), feature("nhs", exact)]})
    start = time.perf_counter()
    clks = clk.generate_clks(rows, schema, "a shared secret", validate=True, max_workers=1)
    seconds = time.perf_counter() - start
    assert len(clks) == n
    print(json.dumps({"seconds": seconds}))
    """
).replace("__FIELDS__", repr(FIELDS))

# BOLD Hub's encoder, its secrets from a throwaway keyed function (the encoder's own
# work), or from the key service in this process (what a council's encode costs: the
# oblivious PRF of every distinct date of birth, postcode and number, on the given cores).
BOLDHUB_RUN = textwrap.dedent(
    """
    import json, secrets, sys, time
    import pyarrow.parquet as pq
    from boldhub.keyservice import KeyService, LocalTransport, OprfClient
    from boldhub.privacy.encoding import Encoder
    from boldhub.privacy.keys import LinkageKey
    from boldhub.privacy.prf import ThrowawayPRF
    from boldhub.schemas.identifiers import IDENTIFIER_NAMES
    path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    table = pq.read_table(path).slice(0, n)
    columns = {c: table.column(c) for c in IDENTIFIER_NAMES}
    keys = [secrets.token_hex(16) for _ in range(n)]
    if mode == "throwaway":
        prf = ThrowawayPRF()
    else:
        service = KeyService()
        service.add_key("bench", LinkageKey(secrets.token_bytes(32)))
        service.add_party("bench", "E08000025", n * 10)
        workers = 2 if mode == "keyservice-2" else 1
        prf = OprfClient(LocalTransport(service, "bench", party="E08000025"), workers=workers)
    start = time.perf_counter()
    out = Encoder(prf).encode_rows(keys, columns)
    seconds = time.perf_counter() - start
    assert out.num_rows == n
    print(json.dumps({"seconds": seconds}))
    """
)


def records(n: int) -> Path:
    """The first ``n`` prepared records of a synthetic population (cached)."""
    path = CACHE / f"records-{n}.parquet"
    if path.exists():
        return path
    from boldhub.council.prepare import PREPARED_FILE, prepare
    from boldhub.schemas.identifiers import IDENTIFIER_NAMES
    from boldhub.synth import generate

    work = CACHE / "synth"
    shutil.rmtree(work, ignore_errors=True)
    summary = generate(work / "exports", persons=max(1000, n * 43 // 100), councils=10, seed=11)
    tables = []
    for source, export in summary.files.items():
        dataset, org = source.split(":", 1)
        prepare(export, dataset, work / source.replace(":", "_"), org)
        tables.append(
            pq.read_table(work / source.replace(":", "_") / PREPARED_FILE).select(
                list(IDENTIFIER_NAMES)
            )
        )
    table = pa.concat_tables(tables)
    if table.num_rows < n:
        raise SystemExit(f"only {table.num_rows} records were made; raise the population")
    CACHE.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.slice(0, n), path)
    shutil.rmtree(work, ignore_errors=True)
    return path


def timed(
    python: Path | str, code: str, path: Path, n: int, mode: str = "", cores: str = "0"
) -> float:
    proc = subprocess.run(
        ["taskset", "-c", cores, str(python), "-c", code, str(path), str(n), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--key-service",
        action="store_true",
        help="time BOLD Hub alone with its secrets from the key service in process, on both "
        "cores (what a council's encode costs), instead of the comparison with clkhash",
    )
    args = parser.parse_args()
    if args.key_service:
        path = records(args.records)
        times = [
            timed(sys.executable, BOLDHUB_RUN, path, args.records, "keyservice-2", "0,1")
            for _ in range(args.runs)
        ]
        median = statistics.median(times)
        print(f"records: {args.records:,}, key service in process, 2 cores, median of {args.runs}")
        print(
            f"BOLD Hub with the key service: {median:.1f} s  {args.records / median:,.0f} records/s"
        )
        return
    bench_python = ensure()
    path = records(args.records)
    n = args.records
    clk, ours = [], []
    for _ in range(args.runs):  # interleaved, so that a busy moment hits both
        clk.append(timed(bench_python, CLKHASH_RUN, path, n))
        ours.append(timed(sys.executable, BOLDHUB_RUN, path, n, "throwaway"))
    clk_rate, our_rate = n / statistics.median(clk), n / statistics.median(ours)
    print(f"records: {n:,} (same file for both), one core (taskset -c 0), median of {args.runs}")
    print(f"clkhash: {statistics.median(clk):.2f} s  {clk_rate:,.0f} records/s")
    print(f"BOLD Hub: {statistics.median(ours):.2f} s  {our_rate:,.0f} records/s")
    print(f"BOLD Hub / clkhash: {our_rate / clk_rate:.1f}x")


if __name__ == "__main__":
    main()
