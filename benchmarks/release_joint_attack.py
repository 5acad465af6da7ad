"""The joint attack on a demo's release: one linear programme over every count the release
publishes and every identity between its tables, on a sample of its ``[c]`` cells.

    .venv/bin/python -m benchmarks.release_joint_attack DIR [--narrowest 20] [--cells 20]

DIR is a ``boldhub demo --out DIR`` folder: its release is ``DIR/reports`` and its hub
``DIR/hub``. The release is computed and protected again from the hub's latest run, to
know the true counts and which suppressions are primary, and must equal ``DIR/reports``
byte for byte. The attacker (``tests/support/release_attacker.py``) knows each table's
sums, the rounding, which ``[c]`` are primary (``[0, 9]``) and which secondary
(``>= 10``), and every identity between tables that holds of any release: people with an
outcome are among the cohort, a national count is at most its councils' sum, the
overlaps add up to the cohorts, and the others listed there (checked against the true
counts first). The cells attacked are the ``--narrowest`` whose ranges are narrowest when
each table is attacked on its own (the cells the identities between tables could most
easily push under five values) and ``--cells`` others drawn at random (``--seed``); for
each the whole programme is solved at both ends. Prints a summary; writes every cell's range to
``out/release_joint_attack.json``.

The tests attack every table on its own (``tests/integration/test_release_attack.py``);
this is the stronger attacker, too slow (seconds a cell) to run on every cell in CI.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.release_attacker import (
    JointAttack,
    build_release,
    by_table,
    differences,
    label,
    primary_of,
    read_release,
    reader_constraints,
    truth_of,
    violated,
)

from boldhub.outcomes.disclosure import MIN_WIDTH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("demo", type=Path, help="a boldhub demo --out folder")
    parser.add_argument("--narrowest", type=int, default=20)
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/release_joint_attack.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        built = build_release(args.demo / "hub", Path(tmp))
        differ = differences(Path(tmp), args.demo / "reports")
        if differ:
            raise SystemExit(f"the rebuilt release differs from the demo's: {differ}")
    files = read_release(args.demo / "reports")
    constraints = reader_constraints(files)
    truth = truth_of(built.raws)
    broken = violated(constraints, truth)
    if broken:
        raise SystemExit(f"{len(broken)} identities do not hold of the true counts")
    primary = primary_of(built.tables)
    own = by_table(files, primary)
    suppressed = sorted(files.suppressed())
    narrowest = sorted(suppressed, key=lambda v: (own[v][1] - own[v][0], v))[: args.narrowest]
    rest = [v for v in suppressed if v not in set(narrowest)]
    sample = narrowest + random.Random(args.seed).sample(rest, min(args.cells, len(rest)))
    attack = JointAttack(files, constraints, primary=primary)
    cells = []
    for var in sample:
        started = time.perf_counter()
        low, high = attack.range_of(var)
        cells.append(
            {
                "cell": label(var),
                "table_by_itself": own[var],
                "low": low,
                "high": high,
                "true_in_range": low - 1e-6 <= truth[var] <= high + 1e-6,
                "seconds": time.perf_counter() - started,
            }
        )
    narrowed = [c for c in cells if c["high"] - c["low"] < MIN_WIDTH - 1e-6]
    summary = {
        "demo": str(args.demo),
        "counts": len(files.values),
        "suppressed": len(suppressed),
        "identities": len(constraints),
        "setup_seconds": attack.setup_seconds,
        "narrowed_table_by_table": sum(hi - lo < MIN_WIDTH - 1e-6 for lo, hi in own.values()),
        "narrowest_table_by_table": min(hi - lo for lo, hi in own.values()),
        "cells_attacked": len(cells),
        "narrowed_below_five_values": len(narrowed),
        "median_seconds_per_cell": statistics.median(c["seconds"] for c in cells),
        "cells": cells,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(
        f"{summary['counts']} counts ({summary['suppressed']} [c]), "
        f"{summary['identities']} identities; table by table, {summary['narrowed_table_by_table']} "
        f"narrowed (narrowest range {summary['narrowest_table_by_table']:.1f}); "
        f"jointly: setup {attack.setup_seconds:.1f} s, "
        f"{len(cells)} [c] attacked, median {summary['median_seconds_per_cell']:.1f} s each; "
        f"narrowed below five values: {len(narrowed)}"
    )


if __name__ == "__main__":
    main()
