"""Upload load: councils upload their packages at once to `boldhub serve` on PostgreSQL
over loopback, with a linkage run started in the middle.

    .venv/bin/python -m benchmarks.load_upload [--councils 50] [--records 100000]
        [--concurrency N] [--work out/load_upload] [--repeats 3] [--linkage-wait 1800]

A quick trial: ``--councils 4 --records 2000``.

1. Packages (benchmarks/load_packages.py, cached under ``--work``): one signed
   homelessness package of ``--records`` records per council (real GSS codes, each with its
   own signing key, all parties to one agreement). The build is timed apart and is not part
   of the load; see that module for how the records are made from fewer synthetic people.
2. A hub on PostgreSQL: a database of its own (created here, dropped at the end), a new
   home, the agreement registered and signed by every party, a submitter with an API token
   per council, a hub linkage operator and a hub admin.
3. `boldhub serve` as a subprocess on a free loopback port. Every council uploads its
   package at once (asyncio + httpx, ``--concurrency`` connections, default one per
   council), as `boldhub submit` sends it: the tar body streamed in 1 MiB chunks to
   ``POST /api/v1/submissions`` with the token, ``Content-Type: application/x-tar`` and
   ``Content-Length``, retried like the client on a network failure or a 5xx. When half
   the packages have been accepted, the linkage operator starts a run
   (``POST /api/v1/linkage-runs``). Meanwhile /healthz is asked every 0.5 s and the
   server's memory (VmRSS of its process tree, and its VmHWM) read every 0.2 s.
4. ``--repeats`` packages are sent again: each must be answered 200 with the same id.
5. The run is waited for (at most ``--linkage-wait`` seconds, and no longer once the disk
   holding the server's temporary folder, where DuckDB spills, has less than
   ``--min-free-gib`` free: the machine is shared), then checked: exactly one
   submission per council through the API and in the database, one
   ``submission.accepted`` audit entry each, the stored files, no ``*.partial`` file or
   staged upload left, no 5xx, the audit chain (``boldhub audit verify`` and
   ``GET /api/v1/audit``), the run's outcome.

Writes ``out/load_upload-<date>.json`` (sizes other than the defaults add
``-c<councils>-r<records>``, a concurrency other than one per council ``-k<N>``) and
prints a short summary.

On 2026-12-07, before 764ddbb, the hub answered most of 50 concurrent uploads 500, /healthz
too: each upload request held a database connection from authentication to its answer,
ingest asked for a second, and SQLAlchemy's default pool has 15 (``--councils 20
--records 2000`` reproduced it in a minute; ``--concurrency 6`` stayed within it). 764ddbb
looks the caller up in a session of its own; there all 50 were accepted. The linkage run
over 25 packages (2.5 million records) then filled the disk with DuckDB's spill (65 GiB in
``add_filter_pairs``) and failed. The values this benchmark's packages share across
councils (load_packages.py) make its blocks far denser than a real population's, so that
run is a worst case, not a national one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, func, select, text

from benchmarks.load_packages import Built, build, load_trust
from boldhub.demo import register_signed
from boldhub.hub.accounts import HUB_ORG, create_token, create_user
from boldhub.hub.store import ATTRIBUTES_DIR, ENCODINGS_DIR, open_hub
from boldhub.hub.store.models import AuditEvent, Submission

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
CHUNK = 1 << 20
SERVE = [sys.executable, "-m", "boldhub.cli.main", "serve"]
RETRIES = 3  # as `boldhub submit` (council/submit.py)


@dataclass
class Attempt:
    status: int | None
    seconds: float
    error: str = ""


@dataclass
class Upload:
    council: str
    bytes: int
    records: int = 0
    start: float = 0.0  # seconds since the load started
    end: float = 0.0
    status: int | None = None
    created: bool | None = None
    submission: str = ""
    detail: str = ""
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.end - self.start


class Sampler(threading.Thread):
    """The server's memory every 0.2 s: VmRSS summed over its process tree, its VmHWM;
    and the machine's load average every 5 s."""

    def __init__(self, pid: int, t0: float, scratch: Path, min_free_gib: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.t0 = pid, t0
        self.scratch_dir, self.min_free = scratch, min_free_gib * 2**30
        # Set when the disk holding the server's scratch has less free space than
        # ``min_free_gib``: the benchmark then stops waiting for the run and the server.
        self.disk_low = threading.Event()
        self.free_gib: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.peak_rss_kib = 0
        self.peak_at = 0.0
        self.hwm_kib = 0
        self.timeline: list[tuple[float, int]] = []  # (seconds, MiB), one a second
        self.load: list[tuple[float, float]] = []
        # The server's temporary folder (its TMPDIR: DuckDB's spill, linkage/backends.py), GiB.
        self.scratch: list[tuple[float, float]] = []

    def run(self) -> None:
        last_tl = last_load = -1e9
        while not self.stop.is_set():
            now = time.perf_counter() - self.t0
            rss = sum(_status_kib(p, "VmRSS") for p in _tree(self.pid))
            hwm = _status_kib(self.pid, "VmHWM")
            self.hwm_kib = max(self.hwm_kib, hwm)
            if rss > self.peak_rss_kib:
                self.peak_rss_kib, self.peak_at = rss, now
            if now - last_tl >= 1.0:
                self.timeline.append((round(now, 1), rss // 1024))
                last_tl = now
            if now - last_load >= 5.0:
                self.load.append((round(now, 1), os.getloadavg()[0]))
                used = _tree_bytes(self.scratch_dir)
                free = shutil.disk_usage(self.scratch_dir).free
                self.scratch.append((round(now, 1), round(used / 2**30, 2)))
                self.free_gib.append((round(now, 1), round(free / 2**30, 1)))
                if free < self.min_free:
                    self.disk_low.set()
                last_load = now
            self.stop.wait(0.2)


def _tree_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        with suppress(OSError):
            total += path.stat().st_size
    return total


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with suppress(OSError):
                    kids = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                    todo.extend(int(k) for k in kids)
    return out


def _status_kib(pid: int, key: str) -> int:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    with suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": _pct(values, 50),
        "p95": _pct(values, 95),
        "max": round(max(values), 3) if values else None,
    }


# -- the hub ----------------------------------------------------------------------------


@contextmanager
def database(name: str, keep: bool) -> Any:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.format(name=name)
    finally:
        if not keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def set_up_hub(home: Path, url: str, built: Built) -> dict[str, Any]:
    """Agreement registered and signed by every party; users and tokens."""
    t = time.perf_counter()
    hub = open_hub(home, create=True, database_url=url)
    register_signed(hub, load_trust(built.root, built.councils), actor="load-benchmark")
    tokens: dict[str, str] = {}
    with hub.sessions() as s, s.begin():
        for code in built.councils:
            user = create_user(
                s,
                email=f"submitter.{code.lower()}@example.gov.uk",
                name=f"Submitter {code}",
                organisation=code,
                role="submitter",
                password=None,
                actor="load-benchmark",
            )
            tokens[code] = create_token(s, user, "load benchmark")
        for role in ("linkage_operator", "admin"):
            user = create_user(
                s,
                email=f"{role}@hub.example.gov.uk",
                name=role,
                organisation=HUB_ORG,
                role=role,
                password=None,
                actor="load-benchmark",
            )
            tokens[role] = create_token(s, user, "load benchmark")
    hub.engine.dispose()
    return {"tokens": tokens, "seconds": round(time.perf_counter() - t, 2)}


@contextmanager
def serving(home: Path, url: str, log: Path, scratch: Path) -> Any:
    """`boldhub serve` with its temporary files (DuckDB's spill) in ``scratch``, which the
    benchmark measures, watches and removes."""
    port = _free_port()
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BOLDHUB_DATABASE_URL": url, "COLUMNS": "200", "TMPDIR": str(scratch)}
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [*SERVE, "--home", str(home), "--port", str(port)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with suppress(httpx.TransportError):
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"boldhub serve did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            yield proc, base
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- the load ---------------------------------------------------------------------------


async def _body(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk
            await asyncio.sleep(0)


class Load:
    def __init__(self, base: str, built: Built, tokens: dict[str, str], args: Any) -> None:
        self.base, self.built, self.tokens, self.args = base, built, tokens, args
        self.t0 = 0.0
        self.accepted = 0
        self.half = math.ceil(len(built.councils) / 2)
        self.uploads: list[Upload] = []
        self.health: list[tuple[float, float, int | None]] = []  # (at, seconds, status)
        self.linkage: dict[str, Any] = {}
        self.linkage_task: asyncio.Task[None] | None = None
        self.uploading = True
        self.stop_health = asyncio.Event()
        self.disk_low = threading.Event()
        self.responses_5xx: list[str] = []

    def now(self) -> float:
        return time.perf_counter() - self.t0

    async def upload(self, client: httpx.AsyncClient, code: str, sem: asyncio.Semaphore) -> Upload:
        path = self.built.bodies[code]
        up = Upload(code, path.stat().st_size)
        async with sem:
            up.start = self.now()
            for attempt in range(1, RETRIES + 1):
                t = time.perf_counter()
                try:
                    r = await client.post(
                        self.base + "/api/v1/submissions",
                        content=_body(path),
                        headers={
                            "Authorization": f"Bearer {self.tokens[code]}",
                            "Content-Type": "application/x-tar",
                            "Content-Length": str(up.bytes),
                        },
                    )
                except httpx.TransportError as exc:
                    up.attempts.append(Attempt(None, time.perf_counter() - t, repr(exc)))
                else:
                    up.attempts.append(Attempt(r.status_code, time.perf_counter() - t))
                    up.status = r.status_code
                    if r.status_code >= 500:
                        self.responses_5xx.append(f"upload {code}: {r.status_code} {r.text[:200]}")
                    elif r.status_code < 300:
                        data = r.json()
                        up.created, up.submission = bool(data["created"]), str(data["id"])
                        up.records = int(data["records"])
                        break
                    else:
                        up.detail = r.text[:500]
                        break
                if attempt < RETRIES:
                    await asyncio.sleep(min(2**attempt, 10))
            up.end = self.now()
        if up.created:
            self.accepted += 1
            if self.accepted == self.half and self.linkage_task is None:
                self.linkage_task = asyncio.create_task(self.run_linkage())
        return up

    async def run_linkage(self) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['linkage_operator']}"}
        lk = self.linkage
        lk["started_at"] = round(self.now(), 2)
        lk["accepted_when_started"] = self.accepted
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
            t = time.perf_counter()
            r = await client.post(self.base + "/api/v1/linkage-runs", headers=headers)
            lk["start_status"] = r.status_code
            lk["start_seconds"] = round(time.perf_counter() - t, 3)
            if r.status_code != 202:
                lk["outcome"] = f"not started: {r.status_code} {r.text[:300]}"
                return
            deadline = time.perf_counter() + self.args.linkage_wait
            polls = []
            while time.perf_counter() < deadline:
                await asyncio.sleep(2.0)
                if self.disk_low.is_set():
                    lk["outcome"] = (
                        f"stopped by the benchmark after {self.now() - lk['started_at']:.0f} s: "
                        f"less than {self.args.min_free_gib} GiB free on the disk of the "
                        "server's scratch"
                    )
                    break
                t = time.perf_counter()
                try:
                    r = await client.get(self.base + "/api/v1/linkage-runs", headers=headers)
                except httpx.TransportError as exc:
                    lk.setdefault("poll_errors", []).append(repr(exc))
                    continue
                polls.append(time.perf_counter() - t)
                if r.status_code >= 500:
                    self.responses_5xx.append(f"linkage poll: {r.status_code}")
                    continue
                data = r.json()
                if data["running_since"] is None:
                    lk["finished_at"] = round(self.now(), 2)
                    lk["seconds"] = round(lk["finished_at"] - lk["started_at"], 2)
                    lk["last_error"] = data["last_error"]
                    if data["runs"]:
                        run = data["runs"][0]
                        lk["run"] = {k: v for k, v in run.items() if k != "submissions"}
                        lk["run"]["submissions"] = len(run["submissions"])
                    lk["outcome"] = "failed" if data["last_error"] else "finished"
                    break
            else:
                lk["outcome"] = f"still running after {self.args.linkage_wait} s"
            lk["poll_seconds"] = _stats(polls)

    async def healthz(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
            while not self.stop_health.is_set():
                at = self.now()
                t = time.perf_counter()
                try:
                    status: int | None = (await client.get(self.base + "/healthz")).status_code
                except httpx.TransportError:
                    status = None
                seconds = time.perf_counter() - t
                self.health.append((round(at, 2), seconds, status if self.uploading else -1))
                if status is not None and status >= 500:
                    self.responses_5xx.append(f"healthz: {status}")
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stop_health.wait(), max(0.0, 0.5 - seconds))

    async def run(self) -> dict[str, Any]:
        self.t0 = time.perf_counter()
        health = asyncio.create_task(self.healthz())
        limits = httpx.Limits(max_connections=self.args.concurrency, max_keepalive_connections=0)
        timeout = httpx.Timeout(60.0, read=self.args.read_timeout, write=self.args.read_timeout)
        sem = asyncio.Semaphore(self.args.concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            self.uploads = list(
                await asyncio.gather(*(self.upload(client, c, sem) for c in self.built.councils))
            )
            load_end = self.now()
            self.uploading = False
            # Repeats: the same packages again, one after another.
            repeats = []
            for code in self.built.councils[: self.args.repeats]:
                first = next(u for u in self.uploads if u.council == code)
                again = await self.upload(client, code, asyncio.Semaphore(1))
                repeats.append(
                    {
                        "council": code,
                        "accepted_before": bool(first.created),
                        "status": again.status,
                        "created": again.created,
                        "same_id": again.submission == first.submission,
                        "seconds": round(again.seconds, 3),
                    }
                )
        if self.linkage_task is not None:
            await self.linkage_task
        self.stop_health.set()
        await health
        return {"load_seconds": load_end, "repeats": repeats}


# -- checks -----------------------------------------------------------------------------


def check(
    base: str, url: str, home: Path, tokens: dict[str, str], built: Built, log: Path
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    op = {"Authorization": f"Bearer {tokens['linkage_operator']}"}
    r = httpx.get(base + "/api/v1/submissions", headers=op, timeout=60)
    subs = r.json() if r.status_code == 200 else []
    by_org: dict[str, int] = {}
    for s in subs:
        by_org[s["organisation"]] = by_org.get(s["organisation"], 0) + 1
    out["api_submissions"] = len(subs)
    out["api_councils_once"] = sorted(by_org) == sorted(built.councils) and all(
        n == 1 for n in by_org.values()
    )
    out["api_statuses"] = sorted({s["status"] for s in subs})
    out["api_records"] = sum(int(s["records"]) for s in subs)
    out["api_states"] = sorted({s["state"].split(" run ")[0] for s in subs})
    engine = create_engine(url)
    with engine.connect() as c:
        out["db_submissions"] = c.execute(select(func.count()).select_from(Submission)).scalar_one()
        out["db_distinct_sources"] = c.execute(
            select(func.count(func.distinct(Submission.source)))
        ).scalar_one()
        out["db_distinct_manifests"] = c.execute(
            select(func.count(func.distinct(Submission.manifest_sha256)))
        ).scalar_one()
        rows = c.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all()
        out["audit_actions"] = {str(a): int(n) for a, n in rows}
    engine.dispose()
    r = httpx.get(
        base + "/api/v1/audit",
        headers={"Authorization": f"Bearer {tokens['admin']}"},
        timeout=120,
    )
    out["audit_api"] = {
        "status": r.status_code,
        "body": r.json() if r.status_code == 200 else r.text[:300],
    }
    if isinstance(out["audit_api"]["body"], dict):
        body = out["audit_api"]["body"]
        out["audit_api"]["body"] = {k: v for k, v in body.items() if not isinstance(v, list)}
    cli = subprocess.run(
        [sys.executable, "-m", "boldhub.cli.main", "audit", "verify", "--home", str(home)],
        env={**os.environ, "BOLDHUB_DATABASE_URL": url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out["audit_verify_cli"] = {
        "rc": cli.returncode,
        "output": (cli.stdout + cli.stderr).strip()[-500:],
    }
    out["partials"] = [str(p.relative_to(home)) for p in home.rglob("*.partial")]
    out["staged_uploads_left"] = [p.name for p in (home / "tmp").glob("upload-*")]
    out["stored_encodings"] = len(list((home / ENCODINGS_DIR).glob("*.parquet")))
    out["stored_attributes"] = len(list((home / ATTRIBUTES_DIR).glob("*.parquet")))
    r = httpx.get(base + "/metrics", timeout=60)
    out["metrics"] = [
        line
        for line in r.text.splitlines()
        if line.startswith(("boldhub_refusals_total", "boldhub_submissions", "boldhub_linkage"))
    ]
    lines = log.read_text(errors="replace").splitlines()
    errors = []
    for line in lines:
        with suppress(ValueError):
            doc = json.loads(line)
            level = str(doc.get("level", "")).upper()
            if level in ("ERROR", "CRITICAL") or '" 500' in str(doc.get("msg", "")):
                errors.append(line[:400])
    out["server_log_errors"] = errors[:20]
    out["server_log_error_count"] = len(errors)
    return out


# -- main -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        k, v = line.split(":", 1)
        if k in ("MemTotal", "MemAvailable"):
            mem[k] = round(int(v.split()[0]) / 1024 / 1024, 1)
    others = subprocess.run(
        ["ps", "-eo", "pcpu,rss,args", "--sort=-pcpu", "--no-headers"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()[:8]
    return {
        "cpus": os.cpu_count(),
        "memory_gib": mem,
        "loadavg": os.getloadavg(),
        "top_processes": [line.strip()[:160] for line in others],
    }


def _git() -> dict[str, Any]:
    """The commit measured, and the files of src/ changed in the work tree beside it."""

    def run(*cmd: str) -> str:
        done = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "head": run("rev-parse", "HEAD"),
        "src_changed": run("status", "--porcelain", "--", "src").splitlines(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--councils", type=int, default=50)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=0, help="default: one per council")
    parser.add_argument("--work", type=Path, default=OUT / "load_upload")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--build-jobs", type=int, default=2)
    parser.add_argument(
        "--distinct",
        type=int,
        default=0,
        help="encode only this many councils' packages; the others re-key their "
        "encodings (default: encode every council's)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--linkage-wait", type=float, default=1800.0)
    parser.add_argument("--read-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--min-free-gib",
        type=float,
        default=15.0,
        help="stop waiting for the linkage run (and stop the server) when the disk of its "
        "scratch has less free space than this; the machine is shared",
    )
    parser.add_argument("--database", default=f"boldhub_load_{os.getpid()}")
    parser.add_argument("--keep", action="store_true", help="keep the database and hub home")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    args.concurrency = args.concurrency or args.councils
    # Stopped with SIGTERM, the server is still stopped and the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    result: dict[str, Any] = {
        "command": "python -m benchmarks.load_upload " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "councils": args.councils,
        "records_per_package": args.records,
        "concurrency": args.concurrency,
        "machine_before": machine(),
        "git": _git(),
    }
    built = build(args.work, args.councils, args.records, args.seed, args.build_jobs, args.distinct)
    result["build"] = {k: v for k, v in built.info.items() if k != "per_package"}
    result["build"]["per_package"] = built.info.get("per_package", [])
    print(f"build: {built.info['build_seconds']:.1f} s (cached={built.info['cached']})")
    if args.build_only:
        return
    run_dir = args.work / f"run-{time.strftime('%Y%m%dT%H%M%S')}"
    home, log, scratch = run_dir / "hub", run_dir / "serve.log", run_dir / "tmp"
    run_dir.mkdir(parents=True)
    with database(args.database, args.keep) as url:
        setup = set_up_hub(home, url, built)
        tokens = setup["tokens"]
        result["setup_seconds"] = setup["seconds"]
        with serving(home, url, log, scratch) as (proc, base):
            cpu0 = _cpu_seconds(proc.pid)
            load = Load(base, built, tokens, args)
            sampler = Sampler(proc.pid, time.perf_counter(), scratch, args.min_free_gib)
            load.disk_low = sampler.disk_low
            sampler.start()
            load_t0 = time.perf_counter()
            sampler.t0 = load_t0
            ran = asyncio.run(load.run())
            sampler.stop.set()
            sampler.join()
            result["server_cpu_seconds"] = round(_cpu_seconds(proc.pid) - cpu0, 1)
            result["checks"] = check(base, url, home, tokens, built, log)
        result["machine_after"] = machine()
    report(result, load, ran, sampler, built, args)
    # The server's log stays beside the results (a few MB), whatever else is removed.
    shutil.copyfile(log, result["path"].with_suffix(".serve.log"))
    shutil.rmtree(scratch, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)


def report(
    result: dict[str, Any],
    load: Load,
    ran: dict[str, Any],
    sampler: Sampler,
    built: Built,
    args: Any,
) -> None:
    ups = load.uploads
    ok = [u for u in ups if u.created]
    lat = [u.seconds for u in ups if u.status is not None and u.status < 300]
    first = [
        u.attempts[0].seconds for u in ups if u.attempts and u.attempts[0].status in (200, 201)
    ]
    wall = ran["load_seconds"]
    total_bytes = sum(u.bytes for u in ok)
    total_records = sum(u.records for u in ok)
    health_load = [s for _, s, st in load.health if st != -1]
    health_after = [s for _, s, st in load.health if st == -1]
    health_fail = [(a, st) for a, _, st in load.health if st is not None and st not in (200, -1)]
    health_fail += [(a, None) for a, _, st in load.health if st is None]
    ch = result["checks"]
    n = len(built.councils)
    # Nothing stored twice: one row, one manifest, one audit entry and one pair of files
    # per source, whatever was accepted; repeats of accepted packages answered 200 with
    # the same id.
    db_n = ch["db_submissions"]
    stored_once = (
        db_n == ch["db_distinct_sources"] == ch["db_distinct_manifests"]
        and ch["audit_actions"].get("submission.accepted") == db_n
        and ch["stored_encodings"] == db_n == ch["stored_attributes"]
        and ch["api_submissions"] == db_n
        and len({u.submission for u in ok}) == len(ok)
        and all(
            r["status"] == 200 and r["created"] is False and r["same_id"]
            for r in ran["repeats"]
            if r["accepted_before"]
        )
    )
    exactly_once = stored_once and len(ok) == n and db_n == n and ch["api_councils_once"]
    retried = [u.council for u in ups if len(u.attempts) > 1]
    result["load"] = {
        "wall_seconds": round(wall, 2),
        "accepted": len(ok),
        "refused_or_failed": [
            {
                "council": u.council,
                "status": u.status,
                "detail": u.detail,
                "attempts": [asdict(a) for a in u.attempts],
            }
            for u in ups
            if not u.created
        ],
        "retried": retried,
        "latency_seconds": _stats(lat),
        "latency_note": "from the upload's start to its accepted answer, retries included",
        "first_attempt_accepted_latency_seconds": _stats(first),
        "attempts": sum(len(u.attempts) for u in ups),
        "attempt_errors": sorted(
            {f"{a.status} {a.error}".strip() for u in ups for a in u.attempts if a.status != 201}
        ),
        "throughput": {
            "packages_per_s": round(len(ok) / wall, 3),
            "records_per_s": round(total_records / wall, 1),
            "mb_per_s": round(total_bytes / wall / 1e6, 2),
            "bytes": total_bytes,
            "records": total_records,
        },
        "uploads": [
            {
                "council": u.council,
                "start": round(u.start, 2),
                "end": round(u.end, 2),
                "seconds": round(u.seconds, 3),
                "status": u.status,
                "attempts": len(u.attempts),
                "bytes": u.bytes,
            }
            for u in sorted(ups, key=lambda u: u.end)
        ],
    }
    result["repeats"] = ran["repeats"]
    result["server_memory"] = {
        "peak_rss_tree_gib": round(sampler.peak_rss_kib / 1024 / 1024, 3),
        "peak_at_seconds": round(sampler.peak_at, 1),
        "vmhwm_gib": round(sampler.hwm_kib / 1024 / 1024, 3),
        "timeline_mib": sampler.timeline,
    }
    result["loadavg_during"] = sampler.load
    result["server_scratch_gib"] = sampler.scratch
    result["disk_free_gib"] = sampler.free_gib
    result["healthz"] = {
        "during_uploads": _stats(health_load),
        "after_uploads": _stats(health_after),
        "failures": health_fail[:20],
    }
    if not load.linkage:
        load.linkage["outcome"] = f"not started: only {len(ok)} of {n} accepted, fewer than half"
    result["linkage"] = load.linkage
    result["responses_5xx"] = load.responses_5xx
    result["stored_once"] = stored_once
    result["exactly_once"] = exactly_once
    defects = []
    if load.responses_5xx:
        defects.append(f"{len(load.responses_5xx)} responses with 5xx")
    if not exactly_once:
        defects.append("not every package accepted exactly once (see checks, load)")
    # A run still going when the checks ran has its runs/ and reports/ partials: not leftovers.
    running = load.linkage.get("outcome") not in ("finished", "failed")
    leftovers = [p for p in ch["partials"] if not (running and p.startswith(("runs/", "reports/")))]
    if leftovers or ch["staged_uploads_left"]:
        defects.append("partial files or staged uploads left behind")
    if ch["audit_verify_cli"]["rc"] != 0:
        defects.append("audit verify failed")
    if health_fail:
        defects.append(f"{len(health_fail)} /healthz failures")
    if load.linkage.get("outcome") != "finished":
        defects.append(f"linkage run: {load.linkage.get('outcome')}")
    if ch["server_log_error_count"]:
        defects.append(f"{ch['server_log_error_count']} error lines in the server log")
    result["anomalies"] = defects

    OUT.mkdir(exist_ok=True)
    stem = time.strftime("%Y-%m-%d")
    if (args.councils, args.records) != (50, 100_000):
        stem += f"-c{args.councils}-r{args.records}"
    if args.concurrency != args.councils:
        stem += f"-k{args.concurrency}"
    path = OUT / f"load_upload-{stem}.json"
    result["path"] = path
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")

    lt, tp = result["load"]["latency_seconds"], result["load"]["throughput"]
    lk = load.linkage
    print(f"results: {path}")
    print(
        f"packages: {n} x {args.records} records, {total_bytes / 1e6:.0f} MB; build "
        f"{built.info['build_seconds']:.1f} s (cached={built.info['cached']}, not part of the load)"
    )
    print(
        f"uploads: {len(ok)}/{n} accepted in {wall:.1f} s, concurrency {args.concurrency}; "
        f"latency p50 {lt['p50']} s, p95 {lt['p95']} s, max {lt['max']} s; retried {len(retried)}"
        f" ({result['load']['attempts']} attempts)"
    )
    print(
        f"throughput: {tp['packages_per_s']} packages/s, {tp['records_per_s']:.0f} records/s, "
        f"{tp['mb_per_s']} MB/s"
    )
    sm = result["server_memory"]
    print(
        f"server: peak RSS {sm['peak_rss_tree_gib']} GiB (VmHWM {sm['vmhwm_gib']} GiB) at "
        f"{sm['peak_at_seconds']} s; CPU {result['server_cpu_seconds']} s"
    )
    hz = result["healthz"]
    print(
        f"healthz during uploads: p50 {hz['during_uploads']['p50']} s, p95 "
        f"{hz['during_uploads']['p95']} s, max {hz['during_uploads']['max']} s; "
        f"after: p95 {hz['after_uploads']['p95']} s; failures {len(health_fail)}"
    )
    print(
        f"linkage run: started at {lk.get('started_at')} s with {lk.get('accepted_when_started')} "
        f"accepted; {lk.get('outcome')}; {lk.get('seconds')} s; run {lk.get('run')}"
    )
    print(
        f"exactly once: {exactly_once}, none stored twice: {stored_once} "
        f"(api {ch['api_submissions']}, db {ch['db_submissions']}, "
        f"audit accepted {ch['audit_actions'].get('submission.accepted')}, repeats "
        f"{[(r['status'], r['created'], r['same_id']) for r in ran['repeats']]}); 5xx "
        f"{len(load.responses_5xx)}; partials {len(ch['partials'])}; audit verify rc "
        f"{ch['audit_verify_cli']['rc']}"
    )
    print(f"anomalies: {defects or 'none'}")


if __name__ == "__main__":
    main()
