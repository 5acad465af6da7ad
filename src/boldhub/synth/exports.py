"""Writing the synthetic population as the exports each body would produce, plus the truth.

Each export has exactly the columns of its :class:`~boldhub.schemas.Dataset`
(``export_headers``) and the value conventions of the body that produces it: councils and
NDTMS write dates as DD/MM/YYYY, the Ministry of Justice systems as ISO dates; councils and
victims' services write sex as Male/Female, nDelius and NDTMS as M/F. Missing values are empty
cells. Identifiers pass through the error model of :mod:`boldhub.synth.noise` record by record.

Rows are written in event-date order and numbered in that order, the way a case management
system allocates references, so a row id says nothing about who the person is. ``truth.csv``
maps every (source, row id) to the person; it is the answer key for linkage quality and must
never be fed to the pipeline.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from boldhub.errors import UserError
from boldhub.safecsv import escape_cell
from boldhub.schemas.datasets import DATASETS, Dataset
from boldhub.schemas.organisations import COUNCILS
from boldhub.synth.noise import PROFILES, Recorder
from boldhub.synth.population import build_population
from boldhub.synth.truth import Event, Person, Population

TRUTH_HEADER = ("source", "source_row_id", "person_id")


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`generate` wrote.

    ``files`` and ``records`` are keyed by source code (``homelessness:<GSS>``,
    ``probation:MOJ-PROBATION``, ``treatment:DHSC-NDTMS``, ``victims:MOJ-VICTIMS``).
    """

    files: dict[str, Path]
    truth: Path
    records: dict[str, int]
    persons: int


@dataclass(frozen=True)
class _Layout:
    """One body's export conventions."""

    dataset: str
    org_code: str  # the body's code; "" for councils, whose code comes from the council
    iso_dates: bool
    long_sex: bool


_NATIONAL: tuple[tuple[_Layout, str, int], ...] = (
    # layout, row id prefix, digits
    (_Layout("probation", "MOJ-PROBATION", iso_dates=True, long_sex=False), "EV", 7),
    (_Layout("treatment", "DHSC-NDTMS", iso_dates=False, long_sex=False), "EP", 8),
    (_Layout("victims", "MOJ-VICTIMS", iso_dates=True, long_sex=True), "VR", 7),
)
_HOMELESSNESS = _Layout("homelessness", "", iso_dates=False, long_sex=True)


def generate(
    out: Path,
    persons: int,
    councils: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    profile: str = "default",
    *,
    repeat_elsewhere: float = 0.0,
) -> SynthSummary:
    """Write one homelessness export per council, the three national exports and the truth.

    The same ``(persons, councils, seed, profile, repeat_elsewhere)`` always gives
    byte-identical files. ``profile`` names the error model's rates (``noise.PROFILES``:
    default, clean, hard). ``repeat_elsewhere`` is the share of repeat homelessness
    applications made after a move to another council: 0 by default (repeats are made
    wherever the person's own moves have taken them, so only a few people in thousands
    apply again at another council within a year), up to 1 for tests of the cross-council
    indicators; the default leaves every seed's files as they always were. ``progress`` is
    called with ``(persons done, persons)`` every thousand persons and at the end.
    """
    if profile not in PROFILES:
        raise UserError(
            f"error profile {profile!r} is not known; choose one of {', '.join(PROFILES)}"
        )
    if not 0.0 <= repeat_elsewhere <= 1.0:
        raise UserError(f"repeat_elsewhere is a share from 0 to 1, not {repeat_elsewhere}")
    out = _prepare(out, persons, councils)
    chosen = COUNCILS[:councils]
    population = build_population(
        persons, chosen, seed, progress, repeat_elsewhere=repeat_elsewhere
    )
    writer = _Writer(population, seed, profile)

    files: dict[str, Path] = {}
    records: dict[str, int] = {}
    truth: list[tuple[str, str, str]] = []
    exports: list[tuple[str, Path, _Layout, list[Event], Iterator[str]]] = []
    for c, council in enumerate(chosen):
        events = [e for e in population.events if e.dataset == "homelessness" and e.council == c]
        ids = iter([f"HC-{council.code}-{n:06d}" for n in range(1, len(events) + 1)])
        exports.append(
            (
                f"homelessness:{council.code}",
                out / f"homelessness_{council.code}.csv",
                _HOMELESSNESS,
                events,
                ids,
            )
        )
    for layout, prefix, digits in _NATIONAL:
        events = [e for e in population.events if e.dataset == layout.dataset]
        exports.append(
            (
                f"{layout.dataset}:{layout.org_code}",
                out / f"{layout.dataset}.csv",
                layout,
                events,
                writer.row_ids(prefix, digits),
            )
        )
    for source, path, layout, events, ids in exports:
        count = writer.write(path, layout, events, ids, source, truth)
        files[source] = path
        records[source] = count

    truth_path = out / "truth.csv"
    with truth_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(TRUTH_HEADER)
        w.writerows([escape_cell(c) for c in row] for row in truth)
    return SynthSummary(files=files, truth=truth_path, records=records, persons=persons)


def _prepare(out: Path, persons: int, councils: int) -> Path:
    """Check the arguments of :func:`generate` and create the output folder."""
    if persons < 1:
        raise UserError(f"the population needs at least 1 person, not {persons}")
    if not 1 <= councils <= len(COUNCILS):
        raise UserError(
            f"councils must be between 1 and {len(COUNCILS)} (the councils BOLD Hub knows), "
            f"not {councils}"
        )
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; give a folder for the synthetic exports")
    out.mkdir(parents=True, exist_ok=True)
    return out


class _Writer:
    def __init__(self, population: Population, seed: int, profile: str = "default") -> None:
        self.population = population
        self.recorder = Recorder(seed, profile)
        # Row ids get their own stream so that they cannot be traced back to anything else.
        self.id_rng = random.Random(f"boldhub-synth-row-ids-{seed}")

    def row_ids(self, prefix: str, digits: int) -> Iterator[str]:
        """Increasing references with gaps, as a national system shared with others issues."""
        rng = self.id_rng
        n = rng.randint(10 ** (digits - 1), 3 * 10 ** (digits - 1))

        def ids() -> Iterator[str]:
            nonlocal n
            while True:
                n += rng.randint(1, 9)
                yield f"{prefix}{n:0{digits}d}"

        return ids()

    def write(
        self,
        path: Path,
        layout: _Layout,
        events: list[Event],
        ids: Iterator[str],
        source: str,
        truth: list[tuple[str, str, str]],
    ) -> int:
        dataset = DATASETS[layout.dataset]
        events = sorted(events, key=lambda e: (e.when, e.order))
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(dataset.export_headers)
            for event in events:
                row_id = next(ids)
                person = self.population.persons[event.person]
                # Through the same guard as every CSV the project writes (CSV injection).
                w.writerow(
                    [escape_cell(c) for c in self.row(dataset, layout, row_id, person, event)]
                )
                truth.append((source, row_id, person.person_id))
        return len(events)

    def row(
        self, dataset: Dataset, layout: _Layout, row_id: str, person: Person, event: Event
    ) -> list[str]:
        rec = self.recorder
        fields = dataset.identifier_headers

        def fmt(d: date | None) -> str:
            if d is None:
                return ""
            if layout.iso_dates:
                return d.isoformat()
            return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"

        values: dict[str, str] = {}
        forename = rec.forename(person)
        surname, previous = rec.surnames(person, event.when)
        if rec.swapped():
            forename, surname = surname, forename
        if dataset.initials_only:
            values["forename"] = _initial(forename, person.forename)
            values["surname"] = _initial(surname, person.surname_at(event.when))
        else:
            values["forename"] = "" if rec.chance("forename_missing") else rec.styled(forename)
            values["surname"] = rec.styled(surname)
        if "other_names" in fields:
            values["other_names"] = rec.other_names(person, previous)
        values["dob"] = fmt(rec.dob(person))
        sex = rec.sex(person)
        if sex is None:
            values["sex"] = ""
        elif layout.long_sex:
            values["sex"] = "Male" if sex == "M" else "Female"
        else:
            values["sex"] = sex
        values["postcode"] = rec.postcode(person, event.when)
        if "nhs_number" in fields:
            values["nhs_number"] = rec.nhs_number(person)
        if "ni_number" in fields:
            values["ni_number"] = rec.ni_number(person)
        if "pnc_id" in fields:
            values["pnc_id"] = rec.pnc_id(person)
        if "crn" in fields:
            values["crn"] = event.crn

        row = [row_id] + [values.get(name, "") for name in fields]
        for attribute in dataset.attributes:
            if attribute.name == "ethnicity":
                row.append(rec.ethnicity(person))
                continue
            value = event.attrs.get(attribute.name)
            row.append(fmt(value) if value is None or isinstance(value, date) else value)
        return row


def _initial(recorded: str, fallback: str) -> str:
    """The first letter, upper case; NDTMS always records one, so fall back to the truth."""
    for text in (recorded, fallback):
        for ch in text:
            if ch.isalpha():
                return ch.upper()
    return "X"
