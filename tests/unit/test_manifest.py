"""The typed manifest and agreement models: one parse, the same bytes, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from boldhub.agreements import enforce
from boldhub.agreements.enforce import terms_of
from boldhub.errors import ManifestUnreadable, PackageError, SchemaError
from boldhub.privacy.agreement import (
    LinkageTerms,
    NotAdmitted,
    admit_linkage_key,
    linkage_terms,
)
from boldhub.privacy.package import MANIFEST_FILE, Manifest, read_manifest

DOC: dict[str, Any] = {
    "agreement_id": "bold-demo",
    "created_at": "2026-01-01T00:00:00+00:00",
    "created_by": "boldhub 0.1.0",
    "dataset": "probation",
    "encoding": {"scheme": "boldhub-fbf-v6", "qgram": 2},
    "files": {
        "attributes.parquet": {"rows": 3, "sha256": "b" * 64},
        "encodings.parquet": {"rows": 3, "sha256": "a" * 64},
    },
    "format": "boldhub-package",
    "format_version": 3,
    "key_fingerprint": "c" * 32,
    "organisation": "MOJ-PROBATION",
    "period": "2025-Q1",
    "record_count": 3,
    "schema_version": "1.0",
    "signing_key_id": "d" * 16,
    "source": "probation:MOJ-PROBATION",
}


def _package(tmp_path: Path, doc: Any) -> Path:
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return tmp_path


def test_a_manifest_reads_and_writes_back_byte_for_byte(tmp_path: Path) -> None:
    raw = (json.dumps(DOC, indent=2, sort_keys=True) + "\n").encode()
    (tmp_path / MANIFEST_FILE).write_bytes(raw)
    manifest = read_manifest(tmp_path)
    assert manifest.record_count == 3 and manifest.files["encodings.parquet"].rows == 3
    assert manifest.to_json_bytes() == raw
    assert manifest.to_stored() == DOC
    assert Manifest.from_stored(manifest.to_stored()) == manifest


def test_the_stored_copy_keeps_unknown_fields_and_cannot_be_changed_through_the_model() -> None:
    doc = {**DOC, "note": "from a later version"}
    manifest = Manifest.from_stored(doc)
    stored = manifest.to_stored()
    assert stored == doc
    stored["record_count"] = 99
    assert manifest.to_stored()["record_count"] == 3


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"record_count": "3"}, "record_count in manifest.json is malformed"),
        ({"period": None}, "period in manifest.json is malformed"),
        ({"dataset": ...}, "dataset in manifest.json is missing"),
        ({"files": []}, "files must be exactly encodings.parquet, attributes.parquet"),
        ({"files": {"encodings.parquet": {"rows": 3}}}, "files.encodings.parquet.sha256"),
        ({"key_fingerprint": ...}, "key_fingerprint is missing or malformed"),
        ({"agreement_id": 7}, "the manifest names no agreement"),
    ],
)
def test_a_malformed_field_is_refused_naming_it(
    tmp_path: Path, change: dict[str, Any], needle: str
) -> None:
    doc = {k: v for k, v in {**DOC, **change}.items() if v is not ...}
    with pytest.raises(PackageError, match=needle):
        read_manifest(_package(tmp_path, doc))


def test_a_folder_without_a_readable_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestUnreadable, match=r"has no manifest\.json"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(ManifestUnreadable, match="not valid JSON"):
        read_manifest(tmp_path)


def test_linkage_terms_parse_to_sorted_pairs_and_render_as_a_run_records_them() -> None:
    terms = linkage_terms(
        {
            "linkage": {
                "allowed_source_pairs": [["treatment", "homelessness"], ["a:1", "b:2"]],
                "one_to_one_sources": ["victims:X", "probation:Y"],
            }
        }
    )
    assert terms.allowed_source_pairs == frozenset({("homelessness", "treatment"), ("a:1", "b:2")})
    assert terms.one_to_one_sources == ("probation:Y", "victims:X")
    assert terms.summary() == {
        "allowed_source_pairs": [["a:1", "b:2"], ["homelessness", "treatment"]],
        "one_to_one_sources": ["probation:Y", "victims:X"],
    }
    assert linkage_terms({}) == LinkageTerms() == linkage_terms({"linkage": {}})
    assert LinkageTerms().summary() == {"allowed_source_pairs": None, "one_to_one_sources": []}


@pytest.mark.parametrize(
    ("linkage", "needle"),
    [
        ("all", "linkage must be an object"),
        ({"allowed_source_pairs": "homelessness"}, "allowed_source_pairs must be a list"),
        (
            {"allowed_source_pairs": [["homelessness"]]},
            r"allowed_source_pairs\[0\] must be two .*, not 1;",
        ),
        (
            {"allowed_source_pairs": [["a", "b"], ["a", "b", "c"]]},
            r"pairs\[1\] must be two .*, not 3;",
        ),
        ({"allowed_source_pairs": [["a", 2]]}, r"allowed_source_pairs\[0\] must be two dataset"),
        ({"one_to_one_sources": "probation:MOJ-PROBATION"}, "one_to_one_sources must be"),
        ({"one_to_one_sources": [None]}, "one_to_one_sources must be"),
    ],
)
def test_a_malformed_linkage_term_is_refused_not_dropped(linkage: Any, needle: str) -> None:
    with pytest.raises(SchemaError, match=needle):
        linkage_terms({"linkage": linkage})


# An older JSON agreement's terms, as the one enforcement module reads them.
LEGACY = terms_of(
    {
        "id": "a1",
        "parties": [
            {
                "organisation": "E08000025",
                "signing_key": "ed25519:KEY",
                "datasets": ["homelessness"],
            },
            {"organisation": "MOJ-PROBATION", "signing_key": "k"},
        ],
    }
)


@pytest.mark.parametrize(
    ("organisation", "dataset", "signing_key", "needle"),
    [
        ("E06000023", "homelessness", None, "clause parties: E06000023 is not a party"),
        ("E08000025", "probation", None, r"supplies: E08000025 may supply homelessness, not"),
        ("E08000025", "homelessness", "ed25519:OTHER", "not the one E08000025 registered"),
    ],
)
def test_the_agreement_rule_refuses(
    organisation: str, dataset: str, signing_key: str | None, needle: str
) -> None:
    with pytest.raises(NotAdmitted, match=needle) as caught:
        party = enforce.admit_party(LEGACY, organisation, dataset)
        enforce.admit_signing_key(LEGACY, party, signing_key or party.signing_key)
    assert caught.value.check == "agreement"
    assert "agreement a1 version 1" in str(caught.value)


def test_the_agreement_rule_admits_a_party_and_checks_the_linkage_key() -> None:
    party = enforce.admit_party(LEGACY, "E08000025", "homelessness")
    enforce.admit_signing_key(LEGACY, party, "ed25519:KEY")
    # A party of an older agreement that names no dataset may supply any.
    assert enforce.admit_party(LEGACY, "MOJ-PROBATION", "victims").supplies is None
    admit_linkage_key("a1", "f" * 32, "f" * 32)
    with pytest.raises(NotAdmitted, match=r"different linkage key.*not agreement a1.s") as caught:
        admit_linkage_key("a1", "f" * 32, "e" * 32)
    assert caught.value.check == "key"
