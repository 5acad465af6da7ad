"""The privacy benchmark: every attack of docs/encoding.md, then two lines.

    .venv/bin/python -m benchmarks.privacy.run [--out-dir out/privacy] [--jobs 2] [--reuse]

It runs, each in its own process (``--jobs`` at a time; about an hour in all on this
2-core machine), and each against the unhardened baseline, the previous scheme (v4) and
the default (v5), at 25%, 50% and 100% overlap between the attacker's population and the
encoded people, with distractors:

* ``whole_record``: the whole-record decoding attack on FEBRL4 (file B encoded, file A's
  people and 6,500 distractors as the attacker's population);
* ``pooled``: the same attack on 105,675 synthetic records pooled from 8 parties over 28
  quarters (a sample of 3,000 records scored against the whole store's classes);
* ``published``: Christen et al.'s pattern mining and Vidanage et al.'s graph matching, as
  published, on FEBRL4;
* ``key_holder``: one party colluding with the hub, spending the largest demo party's
  caps per domain at the key service on dictionary guesses (and, beside it, what it
  decodes submitting honestly, and knowing who is where).

Each writes its JSON into ``--out-dir``; ``--reuse`` reads the JSON files already there
instead of running again. The last two lines:

    worst: attack=NAME overlap=P reidentified=X% narrowed5=Y% (unhardened ...; v4 ...)
    key-holder: quota=Q reidentified=X% (...)

``worst`` gives the highest re-identification and the highest share narrowed to five,
each over every attack, corpus and overlap, for the default encoding, by an adversary
without key material.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.privacy.key_holder import key_holder_line

# name -> (module, extra arguments)
RUNS: dict[str, tuple[str, list[str]]] = {
    "whole_record": ("benchmarks.privacy.whole_record", ["--no-ablation"]),
    "published": ("benchmarks.privacy.published", []),
    "pooled-unhardened": ("benchmarks.privacy.pooled", ["--only", "unhardened"]),
    "pooled-v4": ("benchmarks.privacy.pooled", ["--only", "v4"]),
    "pooled-default": ("benchmarks.privacy.pooled", ["--only", "default"]),
    "key_holder": ("benchmarks.privacy.key_holder", []),
}
POOLED_ARGS = ["--sample", "3000", "--distractors", "6500"]


def _run(name: str, out_dir: Path) -> None:
    module, extra = RUNS[name]
    args = [sys.executable, "-m", module, "--out", str(out_dir / f"{name}.json"), *extra]
    if module.endswith("pooled"):
        args += [*POOLED_ARGS, "--folder", str(out_dir / "pooled-corpus")]
    if module.endswith("key_holder"):
        # Its own copy of the pooled corpus: the pooled runs may be building theirs at the
        # same time (--jobs), in the same folder.
        args += ["--corpus-folder", str(out_dir / "pooled-corpus-key-holder")]
    t0 = time.perf_counter()
    with (out_dir / f"{name}.log").open("w") as log:
        subprocess.run(args, stdout=log, stderr=subprocess.STDOUT, check=True)
    print(f"{name}: done in {time.perf_counter() - t0:.0f} s ({out_dir / f'{name}.log'})")


def rows(out_dir: Path) -> list[dict[str, Any]]:
    """Every (attack, corpus, encoding, overlap) result of the runs' JSON files."""
    found: list[dict[str, Any]] = []
    for name in ("whole_record", "pooled-unhardened", "pooled-v4", "pooled-default"):
        path = out_dir / f"{name}.json"
        if not path.exists():
            continue
        corpus = "pooled" if name.startswith("pooled") else "FEBRL4"
        for r in json.loads(path.read_text())["results"]:
            if r.get("dropped") is None:
                found.append({**r, "attack": "whole-record", "corpus": corpus})
    path = out_dir / "published.json"
    if path.exists():
        data = json.loads(path.read_text())
        for r in data["results"] if isinstance(data, dict) else data:
            found.append({**r, "corpus": r.get("corpus", "FEBRL4")})
    return found


def worst_line(found: list[dict[str, Any]]) -> str:
    """The highest re-identification and the highest share narrowed to five, each over
    every attack, corpus and overlap, for the default encoding; the unhardened and v4
    encodings' beside them."""

    def worst(encoding: str) -> tuple[dict[str, Any], dict[str, Any]]:
        mine = [r for r in found if r["encoding"] == encoding]
        by_reid = max(mine, key=lambda r: (r["reidentified"], r.get("narrowed5") or 0.0))
        by_n5 = max(mine, key=lambda r: r.get("narrowed5") or 0.0)
        return by_reid, by_n5

    def where(r: dict[str, Any]) -> str:
        return f"attack={r['attack']} corpus={r['corpus']} overlap={r['overlap']:.0%}"

    def text(encoding: str) -> str:
        r, n = worst(encoding)
        return (
            f"{where(r)} reidentified={r['reidentified']:.2%}, "
            f"narrowed5={n['narrowed5']:.2%} ({where(n)})"
        )

    w, n = worst("default")
    return (
        f"worst: attack={w['attack']} overlap={w['overlap']:.0%} "
        f"reidentified={w['reidentified']:.2%} narrowed5={n['narrowed5']:.2%} "
        f"(re-identified: corpus {w['corpus']}; narrowed to five: {where(n)}; "
        f"unhardened baseline: {text('unhardened')}; previous scheme v4: {text('v4')})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=Path("out/privacy"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="read results already in --out-dir")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if not args.reuse:
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            list(pool.map(lambda n: _run(n, args.out_dir), RUNS))
    found = rows(args.out_dir)
    for r in sorted(found, key=lambda r: (r["attack"], r["corpus"], r["encoding"], r["overlap"])):
        narrowed = r.get("narrowed5")
        print(
            f"{r['attack']:15s} {r['corpus']:7s} {r['encoding']:10s} {r['overlap']:>5.0%}  "
            f"re-identified {r['reidentified']:7.2%}  precision {r.get('precision', 0):7.2%}  "
            f"narrowed to 5 {'n/a' if narrowed is None else f'{narrowed:.2%}':>7s}"
        )
    key_holder = json.loads((args.out_dir / "key_holder.json").read_text())
    print(worst_line(found))
    print(key_holder_line(key_holder))


if __name__ == "__main__":
    main()
