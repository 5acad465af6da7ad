"""Scan a folder for identifiers in clear, in raw bytes and inside every file format.

Two passes, because each alone misses things:

* raw bytes of every file, for every identifier string of 6+ characters in the case
  variants an export, a standardiser or a log would use. Shorter strings are left to the
  decoded pass: random binary (Bloom filters, compressed pages) matches a given 5-byte
  string with odds that make a byte test flaky, a 6-byte one with odds of 1 in 2^48.
* decoded values: every string inside Parquet files, SQLite databases (all tables), DuckDB
  files, JSON and other text files. Compression hides clear text from a byte scan; this
  pass reads what the formats hold. A string value that is exactly an identifier (any
  length), or that holds a name of 4+ characters as a whole word, or a date of birth or
  postcode (6+ characters) as a whole token, is a finding. Values
  from the schemas' closed vocabularies (categories such as the ethnicity "White") are
  codes, not identifiers, and are skipped.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

import boldhub.outcomes
from boldhub.agreements.catalogue import CATALOGUE_FILE
from boldhub.agreements.draft import DEFAULT_BENEFITS, DEFAULT_PURPOSE, DEFAULT_TASK
from boldhub.agreements.model import json_schema
from boldhub.schemas import CENTRAL_BODIES, COUNCILS, DATASETS

OUTCOMES = Path(boldhub.outcomes.__file__).parent


@dataclass
class Identifiers:
    names: set[str] = field(default_factory=set)  # upper case, as found in the input
    dobs: set[str] = field(default_factory=set)  # every textual form
    postcodes: set[str] = field(default_factory=set)  # normalised and compact, upper case

    def all_upper(self) -> set[str]:
        return self.names | self.dobs | self.postcodes


def identifiers_from_exports(files: Iterable[Path]) -> Identifiers:
    """Every forename, surname, other name, date of birth and postcode of the exports."""
    ids = Identifiers()
    for path in files:
        dataset = next(d for d in DATASETS.values() if path.name.startswith(d.name))
        headers = dataset.identifier_headers
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for f in ("forename", "surname", "other_names"):
                    if f in headers:
                        for part in re.split(r"[\s\-]+", row[headers[f]]):
                            part = part.strip(" '").upper()
                            if len(part) > 1:  # initials (NDTMS) identify no one
                                ids.names.add(part)
                raw_dob = row[headers["dob"]].strip()
                if raw_dob:
                    ids.dobs |= _date_forms(raw_dob)
                pc = re.sub(r"[^A-Z0-9]", "", row[headers["postcode"]].upper())
                if len(pc) >= 5:
                    ids.postcodes |= {pc, f"{pc[:-3]} {pc[-3:]}"}
    return ids


def _date_forms(raw: str) -> set[str]:
    forms = {raw.upper()}
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            d = datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        forms |= {
            d.isoformat(),
            d.strftime("%d/%m/%Y"),
            d.strftime("%Y%m%d"),
            d.strftime("%d-%m-%Y"),
            str((d - date(1899, 12, 30)).days),  # an Excel serial, as XLSX stores it
        }
    return {f for f in forms if len(f) >= 5}


def vocabulary() -> set[str]:
    """Closed vocabularies: values that are codes from the schemas, never identifiers."""
    words: set[str] = set()
    for d in DATASETS.values():
        words.add(d.name.upper())
        for a in d.attributes:
            words |= {v.upper() for v in a.values}
    words |= {o.code.upper() for o in (*COUNCILS, *CENTRAL_BODIES)}
    # The agreement's own words: its field names ("law", "field") and the fixed texts the
    # software drafts it from (the catalogue, the default purpose). Prose a person wrote
    # into an agreement, not anything read from a record.
    fixed = [
        CATALOGUE_FILE.read_text(encoding="utf-8"),
        json.dumps(json_schema()),
        DEFAULT_PURPOSE,
        DEFAULT_TASK,
        *DEFAULT_BENEFITS,
        # The released dashboards' fixed words: their templates, the phrases and styles of
        # the modules that write them, the indicators' titles, and the names of the
        # organisations a release is for ("Page" and "Bristol" are surnames too).
        *(p.read_text(encoding="utf-8") for p in sorted(OUTCOMES.glob("templates/*.html"))),
        *(
            (OUTCOMES / f).read_text(encoding="utf-8")
            for f in ("dashboard.py", "charts.py", "catalogue.py", "release.py")
        ),
        *(o.name for o in (*COUNCILS, *CENTRAL_BODIES)),
    ]
    words |= {w for text in fixed for w in re.findall(r"[A-Z]+", text.upper())}
    return words


# A word as a name, a date or half a postcode is written: letters, digits, ' / -.
_TOKEN = re.compile(r"[A-Z0-9'/\-]+")


@dataclass(frozen=True)
class Finding:
    file: Path
    where: str
    identifier: str


def scan(root: Path, ids: Identifiers) -> list[Finding]:
    findings: list[Finding] = []
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert files, f"nothing to scan under {root}"
    findings += _scan_raw(files, ids)
    vocab = vocabulary()
    # Multi-word codes (the ethnicity "Black, Black British, Caribbean or African") are
    # blanked out of whole texts before the word pass, so that a report tabulating them
    # is not taken for a list of surnames; single words are still checked one by one.
    phrases = sorted((v for v in vocab if " " in v), key=len, reverse=True)
    exact = ids.all_upper()
    words = {n for n in ids.names if len(n) >= 4}
    for path in files:
        for where, value in _decoded_strings(path):
            text = " ".join(value.upper().split())
            if not text or text in vocab:
                continue
            if text in exact:
                findings.append(Finding(path, where, text))
                continue
            for phrase in phrases:
                if phrase in text:
                    text = text.replace(phrase, " ")
            tokens = _TOKEN.findall(text)
            for i, tok in enumerate(tokens):
                pair = f"{tok} {tokens[i + 1]}" if i + 1 < len(tokens) else ""
                parts = re.split(r"[/\-]", tok)
                hit = next(
                    (
                        s
                        for s in (tok, pair, *parts)
                        if (s in words or (s in exact and len(s) >= 6)) and s not in vocab
                    ),
                    None,
                )
                if hit:
                    findings.append(Finding(path, where, hit))
    return findings


def _scan_raw(files: list[Path], ids: Identifiers) -> list[Finding]:
    needles: set[bytes] = set()
    for s in ids.all_upper():
        if len(s) >= 6:
            needles |= {s.encode(), s.lower().encode(), s.title().encode()}
    if not needles:
        return []
    pattern = re.compile(b"|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
    out = []
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # SQLite's -shm/-wal files come and go with connections
            continue
        for m in pattern.finditer(data):
            out.append(Finding(path, f"byte {m.start()}", m.group(0).decode(errors="replace")))
    return out


def _decoded_strings(path: Path) -> Iterator[tuple[str, str]]:
    try:
        head = path.read_bytes()[:16]
    except FileNotFoundError:
        return
    if head.startswith(b"PAR1"):
        yield from _parquet_strings(path)
    elif head.startswith(b"SQLite format 3"):
        yield from _sqlite_strings(path)
    elif path.suffix == ".duckdb" or head[8:12] == b"DUCK":
        yield from _duckdb_strings(path)
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            return  # binary of no known format: covered by the raw pass only
        if path.suffix == ".json":
            yield from _json_strings(json.loads(text), path.name)
        yield "text", text


def _parquet_strings(path: Path) -> Iterator[tuple[str, str]]:
    table = pq.read_table(path)
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_list(col.type):
            col = pa.compute.list_flatten(col)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            for v in col.to_pylist():
                if v is not None:
                    yield f"column {name}", v
    meta = table.schema.metadata or {}
    for k, v in meta.items():
        yield "metadata", k.decode(errors="replace") + " " + v.decode(errors="replace")


def _sqlite_strings(path: Path) -> Iterator[tuple[str, str]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            for row in con.execute(f'SELECT * FROM "{t}"'):
                for v in row:
                    if isinstance(v, str):
                        yield f"table {t}", v
                        if v.startswith(("{", "[")):
                            with contextlib.suppress(json.JSONDecodeError):
                                yield from _json_strings(json.loads(v), f"table {t}")
    finally:
        con.close()


def _duckdb_strings(path: Path) -> Iterator[tuple[str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR'"
        ).fetchall()
        for t, c in cols:
            for (v,) in con.execute(f'SELECT "{c}" FROM "{t}" WHERE "{c}" IS NOT NULL').fetchall():
                yield f"table {t}", str(v)
    finally:
        con.close()


def _json_strings(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield where, str(k)
            yield from _json_strings(v, where)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v, where)
