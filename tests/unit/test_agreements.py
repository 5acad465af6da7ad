"""Agreements as code: the file, its published schema, its checks with lines, the
catalogue, and the one module that enforces it."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from boldhub.agreements import enforce
from boldhub.agreements.catalogue import catalogue
from boldhub.agreements.draft import Answers, PartyAnswer, draft
from boldhub.agreements.enforce import Refused, terms_of
from boldhub.agreements.load import canonical_bytes, dump_yaml, load_text
from boldhub.agreements.model import json_schema
from boldhub.agreements.validate import check
from boldhub.privacy.agreement import AgreementInvalid, load_agreement
from tests.support.cli import boldhub

SCHEMA_FILE = Path(__file__).parents[2] / "src/boldhub/agreements/agreement.schema.json"
KEYS = [f"ed25519:{chr(65 + i) * 43}=" for i in range(6)]
PARTIES = [
    ("E08000025", "homelessness"),
    ("E06000023", "homelessness"),
    ("E07000178", "homelessness"),
    ("MOJ-PROBATION", "probation"),
    ("DHSC-NDTMS", "treatment"),
    ("MOJ-VICTIMS", "victims"),
]


def demo_doc() -> dict[str, Any]:
    parties = tuple(PartyAnswer(o, k, (d,)) for (o, d), k in zip(PARTIES, KEYS, strict=True))
    return draft(Answers("bold-demo", "BOLD Hub demonstration", "0f" * 16, parties))


def problems_of(text: str) -> list[str]:
    return [str(p) for p in check(load_text(text, "a.yaml"))[1]]


def test_a_drafted_agreement_is_valid_and_matches_the_published_schema() -> None:
    doc = demo_doc()
    assert problems_of(dump_yaml(doc)) == []
    published = json.loads(SCHEMA_FILE.read_text())
    # The file in the package is the schema the models generate (regenerate it with
    # `boldhub agreement schema > src/boldhub/agreements/agreement.schema.json`).
    assert published == json.loads(json.dumps(json_schema(), sort_keys=True))
    jsonschema.Draft202012Validator(published).validate(doc)
    bad = {**doc, "retension": {}}
    assert not jsonschema.Draft202012Validator(published).is_valid(bad)


def test_canonical_bytes_ignore_layout_and_comments() -> None:
    doc = demo_doc()
    text = dump_yaml(doc)
    relaid = "# signed on paper too\n" + text.replace("title: BOLD", "title:   BOLD")
    assert canonical_bytes(load_text(text, "a").data) == canonical_bytes(
        load_text(relaid, "b").data
    )
    changed = copy.deepcopy(doc)
    changed["retention"]["encodings_days"] += 1
    assert canonical_bytes(changed) != canonical_bytes(doc)


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    text = dump_yaml(demo_doc()).splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith("title:"))
    text[at] = "title: BOLD Hub: demonstration"  # a colon that needs quotes
    path = tmp_path / "broken.yaml"
    path.write_text("\n".join(text) + "\n")
    proc = boldhub("agreement", "validate", str(path))
    assert proc.returncode == 2
    assert "YAML syntax error" in proc.stderr
    assert f"broken.yaml:{at + 1}: yaml: YAML syntax error" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unknown_field_and_a_missing_lawful_basis_name_their_lines(tmp_path: Path) -> None:
    text = dump_yaml(demo_doc())
    lines = text.splitlines()
    unknown = next(i for i, line in enumerate(lines) if line.startswith("purpose:"))
    lines.insert(unknown, "purpose_of_life: 42")
    path = tmp_path / "unknown.yaml"
    path.write_text("\n".join(lines) + "\n")
    proc = boldhub("agreement", "validate", str(path))
    assert proc.returncode == 2
    assert f"unknown.yaml:{unknown + 1}: purpose_of_life: is not a field" in proc.stderr

    doc = demo_doc()
    del doc["parties"][3]["lawful_basis"]
    path = tmp_path / "basis.yaml"
    path.write_text(dump_yaml(doc))
    party_line = next(
        i + 1
        for i, line in enumerate(path.read_text().splitlines())
        if "organisation: MOJ-PROBATION" in line
    )
    proc = boldhub("agreement", "validate", str(path))
    assert proc.returncode == 2
    assert f"basis.yaml:{party_line}: parties[3]: MOJ-PROBATION has no lawful_basis" in (
        proc.stderr
    )
    ok = tmp_path / "ok.yaml"
    ok.write_text(dump_yaml(demo_doc()))
    proc = boldhub("agreement", "validate", str(ok))
    assert proc.returncode == 0 and "ok.yaml: valid" in proc.stdout


@pytest.mark.parametrize(
    ("change", "where", "needle"),
    [
        (lambda d: d["dates"].update(expiry="2025-06-30"), "dates.expiry", "before it starts"),
        (
            lambda d: d["linkage"]["allowed_source_pairs"].append(["homelessness", "census"]),
            "linkage.allowed_source_pairs[10]",
            "not supplied by any party",
        ),
        (
            lambda d: d["parties"][0]["supplies"][0]["fields"].append("shoe_size"),
            "parties[0].supplies[0].fields[26]",
            "not a field of the homelessness dataset",
        ),
        (
            lambda d: d["parties"][4]["lawful_basis"].pop("article_9"),
            "parties[4].lawful_basis.article_9",
            "health data",
        ),
        (
            lambda d: d["parties"][3]["lawful_basis"].pop("article_10"),
            "parties[3].lawful_basis.article_10",
            "criminal offence data",
        ),
        (
            lambda d: d["parties"][0]["lawful_basis"].update(article_6="art6_1_f_whatever"),
            "parties[0].lawful_basis.article_6",
            "not a article_6 entry of the catalogue",
        ),
        (lambda d: d.update(consent=[]), "linkage.allowed_source_pairs", "consent rule"),
        (
            lambda d: d["outputs"].update(recipients=["E09000001"]),
            "outputs.recipients[0]",
            "not a party",
        ),
        (lambda d: d["dates"].update(start="2026-02-30"), "dates.start", "YYYY-MM-DD"),
        (
            lambda d: d["dates"].update(expiry="2028-12-31T00:00:00Z"),
            "dates.expiry",
            "YYYY-MM-DD",
        ),
        (lambda d: d["retention"].update(encodings_days=True), "retention.encodings_days", ""),
        (lambda d: d.update(version="3"), "version", "valid integer"),
    ],
)
def test_what_an_agreement_means_is_checked(change: Any, where: str, needle: str) -> None:
    doc = demo_doc()
    change(doc)
    found = problems_of(dump_yaml(doc))
    assert any(f": {where}" in p and needle in p for p in found), found


def test_the_older_json_agreement_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(
        json.dumps(
            {
                "id": "old-one",
                "linkage_key_fingerprint": "ab" * 16,
                "parties": [{"organisation": "E08000025", "signing_key": KEYS[0]}],
            }
        )
    )
    spec = load_agreement(path)
    terms = terms_of(spec.document)
    assert terms.legacy and terms.party("E08000025") is not None
    out = tmp_path / "new.yaml"
    proc = boldhub("agreement", "migrate", str(path), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    migrated = load_agreement(out)
    assert migrated.id == "old-one-v2" and migrated.document["supersedes"] == "old-one"
    assert migrated.key_fingerprint == "ab" * 16


def test_a_file_with_problems_is_refused_whole(tmp_path: Path) -> None:
    doc = demo_doc()
    doc["dates"]["expiry"] = "2020-01-01"
    path = tmp_path / "a.yaml"
    path.write_text(dump_yaml(doc))
    with pytest.raises(AgreementInvalid, match=r"a\.yaml:\d+: dates\.expiry"):
        load_agreement(path)


def test_every_catalogue_entry_explains_itself_and_cites_its_source() -> None:
    entries = catalogue()
    assert len(entries) >= 15
    for entry in entries.values():
        assert len(entry.plain) > 60 and entry.citation and entry.title
    basis = demo_doc()["parties"][4]["lawful_basis"]
    for key in ("article_6", "article_9", "schedule_1"):
        assert basis[key] in entries


def test_enforcement_names_the_clause_that_refuses() -> None:
    terms = terms_of(demo_doc())
    with pytest.raises(Refused, match=r"version 1, clause parties: E09000001 is not a party"):
        enforce.admit_party(terms, "E09000001", "homelessness")
    with pytest.raises(Refused, match=r"clause parties\[0\]\.supplies: .* not probation"):
        enforce.admit_party(terms, "E08000025", "probation")
    party = enforce.admit_party(terms, "E08000025", "homelessness")
    enforce.admit_fields(terms, party, "homelessness", enforce.carried_fields("homelessness"))
    narrow = demo_doc()
    narrow["parties"][0]["supplies"][0]["fields"].remove("ethnicity")
    narrow_terms = terms_of(narrow)
    with pytest.raises(Refused, match=r"supplies\[0\]\.fields: .*carries ethnicity"):
        enforce.admit_fields(
            narrow_terms,
            narrow_terms.parties[0],
            "homelessness",
            enforce.carried_fields("homelessness"),
        )
    with pytest.raises(Refused, match=r"clause consent\[0\]: 2 victims records"):
        enforce.admit_consent(terms, "victims", ["Y", "N", None, "Y"])
    enforce.admit_consent(terms, "victims", ["Y", "Y"])
    with pytest.raises(Refused, match=r"clause dates\.expiry"):
        enforce.require_in_force(terms, date(2031, 1, 1))
    with pytest.raises(Refused, match=r"clause dates\.start"):
        enforce.require_in_force(terms, date(2025, 12, 31))
    enforce.require_in_force(terms, date(2026, 6, 1))
    with pytest.raises(Refused, match=r"outputs\.disclosure_threshold"):
        enforce.admit_release(terms, [], 5, ["E08000025"])
    with pytest.raises(Refused, match=r"purpose_locks\[2\]: individual risk scoring"):
        enforce.admit_purpose(terms, "individual_risk_scoring")


def test_a_sign_off_signs_the_agreement_behind_its_own_context() -> None:
    """A signature over the bare canonical bytes (or anything else the key signs, such as
    a package manifest) is not a sign-off: only the agreement context is."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from boldhub.agreements.load import SIGNING_CONTEXT, signed_message
    from boldhub.privacy.signing import sign, verify

    key = Ed25519PrivateKey.generate()
    doc = demo_doc()
    message = signed_message(doc)
    assert message.startswith(SIGNING_CONTEXT) and message.endswith(canonical_bytes(doc))
    bare = sign(key, canonical_bytes(doc))
    assert not verify(key.public_key(), message, bare)
    assert verify(key.public_key(), message, sign(key, message))
