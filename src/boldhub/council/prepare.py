"""Prepare an export: map, standardise and validate it into a clean, local table.

Writes into the output folder, all or nothing:

    prepared.parquet   one row per accepted record: standardised identifiers + attributes
    quarantine.csv     every rejected row: its row number, plain-English reasons, raw cells
    meta.json          dataset, organisation, period, counts, warnings per field

Every input row is accounted for: input = accepted + quarantined, always.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from boldhub import clock
from boldhub.council import standardise as std
from boldhub.council.read import read_export
from boldhub.errors import SchemaError, UserError
from boldhub.safecsv import write_csv
from boldhub.schemas import CENTRAL_BODIES, Dataset, get_dataset, get_organisation
from boldhub.schemas.identifiers import IDENTIFIER_NAMES

PREPARED_FILE = "prepared.parquet"
QUARANTINE_FILE = "quarantine.csv"
META_FILE = "meta.json"

_DEFAULT_ORG = {"probation": "MOJ-PROBATION", "treatment": "DHSC-NDTMS", "victims": "MOJ-VICTIMS"}
_FLAGS = {"Y": "Y", "YES": "Y", "1": "Y", "TRUE": "Y", "N": "N", "NO": "N", "0": "N", "FALSE": "N"}


@dataclass(frozen=True)
class PrepareResult:
    out: Path
    input_rows: int
    accepted: int
    quarantined: int
    warnings: dict[str, int]


def default_organisation(dataset: str) -> str | None:
    return _DEFAULT_ORG.get(dataset)


def prepare(
    file: Path,
    dataset_name: str,
    out: Path,
    organisation: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> PrepareResult:
    dataset = get_dataset(dataset_name)
    org_code = organisation or default_organisation(dataset.name)
    if org_code is None:
        raise UserError(
            f"dataset {dataset.name} is submitted by a council: give its GSS code with --org"
        )
    org = get_organisation(org_code)
    if dataset.council_level and org.kind != "council":
        raise UserError(f"{org.code} is not a council; {dataset.name} exports come from councils")
    if not dataset.council_level and org not in CENTRAL_BODIES:
        raise UserError(
            f"{org.code} does not submit {dataset.name} data; omit --org or use the central body"
        )
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")

    export = read_export(file)
    columns = _map_columns(export.header, dataset, file)
    today = clock.today()
    accepted: list[dict[str, Any]] = []
    quarantined: list[tuple[int, str | None, str, list[str]]] = []
    warnings: Counter[str] = Counter()
    seen_ids: dict[str, int] = {}
    for idx, raw_row in enumerate(export.rows):
        row_number = idx + 2  # the header is row 1, as a spreadsheet shows it
        cells = {h: (raw_row[i] if i < len(raw_row) else "") for h, i in columns.items()}
        record, errors, row_warnings = _standardise_row(cells, dataset, today)
        if len(raw_row) != len(export.header):
            errors.insert(0, f"has {len(raw_row)} cells but the header has {len(export.header)}")
        row_id = record.get("source_row_id")
        if row_id:
            if row_id in seen_ids:
                errors.append(f"{dataset.row_id_header} repeats the one on row {seen_ids[row_id]}")
            else:
                seen_ids[row_id] = row_number
        if errors:
            quarantined.append((row_number, row_id, "; ".join(errors), raw_row))
        else:
            record["row_number"] = row_number
            accepted.append(record)
            warnings.update(row_warnings)
        if progress is not None and (idx + 1) % 5000 == 0:
            progress(5000)
    if progress is not None:
        progress(len(export.rows) % 5000)

    n_in = len(export.rows)
    assert n_in == len(accepted) + len(quarantined)  # no row is ever dropped silently
    event_dates = sorted(r[dataset.event_date] for r in accepted if r.get(dataset.event_date))
    period = f"{event_dates[0]}/{event_dates[-1]}" if event_dates else "none"
    meta = {
        "dataset": dataset.name,
        "schema_version": dataset.version,
        "organisation": org.code,
        "period": period,
        "input_file": file.name,
        "input_encoding": export.encoding,
        "rows": {"input": n_in, "accepted": len(accepted), "quarantined": len(quarantined)},
        "warnings": dict(sorted(warnings.items())),
        "prepared_at": clock.now().isoformat(),
    }
    _write_all_or_nothing(out, dataset, accepted, quarantined, export.header, meta)
    return PrepareResult(out, n_in, len(accepted), len(quarantined), dict(warnings))


def _map_columns(header: list[str], dataset: Dataset, file: Path) -> dict[str, int]:
    """The built-in mapping profile: the body's own export headers, matched case-blind."""
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    wanted = dataset.export_headers
    missing = [h for h in wanted if h.lower() not in index]
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise SchemaError(
            f"{file}: {len(missing)} of the {len(wanted)} columns of a {dataset.name} export "
            f"are missing ({shown}); check --dataset, or export with the {dataset.title} columns"
        )
    return {h: index[h.lower()] for h in wanted}


def _standardise_row(
    cells: dict[str, str], dataset: Dataset, today: date
) -> tuple[dict[str, Any], list[str], list[str]]:
    errors: list[str] = []
    warns: list[str] = []
    record: dict[str, Any] = dict.fromkeys(IDENTIFIER_NAMES)
    row_id = cells[dataset.row_id_header].strip()
    if not row_id:
        errors.append(f"{dataset.row_id_header} is empty")
    record["source_row_id"] = row_id or None

    checks: dict[str, Callable[[str], std.Result]] = {
        "forename": std.name,
        "surname": std.name,
        "other_names": std.name,
        "dob": lambda v: std.dob(v, today),
        "sex": std.sex,
        "postcode": std.postcode,
        "nhs_number": std.nhs_number,
        "ni_number": std.ni_number,
        "pnc_id": std.justice_id,
        "crn": std.justice_id,
        "prison_number": std.justice_id,
    }
    for field, header in dataset.identifier_headers.items():
        value, problem = checks[field](cells[header])
        record[field] = value
        if problem:
            warns.append(f"{field} {problem}")
        elif value is None and field in ("nhs_number", "postcode", "dob"):
            warns.append(f"{field} missing")
    if not (record["forename"] or record["surname"]) and not record["dob"]:
        errors.append("has no name and no date of birth, so it cannot be linked")

    for attr in dataset.attributes:
        raw = cells[attr.header].strip()
        value = None
        problem = None
        if not raw:
            if attr.required:
                problem = f"{attr.header} is empty but required"
        elif attr.kind == "date":
            try:
                parsed = std.parse_date(raw)
                value = parsed.isoformat() if parsed else None
            except ValueError:
                problem = f"{attr.header} is not a date (use DD/MM/YYYY or YYYY-MM-DD)"
        elif attr.kind == "flag":
            value = _FLAGS.get(raw.upper())
            if value is None:
                problem = f"{attr.header} must be Y or N"
        elif attr.kind == "category":
            matched = next((v for v in attr.values if v.lower() == raw.lower()), None)
            if matched is None:
                problem = f"{attr.header} is not one of the allowed values"
            value = matched
        else:
            value = raw
        if problem:
            (errors if attr.required else warns).append(problem)
        record[attr.name] = value

    event = record.get(dataset.event_date)
    if record["dob"] and event and record["dob"] > event:
        errors.append(f"date of birth is after {dataset.attribute(dataset.event_date).header}")
    record["age_band"] = std.age_band(record["dob"], event)
    return record, errors, warns


def _write_all_or_nothing(
    out: Path,
    dataset: Dataset,
    accepted: list[dict[str, Any]],
    quarantined: list[tuple[int, str | None, str, list[str]]],
    header: list[str],
    meta: dict[str, Any],
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".boldhub-prepare-", dir=out.parent))
    try:
        columns = [
            "row_number",
            "source_row_id",
            *IDENTIFIER_NAMES,
            *dataset.attribute_names,
            "age_band",
        ]
        data = {c: [r.get(c) for r in accepted] for c in columns}
        schema = pa.schema([(c, pa.int64() if c == "row_number" else pa.string()) for c in columns])
        pq.write_table(pa.table(data, schema=schema), tmp / PREPARED_FILE)
        write_csv(
            tmp / QUARANTINE_FILE,
            ["row_number", dataset.row_id_header, "reasons", *header],
            ([n, rid, reasons, *raw] for n, rid, reasons, raw in quarantined),
        )
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        out.mkdir(parents=True, exist_ok=True)
        for name in (PREPARED_FILE, QUARANTINE_FILE, META_FILE):
            (tmp / name).replace(out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_meta(prepared_dir: Path) -> dict[str, Any]:
    path = prepared_dir / META_FILE
    if not (prepared_dir / PREPARED_FILE).is_file() or not path.is_file():
        raise UserError(
            f"{prepared_dir} is not a prepared folder (no {PREPARED_FILE} or {META_FILE}); "
            "run `boldhub prepare` first"
        )
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise UserError(f"{path} is damaged; run `boldhub prepare` again") from None
    return meta
