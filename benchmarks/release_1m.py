"""Time (and peak memory) to compute, protect and render a run's FULL outcome release:
for the synthetic million-record population and for the demo's hub.

    .venv/bin/python -m benchmarks.release_1m [--persons 428000] [--demo-home PATH] [--runs 3]

What is timed is ``boldhub.outcomes.release.build_release`` itself, called as the hub's
``draft_release`` calls it, with each of its phases timed inside that one call (the phase
functions are wrapped where ``release.py`` looks them up): ``compute``
(``tidy.compute_tables``: DuckDB over links and attributes, then the per-person Python
loop that fills the tables), ``protect`` (``tidy.protect_tables``: primary and secondary
suppression, HiGHS), ``write`` (the CSV files and release.json) and ``render`` (every
area's dashboard and the index: Altair charts drawn to SVG by vl-convert). ``total`` is
the wall time of the whole ``build_release`` call; CPU seconds are given beside wall
seconds (every thread, and the protection's worker processes), being less sensitive to
whatever else the machine runs. Each run is a fresh process, so its peak memory is that
of one release build, imports included (``import_rss_gib``: the peak before the build
starts): the larger of the process's own exact peak (``getrusage``) and the summed RSS of
it and any worker processes it runs at once (sampled from /proc every 50 ms).

Populations:

* ``population``: the records of ``benchmarks.linkage_1m`` (``benchmarks.linkage_data
  .encoded_world``; 428,000 persons give about a million records from 6 sources in 3
  council areas; built and cached once under the temporary folder, not timed). Its
  attributes files are made from each source's ``prepared/prepared.parquet`` as
  ``boldhub encode`` makes a package's attributes file (record_key, the dataset's
  attributes, ``age_band``, ``sex``), with the record keys ``encoded_world`` gave. The
  LINKS are the synthetic truth (each record's person key is its true person id), not
  the hub's linkage output: linking a million encoded records costs about five minutes
  and 3 GiB (README, ``linkage_1m``) and is not what is measured here; the release reads
  only (record_key, source, person_key), and the truth differs from the hub's links only
  in the few per cent of records the linkage gets wrong (F1 0.97 at this size), which
  moves counts, not the number of areas, tables or cells.
* ``demo``: the latest linkage run of a demo hub (``boldhub demo --out DIR`` makes one
  under ``DIR/hub``): its own links file and its current submissions' attributes files,
  the threshold that ``draft_release`` would use (the agreement's, at least 10).

Prints one line per population (medians of ``--runs`` runs, default 3) and writes
everything, every run included, to ``out/release_1m.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "release_1m.json"
PHASES = ("compute", "protect", "write", "render")
GENERATED = "1 January 2026"  # a fixed date for the pages (the clock is not what is timed)


# --------------------------------------------------------------------------------------
# Inputs: a spec (links, attributes, context, threshold) per population.


def population_spec(persons: int) -> dict[str, Any]:
    """Links from the truth and attributes files for ``encoded_world(persons)``, made
    once beside the world's cache."""
    from benchmarks.linkage_data import encoded_world
    from boldhub.council.encode import sex_attribute
    from boldhub.linkage.links import LINKS_SCHEMA
    from boldhub.outcomes.disclosure import THRESHOLD
    from boldhub.schemas import get_dataset, get_organisation

    t = time.perf_counter()
    world = encoded_world(persons)
    built = time.perf_counter() - t
    folder = world.root / "release-inputs"
    done = folder / "done.json"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        sources = json.loads((world.root / "done.json").read_text())
        truth = world.truth
        attributes, links = [], []
        # encoded_world numbers the sources in name order: record key f"{i:02d}{row:030x}".
        for i, (source, sub) in enumerate(sorted(sources.items())):
            dataset = get_dataset(source.split(":", 1)[0])
            table = pq.read_table(world.root / sub / "prepared" / "prepared.parquet")
            keys = pa.array([f"{i:02d}{n:030x}" for n in range(table.num_rows)], pa.string())
            attrs = pa.table(
                {
                    "record_key": keys,
                    **{c: table.column(c) for c in (*dataset.attribute_names, "age_band")},
                    "sex": sex_attribute(table),
                }
            )
            assert attrs.column_names == ["record_key", *dataset.package_attribute_names]
            path = folder / f"{sub}.parquet"
            pq.write_table(attrs, path)
            attributes.append([source, str(path)])
            links.append(
                pa.table(
                    {
                        "record_key": keys,
                        "source": pa.array([source] * table.num_rows, pa.string()),
                        "person_key": pa.array([truth[k] for k in keys.to_pylist()], pa.string()),
                        "match_probability": pa.nulls(table.num_rows, pa.float64()),
                    },
                    schema=LINKS_SCHEMA,
                )
            )
        pq.write_table(pa.concat_tables(links), folder / "links.parquet")
        done.write_text(json.dumps({"attributes": attributes}))
    attributes = json.loads(done.read_text())["attributes"]
    shared = sorted(
        {
            (org, get_organisation(org).name, ds)
            for ds, org in (s.split(":", 1) for s, _ in attributes)
        }
    )
    return {
        "name": "population",
        "links": str(folder / "links.parquet"),
        "links_from": "synthetic truth (record -> true person id), not the hub's linkage",
        "attributes": attributes,
        "threshold": THRESHOLD,  # the hub's default (no agreement here)
        "run_id": f"synthetic-{persons}",
        "shared": shared,
        "world_seconds": built,
        "persons_asked": persons,
    }


def demo_spec(home: Path) -> dict[str, Any]:
    """The latest run of a demo hub, found as ``hub.releases.draft_release`` finds it."""
    from boldhub.hub.agreements import active_terms
    from boldhub.hub.ingest import current_submissions
    from boldhub.hub.linking import agreement_of_run, latest_run, links_path
    from boldhub.hub.store import ATTRIBUTES_DIR, open_hub
    from boldhub.outcomes.disclosure import THRESHOLD
    from boldhub.schemas import get_organisation

    if not (home / "hub.sqlite").exists() and (home / "hub" / "hub.sqlite").exists():
        home = home / "hub"  # the folder given to `boldhub demo --out`
    hub = open_hub(home, database_url=None)
    run = latest_run(hub)
    agreement_id = agreement_of_run(hub, run)
    terms = active_terms(hub, agreement_id) if agreement_id is not None else None
    subs = [s for s in current_submissions(hub) if s.id in run.submissions]
    return {
        "name": "demo",
        "links": str(links_path(hub, run.id)),
        "links_from": f"the demo hub's linkage run {run.id}",
        "attributes": [[s.source, str(hub.path(ATTRIBUTES_DIR, f"{s.id}.parquet"))] for s in subs],
        "threshold": max(THRESHOLD, terms.threshold) if terms is not None else THRESHOLD,
        "run_id": run.id,
        "shared": sorted(
            {(s.organisation, get_organisation(s.organisation).name, s.dataset) for s in subs}
        ),
        "home": str(home),
    }


# --------------------------------------------------------------------------------------
# One measurement, in its own process.


def child(spec_path: Path, out_dir: Path) -> dict[str, Any]:
    from boldhub.outcomes import release
    from boldhub.outcomes.dashboard import ReleaseContext
    from boldhub.outcomes.disclosure import THRESHOLD
    from boldhub.outcomes.tidy import AttributeInput

    spec = json.loads(spec_path.read_text())
    import_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
    cpu: dict[str, float] = dict.fromkeys(PHASES, 0.0)

    def timed(phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start, cpu_start = time.perf_counter(), _cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[phase] += time.perf_counter() - start
                cpu[phase] += _cpu() - cpu_start

        return wrapper

    # build_release looks these up in its module: wrapping them there times the real call.
    release.compute_tables = timed("compute", release.compute_tables)
    release.protect_tables = timed("protect", release.protect_tables)
    release.write_release_files = timed("write", release.write_release_files)
    release.render_dashboards = timed("render", release.render_dashboards)

    context = ReleaseContext(
        run_id=spec["run_id"],
        generated=GENERATED,
        agreement_id=None,
        agreement_version=None,
        agreement_title=None,
        shared=tuple(tuple(s) for s in spec["shared"]),
        threshold=spec["threshold"] or THRESHOLD,
    )
    attrs = [AttributeInput(s, Path(p)) for s, p in spec["attributes"]]
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    start, cpu_start = time.perf_counter(), _cpu()
    built = release.build_release(
        Path(spec["links"]), attrs, out_dir, context, threshold=spec["threshold"] or THRESHOLD
    )
    total, cpu_total = time.perf_counter() - start, _cpu() - cpu_start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # release.json is written between the files and the pages: count it with "write".
    seconds["write"] = total - seconds["compute"] - seconds["protect"] - seconds["render"]
    cpu["write"] = cpu_total - cpu["compute"] - cpu["protect"] - cpu["render"]
    links = pq.read_table(spec["links"], columns=["person_key"])
    summary = built.summary
    return {
        "records": links.num_rows,
        "persons": len(pc.unique(links.column("person_key"))),
        "areas": len(built.areas),
        "indicators": len(built.indicators),
        "tables": summary["tables"],
        "cells": summary["cells"],
        "suppressed": summary["suppressed"],
        "secondary_suppressions": summary["secondary_suppressions"],
        "files": len(built.files),
        "pages": sum(1 for f in built.files if f.suffix == ".html"),
        "bytes": sum(f.stat().st_size for f in built.files),
        "seconds": {**seconds, "total": total},
        # CPU seconds (every thread, and any worker processes): less sensitive than wall
        # time to whatever else the machine is running.
        "cpu_seconds": {**cpu, "total": cpu_total},
        "import_rss_gib": import_rss / 1024**2,
        # This process's own peak (exact; any worker processes are sampled by the parent).
        "own_rss_gib": own / 1024**2,
    }


def _cpu() -> float:
    """CPU seconds of this process's threads and of the processes it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class TreeRss(threading.Thread):
    """Peak of the summed resident memory of a process and its descendants, sampled every
    50 ms from /proc (wait4 gives only the largest single process's peak, and a forked
    worker's counts its parent's pages from before its exec)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, sum(_rss(p) for p in _tree(self.pid)))


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return out


def _rss(pid: int) -> int:
    try:
        for text in Path(f"/proc/{pid}/status").read_text().splitlines():
            if text.startswith("VmRSS:"):
                return int(text.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(spec: dict[str, Any], runs: int, work: Path) -> dict[str, Any]:
    spec_path = work / f"{spec['name']}.spec.json"
    spec_path.write_text(json.dumps(spec))
    results = []
    for i in range(runs):
        load = os.getloadavg()[0]
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.release_1m",
                "--child",
                str(spec_path),
                "--child-out",
                str(work / spec["name"]),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert proc.stdout is not None
        sampler = TreeRss(proc.pid)
        sampler.start()
        out = proc.stdout.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        sampler.stop.set()
        sampler.join()
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"{spec['name']} run {i + 1} failed")
        r = json.loads(out.strip().splitlines()[-1])
        # The build's process with any workers it runs at the same time: their summed RSS,
        # sampled, or the build process's own exact peak if that is higher.
        r["tree_rss_sampled_gib"] = sampler.peak / 1024**3
        r["peak_rss_gib"] = max(r["tree_rss_sampled_gib"], r["own_rss_gib"])
        r["process_cpu_seconds"] = usage.ru_utime + usage.ru_stime  # imports included
        r["load_1min_before"] = load
        print(
            f"  {spec['name']} run {i + 1}: "
            + " ".join(f"{k}={v:.1f}s" for k, v in r["seconds"].items())
            + " cpu: "
            + " ".join(f"{k}={v:.1f}s" for k, v in r["cpu_seconds"].items())
            + f" peak_rss={r['peak_rss_gib']:.2f}GiB"
            + f" (own {r['own_rss_gib']:.2f}) load={load:.1f}",
            flush=True,
        )
        results.append(r)
    first = results[0]
    for r in results[1:]:  # the same inputs give the same release every time
        for k in ("records", "areas", "tables", "cells", "suppressed"):
            assert r[k] == first[k], (k, r[k], first[k])
    spread, cpu_spread = (
        {
            k: {
                "median": statistics.median(r[what][k] for r in results),
                "min": min(r[what][k] for r in results),
                "max": max(r[what][k] for r in results),
            }
            for k in (*PHASES, "total")
        }
        for what in ("seconds", "cpu_seconds")
    )
    rss = [r["peak_rss_gib"] for r in results]
    return {
        **{k: v for k, v in spec.items() if k not in ("attributes", "shared")},
        "sources": [s for s, _ in spec["attributes"]],
        **{
            k: first[k]
            for k in (
                "records",
                "persons",
                "areas",
                "indicators",
                "tables",
                "cells",
                "suppressed",
                "secondary_suppressions",
                "files",
                "pages",
                "bytes",
            )
        },
        "seconds": spread,
        "cpu_seconds": cpu_spread,
        "peak_rss_gib": {"median": statistics.median(rss), "min": min(rss), "max": max(rss)},
        "seconds_per_million_records": spread["total"]["median"] / first["records"] * 1e6,
        "runs": results,
    }


def line(r: dict[str, Any]) -> str:
    s = {k: v["median"] for k, v in r["seconds"].items()}
    return (
        f"release[{r['name']}]: records={r['records']:,} persons={r['persons']:,} "
        f"areas={r['areas']} tables={r['tables']} cells={r['cells']:,} "
        f"suppressed={r['suppressed']:,} compute={s['compute']:.1f}s "
        f"protect={s['protect']:.1f}s render={s['render']:.1f}s write={s['write']:.1f}s "
        f"total={s['total']:.1f}s (min {r['seconds']['total']['min']:.1f}, max "
        f"{r['seconds']['total']['max']:.1f}) cpu={r['cpu_seconds']['total']['median']:.1f}s "
        f"peak_rss={r['peak_rss_gib']['median']:.2f}GiB "
        f"median_of={len(r['runs'])} links={r['links_from']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=428_000, help="population size; 0 skips it")
    parser.add_argument("--demo-home", type=Path, help="a demo hub (or `boldhub demo --out` DIR)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.child_out)))
        return
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "commit": subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
        ).stdout.strip(),
        # The code measured: the commit, and any uncommitted change under src/ at the time.
        "source_changes": subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.splitlines(),
        "source_diff_sha256": hashlib.sha256(
            subprocess.run(
                ["git", "diff", "HEAD", "--", "src"], capture_output=True, cwd=ROOT, check=False
            ).stdout
        ).hexdigest(),
        "populations": [],
    }
    specs = []
    if args.demo_home:
        specs.append(demo_spec(args.demo_home))
    if args.persons:
        t = time.perf_counter()
        spec = population_spec(args.persons)
        print(f"population inputs ready in {time.perf_counter() - t:.0f} s (cached)", flush=True)
        specs.append(spec)
    with tempfile.TemporaryDirectory(prefix="boldhub-release-bench-") as tmp:
        for spec in specs:
            r = measure(spec, args.runs, Path(tmp))
            report["populations"].append(r)
            print(line(r), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
