"""Where NumPy scoring (linkage/compiled.py) stops paying: a saved model scored both ways
on growing cuts of the million-record synthetic population.

    .venv/bin/python -m benchmarks.compiled_crossover [--records 50000 100000 200000]

For each size: the first records of each of the six sources (equal shares), a model
trained on them through Splink (untimed), then the same saved model scored with NumPy and
through Splink's pipeline (``compiled_max_records=0``), one run each after one untimed
run of each on the first size (numba's compiled kernels loaded, the model's SQL parsed,
as in a running hub), with the pairs each scored (equal by construction; tests/integration/test_compiled.py checks them pair by pair).
The default of BOLDHUB_LINKAGE_COMPILED_MAX_RECORDS comes from this.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.linkage_data import encoded_world
from boldhub.linkage.full import link
from boldhub.linkage.records import LinkInput

THRESHOLD = 0.7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[50_000, 100_000, 200_000])
    parser.add_argument("--persons", type=int, default=428_000)
    args = parser.parse_args()
    world = encoded_world(args.persons)
    warm_up = True
    for total in [args.records[0], *args.records]:
        with tempfile.TemporaryDirectory() as tmp:
            inputs = []
            share = total // len(world.inputs)
            for i, item in enumerate(world.inputs):
                path = Path(tmp) / f"{i}.parquet"
                pq.write_table(pq.read_table(item.encodings).slice(0, share), path)
                inputs.append(LinkInput(item.source, path))
            trained = link(inputs, threshold=THRESHOLD).model_json
            times = {}
            pairs = {}
            for name, limit in (("numpy", total), ("splink", 0)):
                start = time.perf_counter()
                result = link(
                    inputs, threshold=THRESHOLD, trained=trained, compiled_max_records=limit
                )
                times[name] = time.perf_counter() - start
                pairs[name] = result.pairs_scored
                assert result.scorer == name
            if warm_up:
                warm_up = False
                continue
            print(
                f"records={share * len(inputs):,} numpy={times['numpy']:.1f}s "
                f"splink={times['splink']:.1f}s pairs={pairs['numpy']:,}/{pairs['splink']:,}"
            )


if __name__ == "__main__":
    main()
