"""Keyed values per second through the key service's oblivious PRF, end to end.

    .venv/bin/python -m benchmarks.oprf_speed [--values 100000] [--runs 3] [--workers 1] [--http]

In process: ``local_key_function`` (an in-memory KeyService and its OprfClient) evaluates
``--values`` distinct values, timing blind + BlindEvaluate + Finalize and the quota and
audit work of every 20,000-element request; pinned to one core (CPU 0) unless
``--workers`` is more than 1. With ``--http``, the same through HttpTransport to the real
`boldhub keyservice serve` on a loopback port, in its own process (so client and server
can use a core each). Prints the median of ``--runs`` and the time of each libsodium
operation, which is where the time goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.server import free_port, running_boldhub

from boldhub.keyservice import _sodium, oprf
from boldhub.keyservice.client import HttpTransport, OprfClient, local_key_function
from boldhub.keyservice.service import KeyService
from boldhub.privacy.keys import LinkageKey

AGREEMENT = "bench-agreement"
KEY = LinkageKey(bytes(range(32)))


def _values(n: int, run: int) -> list[bytes]:
    # Distinct in every run: equal values would be evaluated once and flatter the rate.
    return [f"{run}-{i:08d}-SMITH".encode() for i in range(n)]


def _median_rate(client: OprfClient, n: int, runs: int) -> tuple[float, float]:
    """Values per second of wall time, and per second of this process's CPU time (which
    a busy machine disturbs less; in process with one worker, that is one core's rate)."""
    client.evaluate("warm-up", [b"x"])
    rates, cpu_rates = [], []
    for run in range(runs):
        values = _values(n, run)
        start, cpu = time.perf_counter(), time.process_time()
        client.evaluate("surname", values)
        rates.append(n / (time.perf_counter() - start))
        cpu_rates.append(n / (time.process_time() - cpu))
    return statistics.median(rates), statistics.median(cpu_rates)


def _per_call(fn: Callable[[], object], calls: int = 2000) -> float:
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls * 1e6


def _operations() -> None:
    scalar = _sodium.scalar_random()
    element = oprf.hash_to_group(b"x")
    timings = {
        "scalar multiplication (3 a value)": lambda: _sodium.scalarmult(scalar, element),
        "hash to group (1 a value)": lambda: oprf.hash_to_group(b"SMITH"),
        "scalar inversion (1 a batch)": lambda: _sodium.scalar_invert(scalar),
    }
    print(f"libsodium {_sodium.version()}, CPU microseconds per call:")
    for name, fn in timings.items():
        print(f"  {name:<36}{_per_call(fn):6.1f}")


def _http_rate(n: int, runs: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ks"
        service = KeyService.open(home, create=True)
        service.add_key(AGREEMENT, KEY)
        token = service.add_party(AGREEMENT, "BENCH", 10**12)
        service.close()
        port = free_port()
        args = ["keyservice", "serve", "--home", str(home), "--port", str(port)]
        with running_boldhub(args, port, Path(tmp) / "serve.log", "/healthz"):
            transport = HttpTransport(f"http://127.0.0.1:{port}", token, AGREEMENT)
            return _median_rate(OprfClient(transport, workers=workers), n, runs)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--http", action="store_true")
    args = parser.parse_args()
    pin = args.workers == 1 and hasattr(os, "sched_setaffinity")
    if pin:
        os.sched_setaffinity(0, {0})
    _operations()
    client = local_key_function(KEY, AGREEMENT)
    client.workers = args.workers
    rate, cpu_rate = _median_rate(client, args.values, args.runs)
    cores = "one core" if args.workers == 1 else f"{args.workers} workers"
    print(
        f"in process, {cores}: {rate:,.0f} values/s; {cpu_rate:,.0f} values per CPU second "
        f"({args.values:,} values, median of {args.runs})"
    )
    if args.http:
        if pin:
            os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        rate = _http_rate(args.values, args.runs, args.workers)
        print(
            f"over HTTP on localhost, client {cores}, server in its own process: {rate:,.0f} values/s"
        )


if __name__ == "__main__":
    main()
