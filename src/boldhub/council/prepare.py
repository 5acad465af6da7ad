"""Prepare an export: read, map, standardise and validate it into a clean, local table.

Writes into the output folder, all or nothing:

    prepared.parquet   one row per accepted record: standardised identifiers + attributes
    quarantine.csv     every rejected row: its row number, row id, plain-English reasons,
                       then its other raw cells
    warnings.csv       every warning on an accepted row: row number, field, reason (no values)
    report.html        completeness and validity per field, duplicates, the first rows
    meta.json          dataset, organisation, period, counts, warnings per field, mapping

Every input row is accounted for: input = accepted + quarantined, always. Nothing is
written under the output folder until everything has been read and checked, so a file
that cannot be read leaves no trace there.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from boldhub import clock
from boldhub.council.mapping import BUILTIN, Mapping, builtin_mapping, resolve
from boldhub.council.read import Export, ReadOptions, read_export
from boldhub.council.report import ValidationReport, build_report, render_report
from boldhub.council.validate import Validation, validate
from boldhub.errors import SchemaError, UserError
from boldhub.safecsv import write_csv
from boldhub.schemas import CENTRAL_BODIES, Dataset, Organisation, get_dataset, get_organisation
from boldhub.schemas.organisations import BODY_CODE_RE

PREPARED_FILE = "prepared.parquet"
QUARANTINE_FILE = "quarantine.csv"
WARNINGS_FILE = "warnings.csv"
REPORT_FILE = "report.html"
META_FILE = "meta.json"
OUTPUT_FILES = (PREPARED_FILE, QUARANTINE_FILE, WARNINGS_FILE, REPORT_FILE, META_FILE)

_DEFAULT_ORG = {"probation": "MOJ-PROBATION", "treatment": "DHSC-NDTMS", "victims": "MOJ-VICTIMS"}


@dataclass(frozen=True)
class PrepareResult:
    out: Path
    input_rows: int
    accepted: int
    quarantined: int
    warnings: dict[str, int]
    report: ValidationReport | None = None


def default_organisation(dataset: str) -> str | None:
    return _DEFAULT_ORG.get(dataset)


def check_organisation(dataset: Dataset, organisation: str | None) -> Organisation:
    org_code = organisation or default_organisation(dataset.name)
    if org_code is None:
        raise UserError(
            f"dataset {dataset.name} is submitted by a council: give its GSS code with --org"
        )
    try:
        org = get_organisation(org_code)
    except SchemaError:
        if dataset.council_level or not BODY_CODE_RE.match(org_code):
            raise
        # A body only the hub knows (its admins registered it): the council side cannot
        # look it up, and the hub checks it when the package arrives.
        return Organisation(org_code, org_code, "provider")
    if dataset.council_level and org.kind != "council":
        raise UserError(f"{org.code} is not a council; {dataset.name} exports come from councils")
    if not dataset.council_level and org not in CENTRAL_BODIES:
        raise UserError(
            f"{org.code} does not submit {dataset.name} data; omit --org or use the central body"
        )
    return org


def read_options_for(mapping: Mapping | None, given: ReadOptions | None) -> ReadOptions:
    """Options given now win over the ones a profile remembers."""
    options = given or ReadOptions()
    if mapping is None:
        return options
    saved = mapping.options
    return replace(
        options,
        encoding=options.encoding or saved.get("encoding"),
        delimiter=options.delimiter or saved.get("delimiter"),
        sheet=options.sheet or saved.get("sheet"),
    )


def prepare(
    file: Path,
    dataset_name: str,
    out: Path,
    organisation: str | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    mapping: Mapping | None = None,
    read_options: ReadOptions | None = None,
    personal: Path | None = None,
    on_step: Callable[[str], None] | None = None,
    export: Export | None = None,
    source_name: str | None = None,
) -> PrepareResult:
    """Prepare ``file`` (and H-CLIC's ``personal`` data file) into ``out``.

    ``mapping`` defaults to the dataset's built-in profile; ``progress`` is called with
    numbers of rows done, adding up to the number of input rows. ``export``: the file
    already read (the council page reads it once to show the mapping); ``source_name``:
    the file's name as the officer knows it, when it was saved under another.
    """
    step = on_step or (lambda _s: None)
    dataset = get_dataset(dataset_name)
    org = check_organisation(dataset, organisation)
    if mapping is not None and mapping.dataset != dataset.name:
        raise UserError(
            f"mapping profile '{mapping.name}' is for {mapping.dataset} exports, not "
            f"{dataset.name}; choose a {dataset.name} profile"
        )
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")

    step("reading")
    if export is None:
        export = read_export(file, read_options_for(mapping, read_options), personal=personal)
    resolved = resolve(dataset, mapping or builtin_mapping(dataset), export.header, file)
    step("standardising and validating")
    validation = validate(export, dataset, resolved, clock.today())
    n_in = export.rows
    n_acc, n_q = validation.accepted.num_rows, len(validation.quarantined)
    assert n_in == n_acc + n_q, (n_in, n_acc, n_q)  # no row is ever dropped silently

    meta = _meta(export, dataset, org, validation, resolved.mapping)
    if source_name:
        meta["input_file"] = source_name
    report = build_report(validation, meta, dataset.title, org.name, export.describe())
    header = export.header
    # The text of every cell is no longer needed: let it go before writing.
    del export
    step("writing")
    write_prepared(out, header, resolved.indices, validation, meta, render_report(report))
    if progress is not None:
        progress(n_in)
    return PrepareResult(out, n_in, n_acc, n_q, dict(validation.warning_counts), report)


def _meta(
    export: Export, dataset: Dataset, org: Organisation, validation: Validation, mapping: Mapping
) -> dict[str, Any]:
    d = validation.date_order
    return {
        "dataset": dataset.name,
        "schema_version": dataset.version,
        "organisation": org.code,
        "period": validation.period,
        "input_file": export.path.name,
        "input_files": [p.name for p in export.files],
        "input_format": export.format,
        "input_encoding": export.encoding,
        "delimiter": export.delimiter,
        "sheet": export.sheet,
        "mapping": {
            "name": mapping.name,
            "columns": dict(mapping.columns),
        },
        "date_order": {
            "order": d.order,
            "chosen_by": d.chosen_by,
            "day_first_only": d.dmy_only,
            "month_first_only": d.mdy_only,
            "ambiguous": d.ambiguous,
        },
        "rows": {
            "input": validation.input_rows,
            "accepted": validation.accepted.num_rows,
            "quarantined": len(validation.quarantined),
        },
        "blank_rows": export.blank_rows,
        "misaligned_rows": len(export.bad_rows),
        "warnings": dict(sorted(validation.warning_counts.items())),
        "duplicates": {
            "row_ids": validation.duplicate_ids,
            "repeated_rows": validation.repeated_rows,
            "same_person_rows": validation.same_person_rows,
        },
        "prepared_at": clock.now().isoformat(),
    }


def write_prepared(
    out: Path,
    header: list[str],
    indices: dict[str, int],
    validation: Validation,
    meta: dict[str, Any],
    report_html: str,
) -> None:
    """Write every output into a temporary folder beside ``out``, then move them in."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".boldhub-prepare-", dir=out.parent))
    try:
        write_parquet(validation.accepted, tmp / PREPARED_FILE)
        write_quarantine(tmp / QUARANTINE_FILE, header, indices["source_row_id"], validation)
        # Row numbers, fields and reasons only: the values stay in the export.
        write_csv(
            tmp / WARNINGS_FILE, ["row_number", "field", "reason"], validation.warnings.lines()
        )
        (tmp / REPORT_FILE).write_text(report_html, encoding="utf-8")
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUT_FILES:
            (tmp / name).replace(out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_quarantine(path: Path, header: list[str], id_index: int, validation: Validation) -> None:
    """quarantine.csv: row number, the row id (trimmed), reasons, then the row's other raw
    cells, so that each of the export's columns appears once and the id comes first."""

    def without_id(cells: list[str]) -> list[str]:
        return cells[:id_index] + cells[id_index + 1 :]

    write_csv(
        path,
        ["row_number", header[id_index], "reasons", *without_id(header)],
        ([n, rid, reasons, *without_id(raw)] for n, rid, reasons, raw in validation.quarantined),
    )


def write_parquet(table: pa.Table, path: Path, rows_per_group: int = 262_144) -> None:
    """prepared.parquet with plain text columns, decoded one row group at a time."""
    schema = pa.schema(
        [(c, pa.int64() if c == "row_number" else pa.string()) for c in table.column_names]
    )
    with pq.ParquetWriter(path, schema) as writer:
        if table.num_rows == 0:
            writer.write_table(schema.empty_table())
        for start in range(0, table.num_rows, rows_per_group):
            part = table.slice(start, rows_per_group)
            writer.write_table(
                pa.table([pc.cast(part.column(f.name), f.type) for f in schema], schema=schema)
            )


def read_meta(prepared_dir: Path) -> dict[str, Any]:
    path = prepared_dir / META_FILE
    if not (prepared_dir / PREPARED_FILE).is_file() or not path.is_file():
        raise UserError(
            f"{prepared_dir} is not a prepared folder (no {PREPARED_FILE} or {META_FILE}); "
            "run `boldhub prepare` first"
        )
    try:
        # The footer only: a prepared folder whose table was cut short is refused here,
        # before anyone counts its rows.
        pq.ParquetFile(prepared_dir / PREPARED_FILE).metadata  # noqa: B018
    except (pa.ArrowInvalid, OSError):
        raise UserError(
            f"{prepared_dir / PREPARED_FILE} is damaged; run `boldhub prepare` again"
        ) from None
    damaged = UserError(f"{path} is damaged; run `boldhub prepare` again")
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise damaged from None
    # What encode reads from it; anything else missing is left to the step that needs it.
    if not isinstance(meta, dict) or not all(
        isinstance(meta.get(key), str) for key in ("dataset", "organisation", "period")
    ):
        raise damaged
    return meta


__all__ = [
    "BUILTIN",
    "META_FILE",
    "PREPARED_FILE",
    "QUARANTINE_FILE",
    "REPORT_FILE",
    "WARNINGS_FILE",
    "PrepareResult",
    "check_organisation",
    "default_organisation",
    "prepare",
    "read_meta",
]
