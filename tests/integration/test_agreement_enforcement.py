"""The agreement decides what the hub takes in: an upload that carries a field the
agreement does not list, comes from a non-party, arrives before every party has signed or
after expiry, is of data no allowed pair links, or comes under a revoked agreement is
refused over the API naming the clause, and nothing of it is stored."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.agreements.load import signed_message
from boldhub.config import get_settings
from boldhub.council.encode import encode
from boldhub.council.submit import tar_package
from boldhub.errors import NotAdmitted, PackageError
from boldhub.hub import agreements
from boldhub.hub.accounts import create_token, create_user
from boldhub.hub.api.app import create_app
from boldhub.hub.ingest import ingest
from boldhub.hub.linking import options_from, run_linkage
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import AuditEvent, LinkageRun, Submission
from boldhub.privacy.agreement import parse_agreement
from boldhub.privacy.signing import sign
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, PASSWORD, Packages, build_packages

TAR = {"Content-Type": "application/x-tar"}
HOMELESS_A = f"homelessness:{COUNCIL_A}"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return build_packages(tmp_path_factory.mktemp("enforce"), persons=300, seed=8)


def _party(doc: dict[str, Any], org: str) -> dict[str, Any]:
    return next(p for p in doc["parties"] if p["organisation"] == org)


def _hub_with(
    home: Path, packages: Packages, change: Callable[[dict[str, Any]], None], signed: bool = True
) -> None:
    """A hub whose registered agreement is the packages' own, changed by ``change``, and
    (with ``signed``) signed by every party."""
    doc = copy.deepcopy(packages.trust.agreement.document)
    change(doc)
    hub = open_hub(home, create=True)
    spec = parse_agreement(doc)
    agreements.register(hub, spec, actor="test")
    if signed:
        for org, key in sorted(packages.trust.signing_keys.items()):
            if spec.party(org) is not None:
                agreements.sign(hub, spec.id, org, sign(key, signed_message(doc)))
    with hub.sessions() as s, s.begin():
        for org in (COUNCIL_A, COUNCIL_B, "MOJ-VICTIMS", "HUB"):
            role = "linkage_operator" if org == "HUB" else "submitter"
            create_user(
                s, email=f"{role}@{org.lower()}.example", name=org, organisation=org,
                role=role, password=PASSWORD, actor="test",
            )  # fmt: skip
    hub.engine.dispose()


def _token(home: Path, org: str) -> str:
    hub = open_hub(home)
    with hub.sessions() as s, s.begin():
        from boldhub.hub.store.models import User

        user = s.execute(select(User).where(User.organisation == org)).scalars().first()
        assert user is not None
        return create_token(s, user, "test")


@pytest.fixture
def upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    monkeypatch.delenv("BOLDHUB_DATABASE_URL", raising=False)
    clients: list[TestClient] = []

    def post(home: Path, packages: Packages, source: str) -> Any:
        org = source.split(":", 1)[1]
        client = TestClient(create_app(home))
        clients.append(client)
        return client.post(
            "/api/v1/submissions",
            content=tar_package(packages.package(source)),
            headers={**TAR, "Authorization": f"Bearer {_token(home, org)}"},
        )

    yield post
    for client in clients:
        client.close()


def _nothing_stored(home: Path) -> None:
    hub = open_hub(home)
    with hub.sessions() as s:
        assert list(s.execute(select(Submission)).scalars()) == []
        actions = [e.action for e in s.execute(select(AuditEvent)).scalars()]
    assert "submission.accepted" not in actions
    stored = [p for p in (home / "store").rglob("*") if p.is_file()]
    stored += [p for p in (home / "analysis").rglob("*") if p.is_file()]
    assert stored == []
    assert not list((home / "tmp").glob("*")) if (home / "tmp").exists() else True


def _refused(response: Any, clause: str, *needles: str) -> None:
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert f"agreement bold-demo version 1, clause {clause}:" in detail, detail
    for needle in needles:
        assert needle in detail, detail
    assert "/tmp/" not in detail and "Traceback" not in detail


def _narrow_fields(doc: dict[str, Any]) -> None:
    _party(doc, COUNCIL_A)["supplies"][0]["fields"].remove("ethnicity")


def _drop_council_b(doc: dict[str, Any]) -> None:
    doc["parties"] = [p for p in doc["parties"] if p["organisation"] != COUNCIL_B]
    doc["reciprocity"] = [r for r in doc["reciprocity"] if r["party"] != COUNCIL_B]


def _no_victims_pair(doc: dict[str, Any]) -> None:
    doc["linkage"]["allowed_source_pairs"] = [["homelessness", "probation"]]


def test_a_field_the_agreement_does_not_list_is_refused(
    tmp_path: Path, packages: Packages, upload: Callable[..., Any]
) -> None:
    home = tmp_path / "hub"
    _hub_with(home, packages, _narrow_fields)
    index = next(
        i
        for i, p in enumerate(packages.trust.agreement.document["parties"])
        if p["organisation"] == COUNCIL_A
    )
    r = upload(home, packages, HOMELESS_A)
    _refused(r, f"parties[{index}].supplies[0].fields", "carries ethnicity")
    _nothing_stored(home)


def test_an_organisation_that_is_not_a_party_is_refused(
    tmp_path: Path, packages: Packages, upload: Callable[..., Any]
) -> None:
    home = tmp_path / "hub"
    _hub_with(home, packages, _drop_council_b)
    r = upload(home, packages, f"homelessness:{COUNCIL_B}")
    _refused(r, "parties", f"{COUNCIL_B} is not a party")
    _nothing_stored(home)


def test_before_every_party_has_signed_nothing_is_accepted(
    tmp_path: Path, packages: Packages, upload: Callable[..., Any]
) -> None:
    home = tmp_path / "hub"
    _hub_with(home, packages, lambda d: None, signed=False)
    r = upload(home, packages, HOMELESS_A)
    _refused(r, "signatures", "the agreement is draft", "waiting for the signatures of")
    _nothing_stored(home)
    assert agreements.status(open_hub(home), "bold-demo").word == "draft"


def test_after_expiry_nothing_is_accepted(
    tmp_path: Path, packages: Packages, upload: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "hub"
    _hub_with(home, packages, lambda d: None)
    expiry = packages.trust.agreement.document["dates"]["expiry"]
    monkeypatch.setenv("BOLDHUB_NOW", f"{int(expiry[:4]) + 1}-02-01T09:00:00+00:00")
    r = upload(home, packages, HOMELESS_A)
    _refused(r, "dates.expiry", f"expired on {expiry}")
    _nothing_stored(home)


def test_data_no_allowed_pair_links_is_refused(
    tmp_path: Path, packages: Packages, upload: Callable[..., Any]
) -> None:
    home = tmp_path / "hub"
    _hub_with(home, packages, _no_victims_pair)
    r = upload(home, packages, "victims:MOJ-VICTIMS")
    _refused(r, "linkage.allowed_source_pairs", "no pair the agreement allows includes victims")
    _nothing_stored(home)


def test_a_revoked_agreement_refuses_uploads_and_linkage(
    tmp_path: Path, packages: Packages, upload: Callable[..., Any]
) -> None:
    home = tmp_path / "hub"
    _hub_with(home, packages, lambda d: None)
    accepted = upload(home, packages, HOMELESS_A)
    assert accepted.status_code == 201, accepted.text
    hub = open_hub(home)
    agreements.revoke(hub, "bold-demo", "the pilot ended early", actor="test")
    r = upload(home, packages, f"homelessness:{COUNCIL_B}")
    _refused(r, "revocation", "the agreement is revoked")
    with pytest.raises(NotAdmitted, match="clause revocation"):
        run_linkage(hub, agreement="bold-demo", options=options_from(get_settings()))
    with hub.sessions() as s:
        assert list(s.execute(select(LinkageRun)).scalars()) == []
        assert len(list(s.execute(select(Submission)).scalars())) == 1
        revoked = s.execute(
            select(AuditEvent).where(AuditEvent.action == "agreement.revoked")
        ).scalar_one()
    assert revoked.details["reason"] == "the pilot ended early"


def test_a_signature_must_be_over_the_registered_version(
    tmp_path: Path, packages: Packages
) -> None:
    home = tmp_path / "hub"
    _hub_with(home, packages, lambda d: None, signed=False)
    hub = open_hub(home)
    other = copy.deepcopy(packages.trust.agreement.document)
    other["retention"]["encodings_days"] = 9999
    key = packages.trust.signing_keys[COUNCIL_A]
    with pytest.raises(Exception, match="not a signature of this version of agreement bold-demo"):
        agreements.sign(hub, "bold-demo", COUNCIL_A, sign(key, signed_message(other)))
    wrong_key = packages.trust.signing_keys[COUNCIL_B]
    doc = packages.trust.agreement.document
    with pytest.raises(Exception, match="not a signature of this version"):
        agreements.sign(hub, "bold-demo", COUNCIL_A, sign(wrong_key, signed_message(doc)))
    done = agreements.sign(hub, "bold-demo", COUNCIL_A, sign(key, signed_message(doc)))
    assert done.status.word == "draft" and COUNCIL_A in done.status.signed
    assert COUNCIL_A not in done.status.missing


def test_the_council_sends_only_the_fields_the_agreement_lists(
    tmp_path: Path, packages: Packages
) -> None:
    """An attribute the party's supply leaves out is sent empty, and the hub takes the
    package under that agreement; an identifier it leaves out is refused before anything
    is written (identifiers are encoded whole), naming the clause."""
    doc = copy.deepcopy(packages.trust.agreement.document)
    _narrow_fields(doc)
    prepared = packages.root / f"homelessness-{COUNCIL_A}" / "prepared"
    signer = packages.trust.signing_keys[COUNCIL_A]
    encode(
        prepared, packages.key, tmp_path / "p", agreement=parse_agreement(doc), signing_key=signer
    )
    ethnicity = pq.read_table(tmp_path / "p" / "attributes.parquet").column("ethnicity")
    assert ethnicity.null_count == len(ethnicity) > 0
    home = tmp_path / "hub"
    _hub_with(home, packages, _narrow_fields)
    assert ingest(open_hub(home), tmp_path / "p").created

    _party(doc, COUNCIL_A)["supplies"][0]["fields"].remove("ni_number")
    out = tmp_path / "package"
    with pytest.raises(
        NotAdmitted, match=r"clause parties\[\d+\]\.supplies\[0\]\.fields: .*ni_number"
    ):
        encode(prepared, packages.key, out, agreement=parse_agreement(doc), signing_key=signer)
    assert not out.exists()


def test_victims_without_consent_are_neither_sent_nor_accepted(
    tmp_path: Path, packages: Packages
) -> None:
    prepared = packages.root / "victims-MOJ-VICTIMS" / "prepared"
    consent = pq.read_table(prepared / "prepared.parquet").column("consent").to_pylist()
    without = sum(1 for v in consent if v != "Y")
    assert 0 < without < len(consent)
    result = encode(
        prepared,
        packages.key,
        tmp_path / "package",
        agreement=packages.trust.agreement,
        signing_key=packages.trust.signing_keys["MOJ-VICTIMS"],
    )
    assert result.withheld == without and result.withheld_by.endswith("consent[0]")
    assert result.records == len(consent) - without
    kept = pq.read_table(tmp_path / "package" / "attributes.parquet").column("consent")
    assert set(kept.to_pylist()) == {"Y"}

    # A package that holds records without consent (an altered encoder: here one that
    # filtered on another flag) is refused by the hub's own copy of the rule.
    doc = copy.deepcopy(packages.trust.agreement.document)
    doc["consent"] = [{"dataset": "victims", "field": "safe_contact", "required_value": "Y"}]
    encode(
        prepared,
        packages.key,
        tmp_path / "unfiltered",
        agreement=parse_agreement(doc),
        signing_key=packages.trust.signing_keys["MOJ-VICTIMS"],
    )
    sent = pq.read_table(tmp_path / "unfiltered" / "attributes.parquet").column("consent")
    refused = sum(1 for v in sent.to_pylist() if v != "Y")
    assert refused > 0
    home = tmp_path / "hub"
    _hub_with(home, packages, lambda d: None)
    with pytest.raises(PackageError, match=rf"clause consent\[0\]: {refused} victims records"):
        ingest(open_hub(home), tmp_path / "unfiltered")
    _nothing_stored(home)
