"""Dice comparisons per second per core: BOLD Hub's compiled kernel against anonlink's,
side by side.

    .venv/bin/python -m benchmarks.dice_speed [--filters 2000] [--bits 1024] [--runs 3]

Both compare every filter of one set with every filter of another (``--filters`` squared
pairs) and keep the pairs with Dice >= 0.8, on one core (``taskset -c 0``), on the same
random filters (about half their bits set). BOLD Hub: ``linkage.dice.dice_all_pairs``
(numba), Dice from the XOR popcount of 64-bit words and the filters' weights; its JIT
compilation is done before timing (one call on three filters, as a service warms up).
anonlink: ``dice_coefficient_accelerated`` (its C++ kernel), in benchmarks/.venv (see
bench_env.py). A third line gives the expression the linkage model runs in SQL
(linkage/model.py) in DuckDB with ``threads=1``, for reference. Median of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from benchmarks.bench_env import ensure

THRESHOLD = 0.8

ANONLINK_RUN = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from bitarray import bitarray
    from anonlink.similarities import dice_coefficient_accelerated
    raw = np.load(sys.argv[1])
    runs = int(sys.argv[2])
    def bits(row):
        b = bitarray(endian="big"); b.frombytes(row.tobytes()); return b
    a = [bits(r) for r in raw[0]]; b = [bits(r) for r in raw[1]]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        dice_coefficient_accelerated((a, b), threshold=float(sys.argv[3]), k=None)
        times.append(time.perf_counter() - t)
    print(json.dumps(times))
    """
)

BOLDHUB_RUN = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from boldhub.linkage.dice import dice_all_pairs
    raw = np.load(sys.argv[1]); runs = int(sys.argv[2]); threshold = float(sys.argv[3])
    words = [r.view("<i8") for r in raw]
    pops = [np.unpackbits(r, axis=1).sum(1) for r in raw]
    dice_all_pairs(words[0][:3], pops[0][:3], words[1][:3], pops[1][:3], threshold)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        dice_all_pairs(words[0], pops[0], words[1], pops[1], threshold)
        times.append(time.perf_counter() - t)
    print(json.dumps(times))
    """
)

DUCKDB_RUN = textwrap.dedent(
    """
    import json, sys, time
    import duckdb, numpy as np, pyarrow as pa
    from boldhub.linkage.model import dice_sql
    raw = np.load(sys.argv[1]); runs = int(sys.argv[2])
    words = raw.shape[2] // 8
    con = duckdb.connect(); con.execute("SET threads = 1")
    for side, arr in (("l", raw[0]), ("r", raw[1])):
        w = arr.view("<i8")
        cols = {f"f_w{i}_{side}": pa.array(w[:, i]) for i in range(words)}
        cols[f"f_pop_{side}"] = pa.array(np.unpackbits(arr, axis=1).sum(1).astype("int16"))
        con.register(f"t_{side}_arrow", pa.table(cols))
        con.execute(f"CREATE TABLE t_{side} AS SELECT * FROM t_{side}_arrow")
    sql = f"SELECT count(*) FROM t_l, t_r WHERE {dice_sql('f', words)} >= {float(sys.argv[3])}"
    times = []
    for _ in range(runs):
        t = time.perf_counter(); con.execute(sql).fetchall(); times.append(time.perf_counter() - t)
    print(json.dumps(times))
    """
)


def _run(python: str, code: str, data: Path, runs: int) -> list[float]:
    out = subprocess.run(
        ["taskset", "-c", "0", python, "-c", code, str(data), str(runs), str(THRESHOLD)],
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    times: list[float] = json.loads(out.stdout.strip().splitlines()[-1])
    return times


def _ms(times: list[float]) -> str:
    return "[" + ", ".join(f"{t * 1000:.1f}" for t in times) + "] ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--filters", type=int, default=2000)
    parser.add_argument("--bits", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 256, (2, args.filters, args.bits // 8), dtype=np.uint8)
    pairs = args.filters**2
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "filters.npy"
        np.save(data, raw)
        ours = _run(sys.executable, BOLDHUB_RUN, data, args.runs)
        theirs = _run(str(ensure()), ANONLINK_RUN, data, args.runs)
        sql = _run(sys.executable, DUCKDB_RUN, data, args.runs)
    ours_rate = pairs / statistics.median(ours) / 1e6
    theirs_rate = pairs / statistics.median(theirs) / 1e6
    sql_rate = pairs / statistics.median(sql) / 1e6
    print(f"pairs per run: {pairs:,} ({args.bits}-bit filters, one core)")
    print(f"BOLD Hub (numba kernel):    {ours_rate:8.1f} M comparisons/s  runs={_ms(ours)}")
    print(f"anonlink (C++ kernel):      {theirs_rate:8.1f} M comparisons/s  runs={_ms(theirs)}")
    print(f"BOLD Hub (DuckDB SQL):      {sql_rate:8.1f} M comparisons/s  runs={_ms(sql)}")
    print(f"ratio BOLD Hub / anonlink: {ours_rate / theirs_rate:.2f} (target >= 2)")


if __name__ == "__main__":
    main()
