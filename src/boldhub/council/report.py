"""The validation report: what prepare found, for the data officer who ran it.

One model (:class:`ValidationReport`, plain data) feeds both the standalone
``report.html`` that ``boldhub prepare`` writes and the report page of ``boldhub council``,
so the two never disagree. The report runs and stays on the council's machine: its preview
shows the first rows' values in clear, as the officer's own spreadsheet would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from boldhub.council.validate import DateOrderInfo, FieldStats, PreviewRow, Validation

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "web" / "static"
STYLESHEET = STATIC / "council.css"


@dataclass(frozen=True)
class ValidationReport:
    file: str
    read_as: str
    dataset: str
    dataset_title: str
    organisation: str
    organisation_name: str
    mapping: str
    prepared_at: str
    input_rows: int
    readable_rows: int  # rows that lined up with the header (the base of completeness)
    accepted: int
    quarantined: int
    blank_rows: int
    reasons: list[tuple[str, int]]  # quarantine reasons, most frequent first
    warnings: list[tuple[str, int]]  # in plain words ("Date of birth missing"), most first
    fields: list[FieldStats]
    unmapped: list[str]  # labels of optional fields the export does not have
    date_order: DateOrderInfo
    duplicate_ids: int
    repeated_rows: int
    same_person_rows: int
    preview_fields: list[tuple[str, str]]
    preview: list[PreviewRow]
    notes: list[str]

    def percent(self, part: int, whole: int) -> str:
        if whole == 0:
            return "–"
        value = 100 * part / whole
        return f"{value:.0f}%" if value in (0, 100) or 1 <= value <= 99 else f"{value:.1f}%"


def reason_tally(validation: Validation) -> list[tuple[str, int]]:
    """Each distinct reason with the number of quarantined rows that have it."""
    tally: Counter[str] = Counter()
    for _n, _id, reasons, _raw in validation.quarantined:
        # dict.fromkeys, not set: reasons of equal count keep one order in every process.
        tally.update(list(dict.fromkeys(reasons.split("; "))))
    return tally.most_common()


def build_report(
    validation: Validation, meta: dict[str, Any], dataset_title: str, org_name: str, read_as: str
) -> ValidationReport:
    rows = meta["rows"]
    return ValidationReport(
        file=str(meta["input_file"]),
        read_as=read_as,
        dataset=str(meta["dataset"]),
        dataset_title=dataset_title,
        organisation=str(meta["organisation"]),
        organisation_name=org_name,
        mapping=str(meta["mapping"]["name"]),
        prepared_at=str(meta["prepared_at"]),
        input_rows=int(rows["input"]),
        readable_rows=int(rows["input"]) - int(meta.get("misaligned_rows", 0)),
        accepted=int(rows["accepted"]),
        quarantined=int(rows["quarantined"]),
        blank_rows=int(meta.get("blank_rows", 0)),
        reasons=reason_tally(validation),
        warnings=[(kind.text, n) for kind, n in validation.warnings.counts()],
        fields=[s for s in validation.stats if s.header is not None],
        unmapped=[s.label for s in validation.stats if s.header is None],
        date_order=validation.date_order,
        duplicate_ids=validation.duplicate_ids,
        repeated_rows=validation.repeated_rows,
        same_person_rows=validation.same_person_rows,
        preview_fields=validation.preview_fields,
        preview=validation.preview,
        notes=validation.notes,
    )


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(TEMPLATES), str(Path(__file__).parent / "web" / "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    return env


def render_report(report: ValidationReport) -> str:
    """The standalone report.html: one file, its stylesheet inline, no scripts."""
    # Our own packaged stylesheet, never user input; escaping would break its selectors.
    css = Markup(STYLESHEET.read_text(encoding="utf-8"))  # noqa: S704
    return environment().get_template("report.html").render(report=report, css=css)
