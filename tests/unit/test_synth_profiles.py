"""Named error profiles of the synthetic exports: clean records the truth, hard makes each
of its errors at about its rate, and an unknown profile is refused."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from boldhub.errors import UserError
from boldhub.privacy.encoding import compact_name
from boldhub.schemas import COUNCILS, DATASETS
from boldhub.synth import SynthSummary, generate
from boldhub.synth.noise import PROFILES
from boldhub.synth.population import Person, build_population

PERSONS, COUNCILS_N, SEED = 1500, 2, 3


def _rows(summary: SynthSummary) -> list[tuple[dict[str, str], Person, bool]]:
    """Every row of the exports with full names: (identifiers, the person, ISO dates)."""
    people = {
        p.person_id: p for p in build_population(PERSONS, COUNCILS[:COUNCILS_N], SEED).persons
    }
    with summary.truth.open(newline="", encoding="utf-8") as fh:
        owner = {(r["source"], r["source_row_id"]): r["person_id"] for r in csv.DictReader(fh)}
    out = []
    for source, path in summary.files.items():
        dataset = DATASETS[source.split(":")[0]]
        if dataset.initials_only:
            continue
        headers = dataset.identifier_headers
        with path.open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                person = people[owner[(source, r[dataset.row_id_header])]]
                values = {k: r[h].strip() for k, h in headers.items() if h in r}
                out.append((values, person, dataset.name in ("probation", "victims")))
    return out


def _date(text: str, iso: bool) -> date | None:
    if not text:
        return None
    if iso:
        return date.fromisoformat(text)
    d, m, y = text.split("/")
    return date(int(y), int(m), int(d))


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    return generate(
        tmp_path_factory.mktemp("hard"),
        persons=PERSONS,
        councils=COUNCILS_N,
        seed=SEED,
        profile="hard",
    )


def test_the_clean_profile_records_the_truth(tmp_path: Path) -> None:
    summary = generate(tmp_path, persons=PERSONS, councils=COUNCILS_N, seed=SEED, profile="clean")
    rows = _rows(summary)
    assert rows
    for values, person, iso in rows:
        # Case, spacing and punctuation vary by system (what standardisation removes).
        assert compact_name(values["forename"]) == compact_name(person.forename)
        assert compact_name(values["surname"]) in {
            compact_name(person.surname),
            compact_name(person.new_surname),
        }
        assert _date(values["dob"], iso) == person.dob
        assert values["postcode"]


def test_the_hard_profile_makes_each_error_at_about_its_rate(hard: SynthSummary) -> None:
    rates = PROFILES["hard"]
    seen: Counter[str] = Counter()
    rows = _rows(hard)
    for values, person, iso in rows:
        fore, sur = values["forename"].lower(), values["surname"].lower()
        if fore == person.surname.lower() or (
            person.new_surname and fore == person.new_surname.lower()
        ):
            seen["names swapped"] += 1
        if len(fore) == 1:
            seen["forename initial"] += 1
        if any(c.isdigit() for c in fore + sur) or (
            "rn" in fore + sur
            and "rn" not in (person.forename + person.surname + person.new_surname).lower()
        ):
            seen["ocr"] += 1
        if "-" in sur and "-" not in person.surname:
            seen["surname hyphenated"] += 1
        dob = _date(values["dob"], iso)
        truth = person.dob
        if dob is None:
            seen["dob missing"] += 1
        elif dob != truth and (dob.month, dob.day) in ((1, 1), (truth.month, 1)):
            seen["dob defaulted"] += 1
        elif dob != truth and (dob.month, dob.day) == (truth.month, truth.day):
            seen["dob year off"] += 1
        pc = values["postcode"]
        if not pc:
            seen["postcode missing"] += 1
        elif " " not in pc.strip() and len(pc.strip()) <= 4:
            seen["postcode partial"] += 1
    n = len(rows)
    for kind in (
        "names swapped",
        "forename initial",
        "ocr",
        "surname hyphenated",
        "dob year off",
        "postcode partial",
    ):
        assert seen[kind] > 0, kind
    # Rates checked where the recorded value alone shows the error.
    assert abs(seen["dob missing"] / n - rates["dob_missing"]) < 0.025
    assert abs(seen["postcode missing"] / n - rates["postcode_missing"]) < 0.04
    assert 0.5 * rates["dob_defaulted"] < seen["dob defaulted"] / n < 2 * rates["dob_defaulted"]


def test_the_default_profile_makes_none_of_the_hard_errors(tmp_path: Path) -> None:
    default = PROFILES["default"]
    assert all(default[k] == 0 for k in ("dob_year_off", "dob_defaulted", "names_swapped", "ocr"))
    assert set(PROFILES["hard"]) == set(default) == set(PROFILES["clean"])


def test_an_unknown_profile_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(
        UserError, match="error profile 'harsh' is not known; choose one of default, clean, hard"
    ):
        generate(tmp_path, persons=10, councils=1, seed=1, profile="harsh")
