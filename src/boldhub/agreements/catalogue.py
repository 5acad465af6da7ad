"""The catalogue of lawful bases and conditions (``catalogue.yaml``): what an agreement
may cite, each entry explained in plain English with its source, and which ones suit a
party supplying a given dataset."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ruamel.yaml import YAML

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")
KINDS = ("article_6", "article_9", "schedule_1", "law")


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    title: str
    citation: str
    plain: str
    needs: str | None
    suggested_for: tuple[str, ...]


@cache
def catalogue() -> dict[str, Entry]:
    """Every entry by id, in the file's order."""
    raw = YAML(typ="safe", pure=True).load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    entries = {}
    for item in raw:
        entry = Entry(
            id=item["id"],
            kind=item["kind"],
            title=item["title"],
            citation=" ".join(str(item["citation"]).split()),
            plain=" ".join(str(item["plain"]).split()),
            needs=item.get("needs"),
            suggested_for=tuple(item.get("suggested_for") or ()),
        )
        if entry.kind not in KINDS or entry.id in entries:
            raise ValueError(f"catalogue.yaml: bad or repeated entry {entry.id}")
        entries[entry.id] = entry
    return entries


def of_kind(kind: str) -> list[Entry]:
    return [e for e in catalogue().values() if e.kind == kind]


def suggest(kind: str, *fits: str) -> list[Entry]:
    """Entries of ``kind`` suggested for any of ``fits`` (dataset names or party kinds),
    most specific first: dataset matches before party-kind matches."""
    found = [e for e in of_kind(kind) if any(f in e.suggested_for for f in fits)]
    return sorted(found, key=lambda e: min(fits.index(f) for f in fits if f in e.suggested_for))
