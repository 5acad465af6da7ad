"""Synthetic sources with known truth, prepared and encoded as their owners would, for the
linkage benchmarks (cached under the temporary folder, boldhub-bench/linkage-<persons>-<seed>)."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from boldhub.council.prepare import prepare
from boldhub.linkage.records import LinkInput
from boldhub.privacy.encoding import Encoder, EncodingParams
from boldhub.privacy.package import write_encodings
from boldhub.privacy.prf import ThrowawayPRF
from boldhub.schemas.identifiers import IDENTIFIER_NAMES
from boldhub.synth import generate

CACHE = Path(tempfile.gettempdir()) / "boldhub-bench"


@dataclass(frozen=True)
class EncodedWorld:
    root: Path
    inputs: list[LinkInput]
    prepared: dict[str, Path]  # source -> prepared.parquet (identifiers in clear)

    @cached_property
    def truth(self) -> dict[str, str]:
        """record_key -> true person id (read on first use: a million entries are not
        part of what a linkage run holds in memory)."""
        truth: dict[str, str] = json.loads((self.root / "truth.json").read_text())
        return truth


def encoded_world(persons: int, councils: int = 3, seed: int = 42) -> EncodedWorld:
    root = CACHE / f"linkage-{persons}-{councils}-{seed}"
    done = root / "done.json"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        summary = generate(root / "exports", persons=persons, councils=councils, seed=seed)
        truth_of_row: dict[tuple[str, str], str] = {}
        with summary.truth.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                truth_of_row[(row["source"], row["source_row_id"])] = row["person_id"]
        encoder = Encoder(ThrowawayPRF(b"\x07" * 32), EncodingParams())
        sources, truth = {}, {}
        for i, (source, export) in enumerate(sorted(summary.files.items())):
            dataset, org = source.split(":", 1)
            folder = root / f"{dataset}-{org}"
            prepare(export, dataset, folder / "prepared", org)
            table = pq.read_table(folder / "prepared" / "prepared.parquet")
            ids = table.column("source_row_id").to_pylist()
            keys = [f"{i:02d}{n:030x}" for n in range(len(ids))]
            encodings = encoder.encode_rows(keys, {c: table.column(c) for c in IDENTIFIER_NAMES})
            write_encodings(encodings, folder / "encodings.parquet")
            clear = table.select(list(IDENTIFIER_NAMES)).append_column(
                "record_key", pa.array(keys, pa.string())
            )
            pq.write_table(clear, folder / "clear.parquet")
            truth.update({k: truth_of_row[(source, r)] for k, r in zip(keys, ids, strict=True)})
            sources[source] = folder.name
        (root / "truth.json").write_text(json.dumps(truth))
        done.write_text(json.dumps(sources))
    sources = json.loads(done.read_text())
    return EncodedWorld(
        root,
        [LinkInput(s, root / f / "encodings.parquet") for s, f in sorted(sources.items())],
        {s: root / f / "clear.parquet" for s, f in sorted(sources.items())},
    )
