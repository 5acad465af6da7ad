"""The synthetic population: layout of the exports, the truth file, determinism, error model."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from stdnum.gb import nhs

from boldhub.errors import UserError
from boldhub.schemas import COUNCILS, DATASETS
from boldhub.synth import SynthSummary, generate
from boldhub.synth.noise import Recorder
from boldhub.synth.population import END, START, Person, build_population

ROW_ID = {
    "homelessness": re.compile(r"^HC-E\d{8}-\d{6}$"),
    "probation": re.compile(r"^EV\d{7}$"),
    "treatment": re.compile(r"^EP\d{8}$"),
    "victims": re.compile(r"^VR\d{7}$"),
}
POSTCODE = re.compile(r"^[A-Z]{1,2}\d{1,2} \d[A-Z]{2}$")


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def parse_date(text: str, iso: bool) -> date:
    if iso:
        return date.fromisoformat(text)
    day, month, year = text.split("/")
    return date(int(year), int(month), int(day))


def one_edit(a: str, b: str) -> bool:
    """True if b is a with one substitution, deletion, insertion or transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


@pytest.fixture(scope="module")
def moderate(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    return generate(tmp_path_factory.mktemp("synth"), persons=2000, councils=3, seed=7)


@pytest.fixture(scope="module")
def persons() -> dict[str, Person]:
    population = build_population(2000, COUNCILS[:3], 7)
    return {p.person_id: p for p in population.persons}


def test_files_and_sources(moderate: SynthSummary) -> None:
    codes = [c.code for c in COUNCILS[:3]]
    assert list(moderate.files) == [f"homelessness:{c}" for c in codes] + [
        "probation:MOJ-PROBATION",
        "treatment:DHSC-NDTMS",
        "victims:MOJ-VICTIMS",
    ]
    names = sorted(p.name for p in moderate.files.values())
    assert names == sorted(
        [f"homelessness_{c}.csv" for c in codes] + ["probation.csv", "treatment.csv", "victims.csv"]
    )
    assert moderate.truth.name == "truth.csv"
    assert moderate.persons == 2000
    assert all(count > 0 for count in moderate.records.values())


def test_headers_match_schema(moderate: SynthSummary) -> None:
    for source, path in moderate.files.items():
        header, _ = read(path)
        assert tuple(header) == DATASETS[source.split(":")[0]].export_headers, source


def test_truth_matches_exports_one_to_one(moderate: SynthSummary) -> None:
    header, truth = read(moderate.truth)
    assert header == ["source", "source_row_id", "person_id"]
    by_source: dict[str, list[str]] = {}
    for row in truth:
        by_source.setdefault(row["source"], []).append(row["source_row_id"])
    assert set(by_source) == set(moderate.files)
    for source, path in moderate.files.items():
        dataset = DATASETS[source.split(":")[0]]
        _, rows = read(path)
        ids = [r[dataset.row_id_header] for r in rows]
        assert ids == by_source[source], source
        assert len(set(ids)) == len(ids), source
        assert moderate.records[source] == len(rows)
        assert all(ROW_ID[dataset.name].match(i) for i in ids), source
        # The row id is a case reference, not a disguised person id.
        assert not any("P0" in i for i in ids)
    person_ids = {r["person_id"] for r in truth}
    assert all(re.fullmatch(r"P\d{6}", p) for p in person_ids)
    for path in moderate.files.values():
        _, rows = read(path)
        assert not any(v.strip() in person_ids for r in rows for v in r.values())


def test_values_follow_each_body_conventions(moderate: SynthSummary) -> None:
    iso = {"homelessness": False, "probation": True, "treatment": False, "victims": True}
    sexes = {
        "homelessness": {"Male", "Female", ""},
        "probation": {"M", "F", ""},
        "treatment": {"M", "F", ""},
        "victims": {"Male", "Female", ""},
    }
    for source, path in moderate.files.items():
        dataset = DATASETS[source.split(":")[0]]
        _, rows = read(path)
        sex_header = dataset.identifier_headers["sex"]
        dob_header = dataset.identifier_headers["dob"]
        assert {r[sex_header] for r in rows} <= sexes[dataset.name]
        for r in rows:
            if r[dob_header]:
                parse_date(r[dob_header], iso[dataset.name])
            for a in dataset.attributes:
                value = r[a.header]
                if a.kind in ("category", "flag"):
                    assert value in a.values, (source, a.name, value)
                elif a.kind == "date" and value:
                    assert START.year - 1 <= parse_date(value, iso[dataset.name]).year
                    assert parse_date(value, iso[dataset.name]) <= END
                if a.required:
                    assert value, (source, a.name)
            event = r[dataset.attribute(dataset.event_date).header]
            assert START <= parse_date(event, iso[dataset.name]) <= END


def test_ethnicity_has_a_few_not_known(moderate: SynthSummary) -> None:
    counts: Counter[str] = Counter()
    for path in moderate.files.values():
        counts.update(r["Ethnicity"] for r in read(path)[1])
    total = sum(counts.values())
    assert 0.01 < counts["Not known"] / total < 0.06
    assert 0.6 < counts["White"] / total < 0.85


def test_nhs_numbers_valid_and_identifiers_shaped(moderate: SynthSummary) -> None:
    for source, path in moderate.files.items():
        _, rows = read(path)
        if source.startswith("homelessness"):
            numbers = [r["NHSNumber"] for r in rows if r["NHSNumber"]]
            assert 0.3 < len(numbers) / len(rows) < 0.7
            assert all(nhs.is_valid(n) for n in numbers)
            for n in (r["NINumber"].replace(" ", "") for r in rows if r["NINumber"]):
                assert re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", n)
                assert n[0] not in "DFIQUV" and n[1] not in "DFIQUVO"
                assert n[:2] not in ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")
        if source.startswith("probation"):
            assert all(re.fullmatch(r"[A-Z]\d{6}", r["CRN"]) for r in rows)
            pncs = [r["PNC"] for r in rows if r["PNC"]]
            assert pncs and all(re.fullmatch(r"(19|20)\d\d/\d{7}[A-Z]", p) for p in pncs)
        postcodes = [r["Postcode"].upper() for r in rows if r["Postcode"]]
        assert 0.9 < len(postcodes) / len(rows) < 0.99
        normal = [p if " " in p else f"{p[:-3]} {p[-3:]}" for p in postcodes]
        assert all(POSTCODE.match(p) for p in normal), source


def test_treatment_exports_initials_only(moderate: SynthSummary) -> None:
    _, rows = read(moderate.files["treatment:DHSC-NDTMS"])
    assert rows
    for r in rows:
        assert re.fullmatch(r"[A-Z]", r["FirstInitial"])
        assert re.fullmatch(r"[A-Z]", r["SurnameInitial"])


def test_records_use_the_address_in_force(
    moderate: SynthSummary, persons: dict[str, Person]
) -> None:
    _, truth = read(moderate.truth)
    owner = {(r["source"], r["source_row_id"]): r["person_id"] for r in truth}
    in_force = stale = 0
    for source, path in moderate.files.items():
        dataset = DATASETS[source.split(":")[0]]
        iso = dataset.name in ("probation", "victims")
        event = dataset.attribute(dataset.event_date).header
        for r in read(path)[1]:
            person = persons[owner[(source, r[dataset.row_id_header])]]
            when = parse_date(r[event], iso)
            spell = person.address_at(when)
            if source.startswith("homelessness"):
                assert COUNCILS[spell.council].code == source.split(":")[1]
            recorded = r["Postcode"].upper().replace(" ", "")
            if recorded:
                if recorded == spell.postcode.replace(" ", ""):
                    in_force += 1
                else:
                    stale += 1
    assert stale / (in_force + stale) < 0.05


def test_every_error_type_occurs(moderate: SynthSummary, persons: dict[str, Person]) -> None:
    _, truth = read(moderate.truth)
    owner = {(r["source"], r["source_row_id"]): r["person_id"] for r in truth}
    nicknames = Recorder(0)
    seen: Counter[str] = Counter()
    full = 0
    for source, path in moderate.files.items():
        dataset = DATASETS[source.split(":")[0]]
        if dataset.initials_only:
            continue
        iso = dataset.name in ("probation", "victims")
        fore_h = dataset.identifier_headers["forename"]
        sur_h = dataset.identifier_headers["surname"]
        dob_h = dataset.identifier_headers["dob"]
        for r in read(path)[1]:
            full += 1
            person = persons[owner[(source, r[dataset.row_id_header])]]
            fore = r[fore_h].strip()
            if fore.lower() in (n.lower() for n in nicknames.nicknames(person.forename)):
                seen["nickname"] += 1
            elif one_edit(person.forename.lower(), fore.lower()):
                seen["forename_typo"] += 1
            sur = r[sur_h].strip().lower()
            if any(one_edit(s.lower(), sur) for s in (person.surname, person.new_surname) if s):
                seen["surname_typo"] += 1
            if person.new_surname and sur == person.new_surname.lower():
                seen["married_name"] += 1
            if sur != sur.strip() or r[sur_h] != r[sur_h].strip() or r[sur_h].isupper():
                seen["case_or_space"] += 1
            if not r[dob_h]:
                seen["dob_missing"] += 1
                continue
            dob = parse_date(r[dob_h], iso)
            d = person.dob
            if dob != d:
                if d.day <= 12 and dob == date(d.year, d.day, d.month):
                    seen["dob_swap"] += 1
                else:
                    seen["dob_other"] += 1
    for kind in (
        "nickname",
        "forename_typo",
        "surname_typo",
        "married_name",
        "case_or_space",
        "dob_missing",
        "dob_swap",
        "dob_other",
    ):
        assert seen[kind] > 0, kind
    assert 0.02 < seen["nickname"] / full < 0.12
    assert 0.03 < seen["forename_typo"] / full < 0.1
    assert 0.03 < seen["surname_typo"] / full < 0.1


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", persons=300, councils=2, seed=11)
    second = generate(tmp_path / "b", persons=300, councils=2, seed=11)
    other = generate(tmp_path / "c", persons=300, councils=2, seed=12)
    for source, path in first.files.items():
        assert path.read_bytes() == second.files[source].read_bytes(), source
    assert first.truth.read_bytes() == second.truth.read_bytes()
    assert first.records == second.records
    assert any(
        path.read_bytes() != other.files[source].read_bytes()
        for source, path in first.files.items()
    )


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(tmp_path, persons=2500, councils=1, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]


@pytest.mark.parametrize(
    ("persons", "councils"),
    [(0, 3), (-5, 3), (100, 0), (100, len(COUNCILS) + 1)],
)
def test_bad_arguments_raise_user_error(tmp_path: Path, persons: int, councils: int) -> None:
    with pytest.raises(UserError) as info:
        generate(tmp_path / "out", persons=persons, councils=councils, seed=1)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_out_must_not_be_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file.csv"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(UserError):
        generate(target, persons=10, councils=1, seed=1)


def test_demo_size_total_rows(tmp_path: Path) -> None:
    summary = generate(tmp_path, persons=14000, councils=3, seed=42)
    total = sum(summary.records.values())
    assert 30_000 <= total <= 36_000
    _, truth = read(summary.truth)
    assert len(truth) == total
    share = Counter(r["source"].split(":")[0] for r in truth)
    people: dict[str, set[str]] = {}
    for r in truth:
        people.setdefault(r["source"].split(":")[0], set()).add(r["person_id"])
    assert 0.6 < len(people["homelessness"]) / 14000 < 0.8
    assert 0.35 < len(people["probation"]) / 14000 < 0.55
    assert 0.3 < len(people["treatment"]) / 14000 < 0.5
    assert 0.18 < len(people["victims"]) / 14000 < 0.32
    assert share["homelessness"] > share["victims"]


def _applied_again_elsewhere(summary: SynthSummary) -> int:
    """People with applications at two councils at most 365 days apart."""
    _, truth = read(summary.truth)
    owner = {(r["source"], r["source_row_id"]): r["person_id"] for r in truth}
    apps: dict[str, list[tuple[date, str]]] = {}
    for source, path in summary.files.items():
        if source.startswith("homelessness:"):
            for r in read(path)[1]:
                apps.setdefault(owner[(source, r["CaseRef"])], []).append(
                    (parse_date(r["AppDate"], False), source)
                )
    return sum(
        any(b[1] != a[1] and 0 < (b[0] - a[0]).days <= 365 for a in got for b in got)
        for got in apps.values()
    )


def test_repeat_elsewhere_moves_repeat_applicants_to_other_councils(tmp_path: Path) -> None:
    """By default a repeat application is made wherever the person's own moves took them
    (rarely another council within a year); at 1 every repeat follows a move to another
    council, which only linkage across councils sees."""
    usual = generate(tmp_path / "usual", persons=1500, councils=3, seed=3)
    moving = generate(tmp_path / "moving", persons=1500, councils=3, seed=3, repeat_elsewhere=1.0)
    assert _applied_again_elsewhere(usual) <= 5
    assert _applied_again_elsewhere(moving) >= 40
    with pytest.raises(UserError, match="share from 0 to 1"):
        generate(tmp_path / "bad", persons=10, councils=1, seed=1, repeat_elsewhere=1.5)
