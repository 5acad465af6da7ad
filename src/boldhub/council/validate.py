"""Standardise and validate a mapped export, column by column.

Per-row Python is too slow for a million-row export, so every column is standardised once
per *distinct* value (the scalar functions of :mod:`boldhub.council.standardise`) and the
results are spread back over the rows with Arrow's ``take``. Problems travel the same way,
as small integer codes per row. Only quarantined rows, usually few, are put together row
by row, to spell out their reasons.

Errors quarantine a row; warnings keep it and are listed, row by row, in warnings.csv:

===========================================  =========  ================================
check                                        severity   reason (names the column)
===========================================  =========  ================================
row id empty, or repeats an earlier row's    error      "CaseRef is empty"
no name and no date of birth                 error      "has no name and no date of ..."
required attribute empty or not allowed      error      "AppDate is empty but required"
date of birth after the event date           error      "date of birth is after AppDate"
row does not line up with the header         error      "has 3 cells but the header ..."
identifier present but unusable              warning    value dropped, row kept
NHS number, postcode, date of birth missing  warning
optional attribute not allowed               warning    value dropped, row kept
===========================================  =========  ================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from boldhub.council import standardise as std
from boldhub.council.export import Export
from boldhub.council.mapping import ROW_ID, CanonicalField, ResolvedMapping, canonical_fields
from boldhub.errors import DateError
from boldhub.schemas import AttributeField, Dataset
from boldhub.schemas.identifiers import IDENTIFIER_NAMES

PREVIEW_ROWS = 10
_DISTINCT_SLICE = 65_536
EXTRA_COLUMNS = ("uprn",)  # prepared.parquet columns beyond the encode contract
_FLAGS = {
    "Y": "Y", "YES": "Y", "1": "Y", "TRUE": "Y", "T": "Y",
    "N": "N", "NO": "N", "0": "N", "FALSE": "N", "F": "N",
}  # fmt: skip
_WARN_MISSING = ("nhs_number", "postcode", "dob")

Codes = npt.NDArray[np.int16]
Mask = npt.NDArray[np.bool_]


def prepared_columns(dataset: Dataset) -> list[str]:
    """The columns of prepared.parquet, in order (the encode contract, then extras)."""
    return [
        "row_number",
        "source_row_id",
        *IDENTIFIER_NAMES,
        *dataset.attribute_names,
        "age_band",
        *EXTRA_COLUMNS,
    ]


@dataclass
class FieldOutcome:
    """One canonical field after standardisation, for every row of the table."""

    field: CanonicalField
    header: str | None  # the export's column, None when unmapped
    values: Any  # pa.Array / ChunkedArray of standard values (null: none)
    codes: Codes  # 0: no problem; k: texts[k - 1]
    texts: list[str]
    filled: Mask  # the raw cell had something in it
    error_codes: frozenset[int] = frozenset()  # codes that quarantine the row


@dataclass(frozen=True)
class FieldStats:
    """Completeness and validity of one field over every readable row of the file."""

    name: str
    label: str
    header: str | None
    kind: str
    # A row without a usable value is quarantined. Forename, surname and date of birth
    # are not: their columns must be mapped, but a row needs only a name or a date.
    required: bool
    filled: int
    valid: int
    problems: list[tuple[str, int, str]]  # (problem, rows, what happened to those rows)


@dataclass(frozen=True)
class DateOrderInfo:
    order: str  # "dmy" or "mdy"
    chosen_by: str  # "profile" or "data"
    dmy_only: int
    mdy_only: int
    ambiguous: int


@dataclass(frozen=True)
class PreviewRow:
    row_number: int
    status: str  # "accepted" or "quarantined"
    reasons: str
    cells: list[tuple[str, str | None, str | None]]  # (raw, standard value, problem)


@dataclass(frozen=True)
class WarningKind:
    """One kind of warning: a field, and what was wrong with it on rows that were kept."""

    field: str  # the canonical name
    label: str  # the field in plain words
    problem: str  # "missing", or the standardiser's words ("is not a valid UK postcode")
    cleared: bool  # the value was left out (not so for a sex code kept as "U")

    @property
    def key(self) -> str:
        """meta.json's name for it: "dob missing"."""
        return f"{self.field} {self.problem}"

    @property
    def text(self) -> str:
        """The report's words for it: "Date of birth missing"."""
        return f"{self.label} {self.problem}"

    @property
    def reason(self) -> str:
        """warnings.csv's words for it, which say what became of the value."""
        return self.problem + ("; the value was left out" if self.cleared else "")


@dataclass(frozen=True)
class RowWarnings:
    """Every warning on an accepted row: its row number and which kind (no values)."""

    kinds: tuple[WarningKind, ...] = ()
    rows: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    kind: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    def counts(self) -> list[tuple[WarningKind, int]]:
        """Each kind with its number of rows, the most frequent first."""
        n = np.bincount(self.kind, minlength=len(self.kinds))
        return sorted(((k, int(n[i])) for i, k in enumerate(self.kinds)), key=lambda c: -c[1])

    def lines(self) -> Iterator[tuple[int, str, str]]:
        """(row number, field, reason) in row order, fields in the order the page shows."""
        order = np.lexsort((self.kind, self.rows))
        words = [(k.label, k.reason) for k in self.kinds]
        # Plain Python ints from one tolist(): a million warnings take a third of the time.
        for row, kind in zip(self.rows[order].tolist(), self.kind[order].tolist(), strict=True):
            yield (row, *words[kind])


@dataclass
class Validation:
    """Everything prepare writes and reports."""

    accepted: pa.Table
    quarantined: list[tuple[int, str, str, list[str]]]  # row number, row id, reasons, raw
    warnings: RowWarnings
    stats: list[FieldStats]
    date_order: DateOrderInfo
    duplicate_ids: int
    repeated_rows: int
    same_person_rows: int
    preview_fields: list[tuple[str, str]]  # (label, export header)
    preview: list[PreviewRow]
    notes: list[str] = field(default_factory=list)
    period: str = "none"  # first/last event date of the accepted rows

    @property
    def input_rows(self) -> int:
        return int(self.accepted.num_rows) + len(self.quarantined)

    @property
    def warning_counts(self) -> Counter[str]:
        """Rows per warning, by meta.json's names ("dob missing")."""
        return Counter({k.key: n for k, n in self.warnings.counts()})


def _by_distinct(
    col: Any, fn: Callable[[str], std.Result]
) -> tuple[Any, Codes, list[str], Mask, npt.NDArray[np.int64]]:
    """Apply ``fn`` once per distinct cell; spread values, problem codes and fill back."""
    uniq = pc.unique(col)
    idx = np.asarray(pc.index_in(col, value_set=uniq).to_numpy(zero_copy_only=False), np.int64)
    m = len(uniq)
    codes = np.zeros(m, dtype=np.int16)
    filled = np.zeros(m, dtype=np.bool_)
    none = np.zeros(m, dtype=np.bool_)
    texts: dict[str, int] = {}
    parts: list[pa.Array] = []
    # In slices, so that a column of half a million distinct NHS numbers never holds them
    # all as Python strings at once.
    for start in range(0, m, _DISTINCT_SLICE):
        values: list[str | None] = []
        for k, raw in enumerate(uniq.slice(start, _DISTINCT_SLICE).to_pylist(), start=start):
            text = raw or ""
            value, problem = fn(text)
            values.append(value)
            if problem:
                codes[k] = texts.setdefault(problem, len(texts) + 1)
            filled[k] = bool(text.strip())
            none[k] = value is None
        parts.append(pa.array(values, pa.string()))
    # Kept dictionary-encoded (a row holds the index of its distinct value): a million
    # rows of a column then take 4 MB, not the 20 MB or more of their text.
    dictionary = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
    indices = pa.array(idx.astype(np.int32), mask=none[idx])
    out_values = pa.DictionaryArray.from_arrays(indices, dictionary)
    return out_values, codes[idx], list(texts), filled[idx], idx


def _unmapped(f: CanonicalField, n: int) -> FieldOutcome:
    return FieldOutcome(
        f, None, pa.nulls(n, pa.string()), np.zeros(n, np.int16), [], np.zeros(n, np.bool_)
    )


def _date_order(export: Export, resolved: ResolvedMapping, dataset: Dataset) -> DateOrderInfo:
    date_fields = ["dob"] + [a.name for a in dataset.attributes if a.kind == "date"]
    evidence = std.DateOrderEvidence()
    for name in date_fields:
        if name in resolved.indices:
            counts = pc.value_counts(export.column(resolved.indices[name]))
            evidence = evidence + std.date_order_evidence(
                zip(
                    counts.field("values").to_pylist(),
                    counts.field("counts").to_pylist(),
                    strict=True,
                )
            )
    chosen = resolved.mapping.date_order
    if chosen in ("dmy", "mdy"):
        return DateOrderInfo(
            chosen, "profile", evidence.dmy_only, evidence.mdy_only, evidence.ambiguous
        )
    return DateOrderInfo(
        evidence.order(), "data", evidence.dmy_only, evidence.mdy_only, evidence.ambiguous
    )


def _attribute_fn(
    attr: AttributeField, order: std.DateOrder, today: date
) -> Callable[[str], std.Result]:
    required = attr.required

    def empty(text: str) -> std.Result:
        return None, ("is empty but required" if required else None)

    if attr.kind == "date":

        def as_date(text: str) -> std.Result:
            if not text.strip():
                return empty(text)
            try:
                parsed = std.parse_date(text, order, today)
            except DateError as exc:
                return None, std.date_problem(exc)
            return (parsed.isoformat() if parsed else None), None

        return as_date
    if attr.kind == "flag":

        def as_flag(text: str) -> std.Result:
            if not text.strip():
                return empty(text)
            value = _FLAGS.get(text.strip().upper())
            return (value, None) if value else (None, "must be Y or N")

        return as_flag
    if attr.kind == "category":
        allowed = {" ".join(v.lower().split()): v for v in attr.values}
        shown = ", ".join(v for v in attr.values if v)

        def as_category(text: str) -> std.Result:
            if not text.strip():
                return empty(text)
            value = allowed.get(" ".join(text.lower().split()))
            return (value, None) if value is not None else (None, f"is not one of: {shown}")

        return as_category

    def as_text(text: str) -> std.Result:
        stripped = text.strip()
        return (stripped, None) if stripped else empty(text)

    return as_text


def _identifier_fn(name: str, order: std.DateOrder, today: date) -> Callable[[str], std.Result]:
    if name in ("forename", "surname", "other_names"):
        return std.name
    if name == "dob":
        return lambda v: std.dob(v, today, order)
    table: dict[str, Callable[[str], std.Result]] = {
        "sex": std.sex,
        "postcode": std.postcode,
        "nhs_number": std.nhs_number,
        "ni_number": std.ni_number,
        "uprn": std.uprn,
    }
    return table.get(name, std.justice_id)


def _age_bands(dob: Any, event: Any) -> pa.Array:
    """``standardise.age_band`` for whole columns (ISO text or date32) at once."""
    b = dob if dob.type == pa.date32() else pc.cast(dob, pa.date32())
    e = event if event.type == pa.date32() else pc.cast(event, pa.date32())
    both = pc.and_(pc.is_valid(b), pc.is_valid(e)).to_numpy(zero_copy_only=False)

    def part(fn: Callable[[Any], Any], arr: Any) -> npt.NDArray[np.int64]:
        return np.asarray(pc.fill_null(fn(arr), 0).to_numpy(zero_copy_only=False), np.int64)

    by, bm, bd = part(pc.year, b), part(pc.month, b), part(pc.day, b)
    ey, em, ed = part(pc.year, e), part(pc.month, e), part(pc.day, e)
    age = ey - by - ((em * 100 + ed) < (bm * 100 + bd)).astype(np.int64)
    names = ["unknown", "under 16", *(band for _low, band in reversed(std.AGE_BANDS))]
    codes = np.ones(len(age), dtype=np.int8)
    for k, (low, _band) in enumerate(reversed(std.AGE_BANDS), start=2):
        codes[age >= low] = k
    codes[~both] = 0
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(names, pa.string()))


def _value_ids(values: Any) -> npt.NDArray[np.int64]:
    """The same number for the same standard value (nulls: -1), row by row."""
    values = _combined(values)
    if not isinstance(values, pa.DictionaryArray):
        uniq = pc.unique(values)
        ids = pc.index_in(values, value_set=uniq)
        return np.asarray(pc.fill_null(ids, -1).to_numpy(zero_copy_only=False), np.int64)
    # Different raw cells can standardise alike ("Seán", "SEAN"): one id per value.
    dictionary = values.dictionary
    canonical = np.asarray(
        pc.index_in(dictionary, value_set=pc.unique(dictionary)).to_numpy(zero_copy_only=False),
        np.int64,
    )
    indices = np.asarray(pc.fill_null(values.indices, 0).to_numpy(zero_copy_only=False), np.int64)
    out = canonical[indices] if len(canonical) else np.zeros(len(indices), np.int64)
    out[np.asarray(values.is_null().to_numpy(zero_copy_only=False), np.bool_)] = -1
    return out


def _dates(values: Any) -> Any:
    """Standard ISO date text as date32 (null where none)."""
    values = _combined(values)
    if isinstance(values, pa.DictionaryArray):
        return pc.take(pc.cast(values.dictionary, pa.date32()), values.indices)
    return pc.cast(values, pa.date32())


def _mix(h: npt.NDArray[np.uint64], idx: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """Fold one column's distinct-value indices into a 64-bit fingerprint per row.

    Used only to count repeated rows for the report, where a collision (odds around 1 in
    10^7 for a million rows) would miscount by one and harm nothing.
    """
    with np.errstate(over="ignore"):
        h *= np.uint64(1_000_003)
        h += idx.astype(np.uint64)
        h += np.uint64(1)
    return h


def _repeats(h: npt.NDArray[np.uint64], mask: Mask | None = None) -> int:
    """How many rows repeat an earlier row's fingerprint."""
    if mask is not None:
        h = h[mask]
    return int(len(h) - len(np.unique(h)))


@dataclass
class _RowChecks:
    """The checks that quarantine a row, row by row, and what their reasons need."""

    errors: Mask  # any check failed: the row is quarantined
    repeats: Mask  # the row id repeats an earlier row's
    first_of: npt.NDArray[np.int64]  # per distinct row id, the row it first appears on
    id_idx: npt.NDArray[np.int64]  # per row, the index of its distinct row id
    no_name_no_dob: Mask
    born_after: Mask  # date of birth after the event date
    dob_dates: Any
    event_dates: Any


def validate(
    export: Export,
    dataset: Dataset,
    resolved: ResolvedMapping,
    today: date,
) -> Validation:
    n = export.table.num_rows
    numbers = np.asarray(export.row_numbers.to_numpy(zero_copy_only=False), np.int64)
    info = _date_order(export, resolved, dataset)
    order: std.DateOrder = "mdy" if info.order == "mdy" else "dmy"
    header_of = {name: export.header[i] for name, i in resolved.indices.items()}
    outcomes, row_hash = _standardise(export, dataset, resolved, header_of, order, today)
    checks = _row_checks(outcomes, dataset, n)
    accepted_mask = ~checks.errors
    quarantined = _quarantined(export, dataset, resolved, header_of, outcomes, checks, numbers)
    notes = list(export.notes)
    if export.blank_rows:
        notes.append(f"{export.blank_rows} empty rows were skipped: they hold no data.")
    return Validation(
        accepted=_accepted(outcomes, dataset, checks, numbers),
        quarantined=quarantined,
        warnings=_warnings(outcomes, dataset, accepted_mask, numbers),
        stats=[_stats(o, n) for o in outcomes.values()],
        date_order=info,
        duplicate_ids=int(np.count_nonzero(checks.repeats)),
        repeated_rows=_repeats(row_hash),
        same_person_rows=_same_person(outcomes, n),
        preview_fields=[(o.field.label, o.header or "") for o in outcomes.values() if o.header],
        preview=_preview(export, outcomes, checks.errors, numbers, quarantined),
        notes=notes,
        period=_period(checks.event_dates, accepted_mask),
    )


def _standardise(
    export: Export,
    dataset: Dataset,
    resolved: ResolvedMapping,
    header_of: dict[str, str],
    order: std.DateOrder,
    today: date,
) -> tuple[dict[str, FieldOutcome], npt.NDArray[np.uint64]]:
    """Every canonical field's outcome, and a fingerprint of each row's raw mapped cells.

    The fingerprint covers every mapped cell but the row id, so that it counts rows that
    repeat another under a new id.
    """
    n = export.table.num_rows
    outcomes: dict[str, FieldOutcome] = {}
    row_hash = np.zeros(n, dtype=np.uint64)
    for f in canonical_fields(dataset):
        if f.name not in resolved.indices:
            outcomes[f.name] = _unmapped(f, n)
            continue
        col = export.column(resolved.indices[f.name])
        header = header_of[f.name]
        if f.kind == "row_id":
            outcomes[f.name] = _row_id_outcome(f, header, col)
            continue
        if f.kind == "identifier":
            values, codes, texts, filled, idx = _by_distinct(
                col, _identifier_fn(f.name, order, today)
            )
            outcome = FieldOutcome(f, header, values, codes, texts, filled)
        else:
            attr = dataset.attribute(f.name)
            values, codes, texts, filled, idx = _by_distinct(col, _attribute_fn(attr, order, today))
            outcome = FieldOutcome(
                f,
                header,
                values,
                codes,
                texts,
                filled,
                frozenset(range(1, len(texts) + 1)) if attr.required else frozenset(),
            )
        row_hash = _mix(row_hash, idx)
        outcomes[f.name] = outcome
    return outcomes, row_hash


def _row_id_outcome(f: CanonicalField, header: str, col: Any) -> FieldOutcome:
    """Row ids are only trimmed; an empty one quarantines the row."""
    trimmed = _combined(pc.utf8_trim_whitespace(col))
    filled = np.asarray(
        pc.greater(pc.binary_length(trimmed), 0).to_numpy(zero_copy_only=False), np.bool_
    )
    return FieldOutcome(
        f,
        header,
        pc.if_else(pa.array(filled), trimmed, pa.scalar(None, pa.string())),
        np.where(filled, 0, 1).astype(np.int16),
        ["is empty"],
        filled,
        frozenset({1}),
    )


def _row_checks(outcomes: dict[str, FieldOutcome], dataset: Dataset, n: int) -> _RowChecks:
    errors = np.zeros(n, dtype=np.bool_)
    for outcome in outcomes.values():
        if outcome.error_codes:
            errors |= np.isin(outcome.codes, list(outcome.error_codes))
    repeats, first_of, id_idx = _repeated_ids(outcomes[ROW_ID], n)
    errors |= repeats
    no_name_no_dob = ~(
        _valid(outcomes["forename"]) | _valid(outcomes["surname"]) | _valid(outcomes["dob"])
    )
    errors |= no_name_no_dob
    dob_dates = _dates(outcomes["dob"].values)
    event_dates = _dates(outcomes[dataset.event_date].values)
    born_after = np.asarray(
        pc.fill_null(pc.greater(dob_dates, event_dates), False).to_numpy(zero_copy_only=False),
        np.bool_,
    )
    errors |= born_after
    return _RowChecks(
        errors, repeats, first_of, id_idx, no_name_no_dob, born_after, dob_dates, event_dates
    )


def _repeated_ids(
    ids: FieldOutcome, n: int
) -> tuple[Mask, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The rows whose id repeats an earlier row's: these are quarantined.

    Also, for the reasons, which row each distinct id is first on and each row's distinct id.
    """
    uniq_ids = pc.unique(ids.values)
    id_idx = np.asarray(
        pc.index_in(ids.values, value_set=uniq_ids).to_numpy(zero_copy_only=False), np.int64
    )
    _, first_pos = np.unique(id_idx, return_index=True)
    first_of = np.empty(len(uniq_ids), dtype=np.int64)
    first_of[id_idx[first_pos]] = first_pos
    repeats = ids.filled & (first_of[id_idx] != np.arange(n)) if n else np.zeros(0, np.bool_)
    return repeats, first_of, id_idx


def _valid(outcome: FieldOutcome) -> Mask:
    """Rows with a standard value for this field."""
    return np.asarray(pc.is_valid(outcome.values).to_numpy(zero_copy_only=False), np.bool_)


def _accepted(
    outcomes: dict[str, FieldOutcome],
    dataset: Dataset,
    checks: _RowChecks,
    numbers: npt.NDArray[np.int64],
) -> pa.Table:
    """The prepared columns of the rows no check quarantined."""
    n = len(numbers)
    data: dict[str, Any] = {
        "row_number": pa.array(numbers, pa.int64()),
        "source_row_id": outcomes[ROW_ID].values,
    }
    for name in (*IDENTIFIER_NAMES, *dataset.attribute_names, *EXTRA_COLUMNS):
        data[name] = outcomes[name].values if name in outcomes else pa.nulls(n, pa.string())
    data["age_band"] = _age_bands(checks.dob_dates, checks.event_dates)
    # Columns stay dictionary-encoded here; prepare writes them out as plain text.
    full = pa.table({c: data[c] for c in prepared_columns(dataset)})
    # Filtering copies every column: only when some row is quarantined.
    return full.filter(pa.array(~checks.errors)) if checks.errors.any() else full


def _warnings(
    outcomes: dict[str, FieldOutcome],
    dataset: Dataset,
    accepted_mask: Mask,
    numbers: npt.NDArray[np.int64],
) -> RowWarnings:
    """Problems that keep the row, on the accepted rows: which rows, which field and problem."""
    kinds: list[WarningKind] = []
    rows: list[npt.NDArray[np.int64]] = []

    def add(kind: WarningKind, hit: Mask) -> None:
        rows.append(numbers[hit])
        kinds.append(kind)

    for name, outcome in outcomes.items():
        if outcome.header is None or outcome.field.kind == "row_id":
            continue
        valid = _valid(outcome)
        for code, text in enumerate(outcome.texts, start=1):
            hit = (outcome.codes == code) & accepted_mask
            if code not in outcome.error_codes and hit.any():
                add(WarningKind(name, outcome.field.label, text, not (valid & hit).any()), hit)
        if name in _WARN_MISSING and name in dataset.identifier_headers:
            missing = ~outcome.filled & accepted_mask
            if missing.any():
                add(WarningKind(name, outcome.field.label, "missing", False), missing)
    if not kinds:
        return RowWarnings()
    kind = np.repeat(np.arange(len(kinds), dtype=np.int64), [len(r) for r in rows])
    return RowWarnings(tuple(kinds), np.concatenate(rows).astype(np.int64), kind)


def _quarantined(
    export: Export,
    dataset: Dataset,
    resolved: ResolvedMapping,
    header_of: dict[str, str],
    outcomes: dict[str, FieldOutcome],
    checks: _RowChecks,
    numbers: npt.NDArray[np.int64],
) -> list[tuple[int, str, str, list[str]]]:
    """(row number, row id, reasons, raw cells) of every quarantined row, in file order.

    Reasons are spelled out only for the rows that need them.
    """
    quarantined: list[tuple[int, str, str, list[str]]] = []
    q_idx = np.flatnonzero(checks.errors)
    if len(q_idx):
        ids = outcomes[ROW_ID]
        sub = export.table.take(pa.array(q_idx))
        raw_rows = [list(r) for r in zip(*(c.to_pylist() for c in sub.columns), strict=True)]
        id_list = pc.take(ids.values, pa.array(q_idx)).to_pylist()
        event_header = header_of.get(dataset.event_date, dataset.event_date)
        for j, i in enumerate(q_idx):
            reasons = _reasons(
                int(i), outcomes, checks.repeats, checks.first_of, checks.id_idx, numbers
            )
            if checks.no_name_no_dob[i]:
                reasons.append("has no name and no date of birth, so it cannot be linked")
            if checks.born_after[i]:
                reasons.append(f"date of birth is after {event_header}")
            quarantined.append((int(numbers[i]), id_list[j] or "", "; ".join(reasons), raw_rows[j]))
    for bad in export.bad_rows:
        row_id = (
            bad.cells[resolved.indices[ROW_ID]] if resolved.indices[ROW_ID] < len(bad.cells) else ""
        )
        quarantined.append((bad.row_number, row_id.strip(), bad.reason, bad.cells))
    quarantined.sort(key=lambda q: q[0])
    return quarantined


def _same_person(outcomes: dict[str, FieldOutcome], n: int) -> int:
    """Rows whose standard names and date of birth repeat an earlier row's."""
    person = np.zeros(n, dtype=np.uint64)
    for k in ("forename", "surname", "dob"):
        person = _mix(person, _value_ids(outcomes[k].values))
    named = _valid(outcomes["forename"]) | _valid(outcomes["surname"])
    return _repeats(person, _valid(outcomes["dob"]) & named)


def _period(event_dates: Any, accepted: Mask) -> str:
    if not accepted.any():
        return "none"
    bounds = pc.min_max(pc.filter(event_dates, pa.array(accepted))).as_py()
    if bounds["min"] is None:
        return "none"
    return f"{bounds['min'].isoformat()}/{bounds['max'].isoformat()}"


def _combined(values: Any) -> Any:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _reasons(
    i: int,
    outcomes: dict[str, FieldOutcome],
    repeats: Mask,
    first_of: npt.NDArray[np.int64],
    id_idx: npt.NDArray[np.int64],
    numbers: npt.NDArray[np.int64],
) -> list[str]:
    out: list[str] = []
    for name, o in outcomes.items():
        code = int(o.codes[i])
        if code and code in o.error_codes:
            out.append(f"{o.header} {o.texts[code - 1]}")
        if name == ROW_ID and repeats[i]:
            out.append(f"{o.header} repeats the one on row {int(numbers[first_of[id_idx[i]]])}")
    return out


def _stats(o: FieldOutcome, n: int) -> FieldStats:
    # A row without a usable value is quarantined for the row id and required attributes;
    # for identifiers the column is required, the value on each row is not.
    required = o.field.required and o.field.kind != "identifier"
    if o.header is None:
        return FieldStats(o.field.name, o.field.label, None, o.field.kind, required, 0, 0, [])
    counts = np.bincount(o.codes, minlength=len(o.texts) + 1)
    valid = _valid(o)
    problems: list[tuple[str, int, str]] = []
    for k, text in enumerate(o.texts, start=1):
        if counts[k]:
            problems.append((text, int(counts[k]), _effect(o, k, valid)))
    # "Empty but required" is a completeness problem, not a validity one.
    invalid = sum(c for t, c, _e in problems if t != "is empty but required" and t != "is empty")
    filled = int(np.count_nonzero(o.filled))
    return FieldStats(
        o.field.name,
        o.field.label,
        o.header,
        o.field.kind,
        required,
        filled,
        max(filled - invalid, 0),
        sorted(problems, key=lambda p: -p[1]),
    )


def _effect(o: FieldOutcome, code: int, valid: Mask) -> str:
    """What a problem does to its rows, in the report's words."""
    if code in o.error_codes:
        return "the row is quarantined"
    if (valid & (o.codes == code)).any():
        return "the row is kept"
    return "the value is cleared; the row is kept"


def _preview(
    export: Export,
    outcomes: dict[str, FieldOutcome],
    errors: Mask,
    numbers: npt.NDArray[np.int64],
    quarantined: list[tuple[int, str, str, list[str]]],
) -> list[PreviewRow]:
    """The first rows as mapped: raw cell, standard value and problem per field."""
    reasons = {q[0]: q[2] for q in quarantined}
    k = min(PREVIEW_ROWS, export.table.num_rows)
    if k == 0:
        return []
    head = export.table.slice(0, k)
    mapped = [o for o in outcomes.values() if o.header is not None]
    raw_cols: dict[str, list[str]] = {}
    header_index = {h: i for i, h in enumerate(export.header)}
    for o in mapped:
        assert o.header is not None
        raw_cols[o.field.name] = head.column(header_index[o.header]).to_pylist()
    values = {o.field.name: o.values.slice(0, k).to_pylist() for o in mapped}
    rows: list[PreviewRow] = []
    for i in range(k):
        cells: list[tuple[str, str | None, str | None]] = []
        for o in mapped:
            code = int(o.codes[i])
            problem = o.texts[code - 1] if code else None
            cells.append((raw_cols[o.field.name][i] or "", values[o.field.name][i], problem))
        number = int(numbers[i])
        status = "quarantined" if errors[i] else "accepted"
        rows.append(PreviewRow(number, status, reasons.get(number, ""), cells))
    return rows
