"""Encoded synthetic sources with known truth, for linkage tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from boldhub.council.encode import KEYMAP_FILE
from boldhub.linkage.records import LinkInput
from tests.support.hubworld import build_packages


@dataclass(frozen=True)
class LinkageWorld:
    inputs: list[LinkInput]
    truth: dict[str, str]  # record_key -> true person id


def build_linkage_world(root: Path, persons: int = 400, seed: int = 11) -> LinkageWorld:
    packs = build_packages(root, persons=persons, seed=seed)
    truth_of_row: dict[tuple[str, str], str] = {}
    with (root / "exports" / "truth.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth_of_row[(row["source"], row["source_row_id"])] = row["person_id"]
    inputs, truth = [], {}
    for source, package in sorted(packs.by_source.items()):
        inputs.append(LinkInput(source, package / "encodings.parquet"))
        prepared = package.parent / "prepared"
        with (prepared / KEYMAP_FILE).open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                truth[row["record_key"]] = truth_of_row[(source, row["source_row_id"])]
    return LinkageWorld(inputs, truth)


def split_inputs(
    inputs: list[LinkInput], folder: Path, share: float
) -> tuple[list[LinkInput], list[LinkInput]]:
    """Each source cut in two: its first ``share`` of records (known) and the rest (a new
    quarter's), written to ``folder``."""
    old, new = [], []
    for i, item in enumerate(inputs):
        table = pq.read_table(item.encodings)
        cut = int(table.num_rows * share)
        for part, rows in (("old", table.slice(0, cut)), ("new", table.slice(cut))):
            pq.write_table(rows, folder / f"{part}{i}.parquet")
        old.append(LinkInput(item.source, folder / f"old{i}.parquet"))
        new.append(LinkInput(item.source, folder / f"new{i}.parquet"))
    return old, new
