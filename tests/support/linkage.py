"""Encoded synthetic sources with known truth, for linkage tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from boldhub.council.encode import KEYMAP_FILE
from boldhub.linkage.run import LinkInput
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
