"""Read an H-CLIC-style XML export: case data and personal data in two files.

H-CLIC keeps identifiers out of the case return: a council's system writes the case data
in one XML file and the personal data (names, date of birth, NHS and NI numbers) in
another, joined by the case id. Both files have the same plain shape, which is all this
reader assumes::

    <HCLICCases>                              <HCLICPersonalData>
      <Case>                                    <Person>
        <CaseRef>HC-1</CaseRef>                   <CaseRef>HC-1</CaseRef>
        <AppDate>2025-01-03</AppDate>             <Forename>Aoife</Forename>
        <SupportNeeds>                            ...
          <SN_DrugDependency>Y</...>            </Person>
        </SupportNeeds>                       </HCLICPersonalData>
      </Case>
    </HCLICCases>

Every child of the root is a record; its attributes and every leaf element inside it,
however deeply nested, become columns named by the leaf's local name (namespaces are
ignored; a name used twice in one record is told apart by its path, ``Address.Postcode``).
The join column is the one column both files have (or, when several, the one named like a
case reference; ``--join-key`` settles it). Row numbers are a record's position in the case
file; records found only in the personal-data file are numbered after the last case.

XML is parsed with defusedxml, which refuses DTDs, entity expansion ("billion laughs") and
external entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import pyarrow as pa
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from boldhub.council.export import (
    MAX_COLUMNS,
    BadRow,
    Export,
    ReadOptions,
    column_names,
    drop_blank_rows,
    require_rows,
)
from boldhub.errors import InputFileError, UserError

_CASE_KEYS = frozenset(
    {"caseref", "caseid", "casereference", "casenumber", "caseno", "hclicid", "caseidentifier"}
)


@dataclass
class _File:
    path: Path
    columns: list[str]
    records: list[dict[str, str]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_records(path: Path) -> _File:
    """Every record (child of the root) as a flat dict of leaf texts."""
    columns: dict[str, None] = {}
    records: list[dict[str, str]] = []
    stack: list[str] = []
    current: dict[str, str] = {}
    root = None
    try:
        for event, elem in iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                stack.append(_local(elem.tag))
                if len(stack) == 1:
                    root = elem
                elif len(stack) == 2:
                    current = {_local(k): v.strip() for k, v in elem.attrib.items()}
                continue
            if len(stack) == 2:
                records.append(current)
                for key in current:
                    columns.setdefault(key, None)
                if len(columns) > MAX_COLUMNS:
                    raise InputFileError(
                        f"{path}: its records have more than {MAX_COLUMNS} different fields; "
                        "check that it is an H-CLIC export"
                    )
                assert root is not None
                root.clear()  # keep memory flat: each record is done with
            elif len(stack) > 2 and len(elem) == 0:
                key = stack[-1]
                if key in current:
                    key = ".".join(stack[2:])
                current[key] = (elem.text or "").strip()
            stack.pop()
    except DefusedXmlException:
        raise InputFileError(
            f"{path}: declares a DTD or entities, which BOLD Hub refuses (they can hide an XML "
            "bomb or fetch outside files); export it again without a DTD"
        ) from None
    except ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        raise InputFileError(
            f"{path}: is not well-formed XML (the problem is at line {line}); export it again"
        ) from None
    if root is None or not records:
        raise InputFileError(f"{path}: holds no records; export the data again")
    return _File(path, list(columns), records)


def _join_key(cases: _File, personal: _File, wanted: str | None) -> str:
    common = [c for c in cases.columns if c in set(personal.columns)]
    if wanted is not None:
        if wanted not in common:
            raise UserError(
                f"{cases.path}: --join-key {wanted} is not a field of both files; "
                f"fields they share: {', '.join(common) or 'none'}"
            )
        return wanted
    if len(common) == 1:
        return common[0]
    named = [c for c in common if re.sub(r"[^a-z0-9]", "", c.lower()) in _CASE_KEYS]
    if len(named) == 1:
        return named[0]
    if not common:
        raise InputFileError(
            f"{personal.path}: shares no field with {cases.path.name}, so its people cannot be "
            "joined to cases; give the personal-data file of the same return"
        )
    raise UserError(
        f"{cases.path}: the two files share several fields ({', '.join(common[:5])}); "
        "name the case id with --join-key"
    )


def read_hclic(path: Path, personal_path: Path | None, options: ReadOptions) -> Export:
    cases = read_records(path)
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad_rows: list[BadRow] = []
    notes: list[str] = []
    if personal_path is None:
        header = cases.columns
        for i, rec in enumerate(cases.records):
            rows.append([rec.get(c, "") for c in header])
            numbers.append(i + 1)
        files: tuple[Path, ...] = (path,)
    else:
        personal = read_records(personal_path)
        key = _join_key(cases, personal, options.join_key)
        case_cols = [c for c in cases.columns if c != key]
        taken = {key, *case_cols}
        person_cols = [c for c in personal.columns if c != key]
        person_names = [c if c not in taken else f"{c} (personal)" for c in person_cols]
        header = [key, *case_cols, *person_names]
        by_key: dict[str, list[int]] = {}
        for j, rec in enumerate(personal.records):
            by_key.setdefault(rec.get(key, ""), []).append(j)
        # The k-th case with an id takes the k-th person with that id, so a repeated case
        # id meets its own person (and is then quarantined as a repeat, not lost).
        next_person: dict[str, int] = {}
        used: set[int] = set()
        missing_people = 0
        for i, rec in enumerate(cases.records):
            k = rec.get(key, "")
            people = by_key.get(k, []) if k else []
            turn = next_person.get(k, 0)
            person: dict[str, str] = {}
            if turn < len(people):
                person = personal.records[people[turn]]
                used.add(people[turn])
                next_person[k] = turn + 1
            else:
                missing_people += 1
            rows.append(
                [k, *(rec.get(c, "") for c in case_cols), *(person.get(c, "") for c in person_cols)]
            )
            numbers.append(i + 1)
        n_cases = len(cases.records)
        for j, rec in enumerate(personal.records):
            if j in used:
                continue
            cells = [
                rec.get(key, ""),
                *([""] * len(case_cols)),
                *(rec.get(c, "") for c in person_cols),
            ]
            k = rec.get(key, "")
            if not k:
                reason = f"is a person in {personal_path.name} without a {key}"
            elif any(j2 in used for j2 in by_key.get(k, [])):
                reason = (
                    f"is a second person for the same {key} in {personal_path.name}; "
                    "only the applicant can be linked, so remove the others"
                )
            else:
                reason = (
                    f"is a person in {personal_path.name} whose {key} has no case in {path.name}"
                )
            bad_rows.append(BadRow(n_cases + j + 1, cells, reason))
        if missing_people:
            notes.append(
                f"{missing_people} cases have no person in {personal_path.name}; "
                "without a name or date of birth they cannot be linked."
            )
        files = (path, personal_path)
    names = column_names(len(header))
    table = pa.table(
        {names[i]: pa.array([r[i] for r in rows], pa.string()) for i in range(len(header))}
    )
    table, nums, blank = drop_blank_rows(table, np.array(numbers, dtype=np.int64))
    export = Export(
        path=path,
        format="xml",
        header=header,
        table=table,
        row_numbers=pa.array(nums, pa.int64()),
        bad_rows=bad_rows,
        blank_rows=blank,
        files=files,
        notes=tuple(notes),
    )
    require_rows(export)
    return export
