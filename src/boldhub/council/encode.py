"""Turn a prepared folder into a submission package, on the data provider's machine.

Each record gets a fresh random ``record_key`` (not its case number). The map from the
provider's own row ids to record keys stays here, in ``keymap.csv`` beside the prepared
data (one row per record and package): it never goes into the package.
"""

from __future__ import annotations

import csv
import itertools
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from boldhub import clock
from boldhub.council.prepare import PREPARED_FILE, read_meta
from boldhub.errors import UserError
from boldhub.privacy.encoding import Encoder, EncodingParams
from boldhub.privacy.keys import LinkageKey
from boldhub.privacy.package import MANIFEST_FILE, sha256_file, write_package
from boldhub.safecsv import write_csv
from boldhub.schemas import get_dataset
from boldhub.schemas.identifiers import IDENTIFIER_NAMES

KEYMAP_FILE = "keymap.csv"


@dataclass(frozen=True)
class EncodeResult:
    package: Path
    keymap: Path
    records: int
    source: str


def encode(
    prepared_dir: Path,
    key: LinkageKey,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> EncodeResult:
    meta = read_meta(prepared_dir)
    dataset = get_dataset(str(meta["dataset"]))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {out} already exists and is not empty; choose a new folder")
    if out.resolve() == prepared_dir.resolve() or prepared_dir.resolve() in out.resolve().parents:
        raise UserError(
            "--out must not be inside the prepared folder: that folder stays at the council"
        )
    table = pq.read_table(prepared_dir / PREPARED_FILE)
    n = table.num_rows
    if n == 0:
        raise UserError(
            f"{prepared_dir} has no accepted rows to encode; fix quarantine.csv and prepare again"
        )
    record_keys = [secrets.token_hex(16) for _ in range(n)]
    identifiers = {c: table.column(c).to_pylist() for c in IDENTIFIER_NAMES}
    encodings = Encoder(key).encode_rows(record_keys, identifiers, progress)
    attr_cols = [*dataset.attribute_names, "age_band"]
    attributes = pa.table({"record_key": record_keys, **{c: table.column(c) for c in attr_cols}})
    tmp = Path(
        tempfile.mkdtemp(prefix=".boldhub-encode-", dir=out.parent if out.parent.exists() else None)
    )
    try:
        write_package(
            tmp / "package",
            encodings=encodings,
            attributes=attributes,
            dataset=dataset.name,
            organisation=str(meta["organisation"]),
            period=str(meta["period"]),
            params=EncodingParams(),
            key_fingerprint=key.fingerprint,
            created_at=clock.now().isoformat(),
        )
        # The keymap accumulates across encodings, so that an earlier package's record
        # keys can still be traced back to rows after the data is encoded again.
        keymap = prepared_dir / KEYMAP_FILE
        previous: list[list[str]] = []
        if keymap.is_file():
            with keymap.open(encoding="utf-8", newline="") as fh:
                previous = list(csv.reader(fh))[1:]
        package_id = sha256_file(tmp / "package" / MANIFEST_FILE)[:16]
        keymap_tmp = tmp / KEYMAP_FILE
        new_rows = (
            [rid, rk, package_id]
            for rid, rk in zip(table.column("source_row_id").to_pylist(), record_keys, strict=True)
        )
        write_csv(
            keymap_tmp,
            ["source_row_id", "record_key", "package_id"],
            itertools.chain(previous, new_rows),
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()
        shutil.move(tmp / "package", out)
        shutil.move(keymap_tmp, keymap)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert (out / MANIFEST_FILE).is_file()
    return EncodeResult(out, keymap, n, f"{dataset.name}:{meta['organisation']}")
