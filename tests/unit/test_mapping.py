"""Column mapping: suggestions from header names, profiles, and mappings that do not fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boldhub.council import mapping as m
from boldhub.errors import SchemaError, UserError
from boldhub.schemas import DATASETS, get_dataset

HOMELESSNESS = get_dataset("homelessness")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Case Ref", "source_row_id"),
        ("CASE_ID", "source_row_id"),
        ("First name", "forename"),
        ("GIVEN_NAME", "forename"),
        ("Family Name", "surname"),
        ("Middle names", "other_names"),
        ("Maiden name", "other_names"),
        ("D.O.B.", "dob"),
        ("Client Date of Birth", "dob"),
        ("Gender", "sex"),
        ("Post code", "postcode"),
        ("NHS No.", "nhs_number"),
        ("National Insurance Number", "ni_number"),
        ("UPRN", "uprn"),
        ("Date of application", "application_date"),
        ("Duty owed", "duty_type"),
        ("Drug dependency", "sn_drug"),
        ("Ethnic group", "ethnicity"),
    ],
)
def test_a_header_is_suggested_for_its_field(header: str, field: str) -> None:
    suggested = {s.field: s.header for s in m.suggest(HOMELESSNESS, ["Notes", header])}
    assert suggested.get(field) == header


def test_suggestions_are_one_to_one_and_leave_unknown_columns_alone() -> None:
    header = ["Ref", "Forename", "Forename (2)", "Colour of car", "Shoe size"]
    suggestions = m.suggest(HOMELESSNESS, header)
    fields = [s.field for s in suggestions]
    headers = [s.header for s in suggestions]
    assert len(set(fields)) == len(fields) and len(set(headers)) == len(headers)
    assert "Colour of car" not in headers and "Shoe size" not in headers


@pytest.mark.parametrize("name", list(DATASETS))
def test_each_datasets_own_layout_maps_itself(name: str) -> None:
    dataset = get_dataset(name)
    suggested = m.suggested_mapping(dataset, list(dataset.export_headers))
    assert suggested.columns == m.builtin_mapping(dataset).columns


def test_unmapped_required_and_doubly_used_columns_are_problems() -> None:
    header = ["Case Ref", "Name", "Born"]
    mapping = m.Mapping(
        "homelessness", {"source_row_id": "Case Ref", "forename": "Name", "surname": "Name"}
    )
    problems = dict(m.problems(HOMELESSNESS, mapping, header))
    assert "already used for Forename" in problems["surname"]
    assert "Date of birth is required" in problems["dob"]
    assert "Date of application is required" in problems["application_date"]
    with pytest.raises(SchemaError, match="does not fit this export"):
        m.resolve(HOMELESSNESS, mapping, header, Path("x.csv"))


def test_builtin_profile_lets_optional_columns_be_absent() -> None:
    header = [h for h in HOMELESSNESS.export_headers if h not in ("NINumber", "OtherNames")]
    resolved = m.resolve(HOMELESSNESS, m.builtin_mapping(HOMELESSNESS), header, Path("x.csv"))
    assert "ni_number" in resolved.unmapped and "other_names" in resolved.unmapped
    with pytest.raises(SchemaError, match=r"required columns .* are missing"):
        m.resolve(HOMELESSNESS, m.builtin_mapping(HOMELESSNESS), ["CaseRef"], Path("x.csv"))


def test_profile_round_trip_and_listing(tmp_path: Path) -> None:
    mapping = m.Mapping(
        "homelessness", {"source_row_id": "Ref"}, "Jigsaw v4", {"date_order": "mdy"}
    )
    path = m.save_profile(tmp_path, mapping)
    assert path.name == "Jigsaw v4.json"
    data = json.loads(path.read_text())
    assert data["format"] == m.PROFILE_FORMAT and data["dataset"] == "homelessness"
    loaded = m.load_profile("Jigsaw v4", tmp_path)
    assert loaded.columns == {"source_row_id": "Ref"} and loaded.date_order == "mdy"
    assert [p.name for p in m.list_profiles(tmp_path, "homelessness")] == ["Jigsaw v4"]
    assert m.list_profiles(tmp_path, "probation") == []


@pytest.mark.parametrize("name", ["../escape", "", "a/b", "x" * 65, m.BUILTIN])
def test_profile_names_cannot_escape_the_folder(name: str, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot name a mapping profile"):
        m.save_profile(tmp_path, m.Mapping("homelessness", {}, name))


def test_missing_and_damaged_profiles_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found in"):
        m.load_profile("nope", tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        m.load_profile(bad, tmp_path)
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(UserError, match="not a BOLD Hub mapping profile"):
        m.load_profile(bad, tmp_path)
