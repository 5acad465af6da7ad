"""Keys, signing keys, agreements and key rotation, through the command line."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path

import pytest

from boldhub.council.prepare import prepare
from boldhub.demo import create_trust
from boldhub.errors import SchemaError
from boldhub.hub.agreements import register
from boldhub.hub.store import open_hub
from boldhub.privacy.keys import create_key, load_key
from boldhub.privacy.signing import load_signing_key, public_key_text
from boldhub.synth import generate
from tests.support.cli import assert_one_line_error, boldhub


def _encode(prepared: Path, key: Path, signer: Path, agreement: Path, out: Path) -> None:
    proc = boldhub(
        "encode",
        str(prepared),
        "--key",
        str(key),
        "--signing-key",
        str(signer),
        "--agreement",
        str(agreement),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr


def _audit(home: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(home / "hub.sqlite")
    try:
        return con.execute("SELECT action, details FROM audit_events ORDER BY seq").fetchall()
    finally:
        con.close()


def test_signing_key_is_owner_only_and_its_public_key_is_exported(tmp_path: Path) -> None:
    proc = boldhub("keys", "create-signing", "--out", str(tmp_path / "org.key"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "org.key").stat().st_mode & 0o777 == 0o600
    public = (tmp_path / "org.key.pub").read_text().strip()
    assert public.startswith("ed25519:") and public in proc.stdout
    assert "PRIVATE" not in proc.stdout
    shown = boldhub("keys", "public", str(tmp_path / "org.key"))
    assert shown.stdout.strip() == public
    assert public_key_text(load_signing_key(tmp_path / "org.key").public_key()) == public
    again = boldhub("keys", "create-signing", "--out", str(tmp_path / "org.key"))
    assert_one_line_error(again, "already exists")
    (tmp_path / "org.key").chmod(0o640)
    assert_one_line_error(boldhub("keys", "public", str(tmp_path / "org.key")), "chmod 600")


def test_fingerprint_names_the_key_without_revealing_it(tmp_path: Path) -> None:
    boldhub("keys", "create", "--out", str(tmp_path / "l.key"))
    proc = boldhub("keys", "fingerprint", str(tmp_path / "l.key"))
    key = load_key(tmp_path / "l.key")
    assert proc.stdout.strip() == key.fingerprint
    assert key.secret.hex() not in proc.stdout


def test_agreement_register_is_audited_and_idempotent(tmp_path: Path) -> None:
    boldhub("keys", "create", "--out", str(tmp_path / "l.key"))
    trust = create_trust(tmp_path / "t", load_key(tmp_path / "l.key"), ["E08000025"])
    home = tmp_path / "hub"
    first = boldhub("agreement", "register", str(trust.agreement_file), "--home", str(home))
    assert first.returncode == 0 and "registered: agreement=bold-demo parties=1" in first.stdout
    again = boldhub("agreement", "register", str(trust.agreement_file), "--home", str(home))
    assert "already registered" in again.stdout
    assert [a for a, _ in _audit(home)] == ["agreement.registered"]
    shown = json.loads(boldhub("agreement", "show", "bold-demo", "--home", str(home)).stdout)
    assert shown["key_fingerprint"] == trust.agreement.key_fingerprint
    assert shown["encoding"]["scheme"] == "boldhub-fbf-v6"
    changed = copy.deepcopy(trust.agreement.document)
    changed["encoding"] = {"name_filter_weight": 80}
    trust.agreement_file.write_text(json.dumps(changed))
    proc = boldhub("agreement", "register", str(trust.agreement_file), "--home", str(home))
    assert_one_line_error(proc, "already registered with other terms")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"id": "Bad Id"}, "id must be"),
        ({"linkage_key_fingerprint": "abc"}, "32 hex digits"),
        ({"encoding": {"qgram": 4}}, "qgram must be 2 or 3"),
        ({"encoding": {"scheme": "boldhub-fbf-v4"}}, "no longer accepted"),
        ({"parties": []}, "non-empty list"),
        ({"parties": [{"organisation": "E99", "signing_key": "ed25519:AAAA"}]}, "unknown"),
        (
            {"parties": [{"organisation": "E08000025", "signing_key": "rsa:xyz"}]},
            "ed25519:<base64>",
        ),
        (
            {"linkage": {"allowed_source_pairs": [["homelessness"]]}},
            "linkage.allowed_source_pairs[0] must be two dataset or source names",
        ),
        ({"linkage": {"one_to_one_sources": "probation"}}, "linkage.one_to_one_sources must be"),
    ],
)
def test_agreement_file_mistakes(tmp_path: Path, change: dict[str, object], needle: str) -> None:
    boldhub("keys", "create", "--out", str(tmp_path / "l.key"))
    trust = create_trust(tmp_path / "t", load_key(tmp_path / "l.key"), ["E08000025"])
    # The older JSON agreements are still read, as the subset they are; the new YAML
    # file's own checks are in tests/unit/test_agreements.py.
    legacy = {
        "id": "bold-demo",
        "linkage_key_fingerprint": trust.agreement.key_fingerprint,
        "parties": [
            {"organisation": p.organisation, "signing_key": p.signing_key}
            for p in trust.agreement.parties
        ],
    }
    trust.agreement_file.write_text(json.dumps({**legacy, **change}))
    proc = boldhub(
        "agreement", "register", str(trust.agreement_file), "--home", str(tmp_path / "h")
    )
    assert_one_line_error(proc, needle)


def test_register_refuses_a_document_whose_linkage_terms_do_not_parse(tmp_path: Path) -> None:
    """A term that does not parse is refused when registered, never dropped at link time."""
    trust = create_trust(tmp_path / "t", create_key(tmp_path / "l.key"), ["E08000025"])
    trust.agreement.document["linkage"] = {"allowed_source_pairs": [["a", "b", "c"]]}
    hub = open_hub(tmp_path / "hub", create=True)
    with pytest.raises(SchemaError, match=r"agreement bold-demo: linkage\.allowed_source_pairs"):
        register(hub, trust.agreement)
    assert [a for a, _ in _audit(tmp_path / "hub")] == []


def test_key_rotation_refuses_old_packages_and_accepts_the_new_key(tmp_path: Path) -> None:
    summary = generate(tmp_path / "exports", persons=200, councils=1, seed=5)
    prepared = tmp_path / "prepared"
    prepare(summary.files["probation:MOJ-PROBATION"], "probation", prepared)
    boldhub("keys", "create", "--out", str(tmp_path / "old.key"))
    trust = create_trust(tmp_path / "t", load_key(tmp_path / "old.key"), ["MOJ-PROBATION"])
    signer = tmp_path / "t" / "MOJ-PROBATION" / "signing.key"
    home = tmp_path / "hub"
    boldhub("agreement", "register", str(trust.agreement_file), "--home", str(home))
    signed = boldhub(
        "agreement", "sign", str(trust.agreement_file), "--key", str(signer),
        "--organisation", "MOJ-PROBATION", "--home", str(home),
    )  # fmt: skip
    assert "status=active" in signed.stdout, signed.stderr
    _encode(prepared, tmp_path / "old.key", signer, trust.agreement_file, tmp_path / "p1")
    _encode(prepared, tmp_path / "old.key", signer, trust.agreement_file, tmp_path / "p2")
    assert boldhub("ingest", str(tmp_path / "p1"), "--home", str(home)).returncode == 0

    # The parties make a new key; the hub moves the agreement to its fingerprint.
    boldhub("keys", "create", "--out", str(tmp_path / "new.key"))
    new_fp = boldhub("keys", "fingerprint", str(tmp_path / "new.key")).stdout.strip()
    proc = boldhub(
        "agreement", "rotate-key", "bold-demo", "--fingerprint", new_fp, "--home", str(home)
    )
    assert proc.returncode == 0, proc.stderr
    assert "retired submissions: 1" in proc.stdout

    # An old package is refused now, even one never sent before.
    refused = boldhub("ingest", str(tmp_path / "p2"), "--home", str(home))
    assert_one_line_error(refused, "key check failed", "different linkage key")

    # The council re-encodes with the new key (the agreement file names the new key).
    doc = {**trust.agreement.document, "linkage_key_fingerprint": new_fp}
    (tmp_path / "agreement-v2.json").write_text(json.dumps(doc))
    _encode(prepared, tmp_path / "new.key", signer, tmp_path / "agreement-v2.json", tmp_path / "p3")
    accepted = boldhub("ingest", str(tmp_path / "p3"), "--home", str(home))
    assert accepted.returncode == 0, accepted.stderr

    actions = _audit(home)
    assert [a for a, _ in actions] == [
        "agreement.registered",
        "agreement.signed",
        "submission.accepted",
        "agreement.key_rotated",
        "submission.accepted",
    ]
    rotated = json.loads(actions[3][1])
    assert rotated["new_fingerprint"] == new_fp and len(rotated["retired"]) == 1
    con = sqlite3.connect(home / "hub.sqlite")
    statuses = sorted(r[0] for r in con.execute("SELECT status FROM submissions"))
    con.close()
    assert statuses == ["current", "retired"]
    assert boldhub("audit", "verify", "--home", str(home)).returncode == 0
