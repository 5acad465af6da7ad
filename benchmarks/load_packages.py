"""The packages of the upload load benchmark (benchmarks/load_upload.py): one genuine,
signed homelessness package per council, built once and cached.

Generating and encoding 5 million distinct synthetic records would take most of an hour
on the 2-core machine (the key service's oblivious PRF alone costs about 240 s per million
values), so the packages are built from fewer synthetic people, and the build says so (50
packages of 100,000 records took 1,270 s this way on 2026-12-07, both cores, under other
load):

* one ``boldhub synth`` population (10 council areas) gives a pool of homelessness rows,
  kept only where ``boldhub prepare`` accepts the row and reads its date of birth (so that
  no recombined row can lose both its name and its date of birth);
* each council's export is the pool's first ``records`` rows with new case references and
  its identifier columns recombined by permutations of its own (forename with sex and
  other names, surname, postcode, NHS number, NI number each shuffled apart; the date of
  birth stays with the row's dates and attributes, so every row stays valid). The first
  council's export is the pool as synthesised. Each council thus holds different people,
  made of the same values;
* each export goes through ``boldhub prepare`` (``--org`` the council) and ``boldhub
  encode`` with the council's own Ed25519 signing key under one agreement naming all of
  them, its secrets from the agreement's key service in this process (``--key``), with a
  cache in front of it: the recombined exports hold the same distinct dates of birth and
  numbers, so each of those values' oblivious PRF is computed once per build worker, not
  once per council (postcode scopes, a postcode with the record's initials, are mostly new
  combinations and are still asked: about 40,000 to 65,000 values a package after the
  first, against 163,000 for the first). The outputs are the key service's own, so the
  packages are what ``boldhub encode`` writes: the hub verifies each fully (signature,
  agreement, key fingerprint, hashes, counts, schema);
* encoding is still the slow part (about 1 to 2 minutes a package on the shared 2-core
  machine under other load), so ``--distinct N`` encodes only the first N councils this
  way (by default every council is encoded). Every other council's package holds the encodings and attributes of
  council ``index mod distinct`` under fresh random record keys, in a manifest naming its
  own organisation and signed with its own key (``privacy.package.write_package``, as
  ``boldhub encode`` writes it): still a package the hub verifies fully, but its people
  are those of another council (each set of people is in ``councils / distinct``
  councils);
* each package is also kept as the tar body ``boldhub submit`` sends
  (``council.submit.submission_body``).

The cache (``WORK/packages-c<councils>-r<records>-s<seed>[-d<distinct>]/``) is complete once its
``build.json`` exists; a rerun then reuses it, and an interrupted build resumes per package.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from boldhub import clock
from boldhub.council.encode import encode, new_record_keys
from boldhub.council.prepare import PREPARED_FILE, prepare
from boldhub.council.submit import submission_body
from boldhub.demo import Trust, create_trust
from boldhub.keyservice.client import local_key_function
from boldhub.privacy.agreement import load_agreement
from boldhub.privacy.keys import create_key, load_key
from boldhub.privacy.package import ATTRIBUTES_FILE, ENCODINGS_FILE, MANIFEST_FILE, write_package
from boldhub.privacy.signing import load_signing_key
from boldhub.schemas import COUNCILS
from boldhub.schemas.organisations import local_authorities
from boldhub.synth import generate

DATASET = "homelessness"
AGREEMENT_ID = "bold-load-benchmark"
SYNTH_COUNCILS = 10
# Homelessness rows per synthetic person is about 0.93 (boldhub synth, 10 councils); a
# few rows are dropped for an unreadable or missing date of birth.
PERSONS_PER_RECORD = 1.2
# Columns shuffled together (by one permutation per group and council); every other
# column (the date of birth, the event dates and the attributes) stays with its row.
GROUPS = (
    ("Forename", "Sex", "OtherNames"),
    ("Surname",),
    ("Postcode",),
    ("NHSNumber",),
    ("NINumber",),
)


@dataclass(frozen=True)
class Built:
    root: Path
    councils: list[str]
    packages: dict[str, Path]  # council -> package folder
    bodies: dict[str, Path]  # council -> tar body as `boldhub submit` sends it
    info: dict[str, Any]


def cache_dir(work: Path, councils: int, records: int, seed: int, distinct: int) -> Path:
    tail = f"-d{distinct}" if distinct < councils else ""
    return work / f"packages-c{councils}-r{records}-s{seed}{tail}"


def council_codes(n: int) -> list[str]:
    """``n`` real GSS codes from the register the package ships
    (schemas/local_authorities.csv): the synthetic population's ten councils first, then
    the register's others in its order."""
    codes = [c.code for c in COUNCILS]
    codes += [c for c in local_authorities() if c not in codes]
    if not 1 <= n <= len(codes):
        raise SystemExit(f"--councils must be from 1 to {len(codes)}")
    return codes[:n]


def build(
    work: Path,
    councils: int,
    records: int,
    seed: int,
    jobs: int,
    distinct: int = 0,
    say: Any = print,
) -> Built:
    distinct = councils if distinct <= 0 else min(distinct, councils)
    root = cache_dir(work, councils, records, seed, distinct)
    codes = council_codes(councils)
    done = root / "build.json"
    packages = {c: root / "packages" / c for c in codes}
    bodies = {c: root / "bodies" / f"{c}.tar" for c in codes}
    if done.is_file():
        info = json.loads(done.read_text())
        info["cached"] = True
        say(f"packages: cached in {root} (built in {info['build_seconds']:.1f} s)")
        return Built(root, codes, packages, bodies, info)
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    # Time spent by earlier, interrupted runs of this build (elapsed.json), so that a
    # resumed build reports the whole of its time.
    earlier = root / "elapsed.json"
    before = json.loads(earlier.read_text())["seconds"] if earlier.is_file() else 0.0

    def mark() -> None:
        earlier.write_text(json.dumps({"seconds": before + time.perf_counter() - start}))

    trust = _trust(root, codes)
    t = time.perf_counter()
    pool_rows = _pool(root, codes[0], records, seed, say)
    pool_seconds = time.perf_counter() - t
    mark()
    todo = [c for c in codes if not (bodies[c].is_file() and packages[c].is_dir())]
    copies = f", {distinct} encoded and the others re-keyed copies" if distinct < councils else ""
    say(f"packages: building {len(todo)} of {len(codes)} ({records} records each{copies})")
    encoded = [c for c in todo if codes.index(c) < distinct]
    args = [(root, codes.index(c), c, records, seed, trust.agreement.id) for c in encoded]
    per_package: list[dict[str, Any]] = []
    t = time.perf_counter()
    if jobs <= 1:
        for a in args:
            per_package.append(_build_one(a))
            _save_row(root, per_package[-1], mark)
            say(f"  {a[2]}: {per_package[-1]}")
    else:
        with ProcessPoolExecutor(jobs) as pool:
            for row in pool.map(_build_one, args):
                per_package.append(row)
                _save_row(root, row, mark)
                say(f"  {row['council']}: {row}")
    encode_seconds = time.perf_counter() - t
    t = time.perf_counter()
    rekeyed = [(root, c, codes[codes.index(c) % distinct]) for c in todo if c not in encoded]
    for a in rekeyed:
        per_package.append(_rekey_one(a))
        _save_row(root, per_package[-1], mark)
        say(f"  {a[1]}: {per_package[-1]}")
    rekey_seconds = time.perf_counter() - t
    packages_seconds = encode_seconds + rekey_seconds
    # Each package's figures, this run's and those of an interrupted run it resumed.
    for row in per_package:
        _save_row(root, row, mark)
    per_package = [
        json.loads(p.read_text())
        for c in codes
        if (p := root / "per_package" / f"{c}.json").is_file()
    ]
    total = time.perf_counter() - start
    sizes = {c: bodies[c].stat().st_size for c in codes}
    info: dict[str, Any] = {
        "cached": False,
        "method": (
            "one boldhub synth population (10 areas) gives a pool of homelessness rows; "
            "each council's export is the pool with its identifier columns recombined by "
            "its own permutations (first council: as synthesised), prepared and encoded "
            "with its own signing key; the key service's outputs are cached across "
            "councils within a build worker, so each distinct value's OPRF is computed "
            "once per worker rather than once per council; only the first `distinct` "
            "councils are encoded, the others hold council (index mod distinct)'s "
            "encodings and attributes under fresh record keys, signed with their own key"
        ),
        "pool_rows": pool_rows,
        "synth_and_pool_seconds": round(pool_seconds, 2),
        "distinct": distinct,
        "encode_seconds": round(encode_seconds, 2),
        "rekey_seconds": round(rekey_seconds, 2),
        "packages_seconds": round(packages_seconds, 2),
        "build_seconds": round(before + total, 2),
        "earlier_interrupted_runs_seconds": round(before, 2),
        "jobs": jobs,
        "per_package": per_package,
        "body_bytes": sizes,
        "total_body_bytes": sum(sizes.values()),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    done.write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(root / "work", ignore_errors=True)
    return Built(root, codes, packages, bodies, info)


def _save_row(root: Path, row: dict[str, Any], mark: Any) -> None:
    mark()
    (root / "per_package").mkdir(exist_ok=True)
    (root / "per_package" / f"{row['council']}.json").write_text(json.dumps(row) + "\n")


def load_trust(root: Path, codes: Sequence[str]) -> Trust:
    path = root / "trust" / "agreement.yaml"
    keys = {c: load_signing_key(root / "trust" / c / "signing.key") for c in codes}
    return Trust(load_agreement(path), path, keys)


def _trust(root: Path, codes: list[str]) -> Trust:
    if (root / "trust" / "agreement.yaml").is_file():
        return load_trust(root, codes)
    shutil.rmtree(root / "trust", ignore_errors=True)
    key = create_key(root / "linkage.key", overwrite=True)
    return create_trust(root / "trust", key, codes, agreement_id=AGREEMENT_ID)


def _pool(root: Path, first: str, records: int, seed: int, say: Any) -> int:
    """The pool's CSV (``root/pool.csv``): at least ``records`` homelessness rows that
    prepare accepts with a readable date of birth."""
    pool = root / "pool.csv"
    if pool.is_file():
        with pool.open(newline="") as fh:
            return sum(1 for _ in fh) - 1
    work = root / "work"
    shutil.rmtree(work, ignore_errors=True)
    persons = int(records * PERSONS_PER_RECORD) + 500
    t = time.perf_counter()
    summary = generate(work / "synth", persons=persons, councils=SYNTH_COUNCILS, seed=seed)
    say(f"packages: synthesised {persons} people in {time.perf_counter() - t:.1f} s")
    header: list[str] = []
    rows: list[list[str]] = []
    for source, path in sorted(summary.files.items()):
        if not source.startswith(DATASET + ":"):
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows.extend(reader)
    for i, row in enumerate(rows):
        row[0] = f"POOL-{i + 1:07d}"
    raw = work / "pool-raw.csv"
    _write_csv(raw, header, rows)
    prepare(raw, DATASET, work / "pool-prepared", first)
    table = pq.read_table(work / "pool-prepared" / PREPARED_FILE, columns=["source_row_id", "dob"])
    ok = {
        rid
        for rid, dob in zip(
            table.column("source_row_id").to_pylist(), table.column("dob").to_pylist(), strict=True
        )
        if dob is not None
    }
    kept = [r for r in rows if r[0] in ok]
    if len(kept) < records:
        raise SystemExit(f"the synthetic pool has {len(kept)} usable rows, fewer than {records}")
    _write_csv(pool, header, kept[:records])
    shutil.rmtree(work / "synth", ignore_errors=True)
    say(f"packages: pool of {records} rows from {len(rows)} synthesised ({len(kept)} usable)")
    return records


def _write_csv(path: Path, header: list[str], rows: Sequence[Sequence[str]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)


class CachedKeyService:
    """The key service's keyed function with a cache in front: each (domain, value) is
    evaluated obliviously once; later asks get the same output back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.cache: dict[tuple[str, bytes], bytes] = {}
        self.evaluated = 0

    @property
    def fingerprint(self) -> str:
        return str(self.inner.fingerprint)

    def evaluate(self, domain: str, values: Sequence[bytes]) -> list[bytes]:
        missing = list(dict.fromkeys(v for v in values if (domain, v) not in self.cache))
        if missing:
            outputs = self.inner.evaluate(domain, missing)
            self.cache.update(((domain, v), o) for v, o in zip(missing, outputs, strict=True))
            self.evaluated += len(missing)
        return [self.cache[(domain, v)] for v in values]


_WORKER: dict[str, Any] = {}


def _worker_state(root: Path, agreement_id: str) -> dict[str, Any]:
    if not _WORKER:
        with (root / "pool.csv").open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = list(reader)
        key = load_key(root / "linkage.key")
        _WORKER.update(
            header=header,
            rows=rows,
            prf=CachedKeyService(local_key_function(key, agreement_id)),
            agreement=load_agreement(root / "trust" / "agreement.yaml"),
        )
    return _WORKER


def council_rows(
    header: list[str], rows: list[list[str]], index: int, code: str, seed: int
) -> list[list[str]]:
    """The pool's rows as council ``index``'s export: new case references and, for every
    council but the first, its identifier columns recombined (see the module's doc)."""
    n = len(rows)
    out = [list(r) for r in rows]
    if index > 0:
        rng = np.random.default_rng([seed, index])
        for group in GROUPS:
            cols = [header.index(c) for c in group]
            perm = rng.permutation(n)
            for i, j in enumerate(perm):
                src = rows[j]
                dst = out[i]
                for c in cols:
                    dst[c] = src[c]
    for i, row in enumerate(out):
        row[0] = f"HC-{code}-{i + 1:06d}"
    return out


def _build_one(args: tuple[Path, int, str, int, int, str]) -> dict[str, Any]:
    root, index, code, records, seed, agreement_id = args
    state = _worker_state(root, agreement_id)
    work = root / "work" / code
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    export = work / f"homelessness_{code}.csv"
    _write_csv(
        export, state["header"], council_rows(state["header"], state["rows"], index, code, seed)
    )
    t = time.perf_counter()
    prepared = prepare(export, DATASET, work / "prepared", code)
    prepare_s = time.perf_counter() - t
    if prepared.accepted != records:
        raise SystemExit(f"{code}: prepare accepted {prepared.accepted} of {records} rows")
    package = root / "packages" / code
    shutil.rmtree(package, ignore_errors=True)
    signing = load_signing_key(root / "trust" / code / "signing.key")
    prf: CachedKeyService = state["prf"]
    before = prf.evaluated
    t = time.perf_counter()
    result = encode(
        work / "prepared", prf, package, agreement=state["agreement"], signing_key=signing
    )
    encode_s = time.perf_counter() - t
    body = root / "bodies" / f"{code}.tar"
    body.parent.mkdir(parents=True, exist_ok=True)
    tmp = body.with_suffix(".partial")
    tmp.write_bytes(submission_body(package))
    tmp.replace(body)
    shutil.rmtree(work, ignore_errors=True)
    return {
        "council": code,
        "records": result.records,
        "prepare_seconds": round(prepare_s, 2),
        "encode_seconds": round(encode_s, 2),
        "oprf_evaluations": prf.evaluated - before,
        "bytes": body.stat().st_size,
        "worker": os.getpid(),
    }


def _rekey_one(args: tuple[Path, str, str]) -> dict[str, Any]:
    """Council ``code``'s package from council ``source``'s encodings and attributes,
    under fresh record keys, signed with ``code``'s own key."""
    root, code, source = args
    t = time.perf_counter()
    src = root / "packages" / source
    manifest = json.loads((src / MANIFEST_FILE).read_text())
    encodings = pq.read_table(src / ENCODINGS_FILE)
    attributes = pq.read_table(src / ATTRIBUTES_FILE)
    old = encodings.column("record_key").to_pylist()
    new = dict(zip(old, new_record_keys(len(old)), strict=True))
    encodings = _with_keys(encodings, new)
    attributes = _with_keys(attributes, new)
    agreement = load_agreement(root / "trust" / "agreement.yaml")
    package = root / "packages" / code
    shutil.rmtree(package, ignore_errors=True)
    tmp = root / "packages" / f".{code}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    write_package(
        tmp,
        encodings=encodings,
        attributes=attributes,
        dataset=DATASET,
        organisation=code,
        period=str(manifest["period"]),
        params=agreement.encoding,
        key_fingerprint=str(manifest["key_fingerprint"]),
        agreement_id=agreement.id,
        signing_key=load_signing_key(root / "trust" / code / "signing.key"),
        created_at=clock.now().isoformat(),
    )
    tmp.rename(package)
    body = root / "bodies" / f"{code}.tar"
    part = body.with_suffix(".partial")
    part.write_bytes(submission_body(package))
    part.replace(body)
    return {
        "council": code,
        "records": encodings.num_rows,
        "rekeyed_from": source,
        "seconds": round(time.perf_counter() - t, 2),
        "bytes": body.stat().st_size,
    }


def _with_keys(table: pa.Table, new: dict[str, str]) -> pa.Table:
    i = table.column_names.index("record_key")
    keys = pa.array([new[k] for k in table.column("record_key").to_pylist()], pa.string())
    return table.set_column(i, "record_key", keys)
