"""Issue 12, the hub's side: every English council can take part, other bodies can be
registered, an agreement can change by a new version, refusals say what happened without
a server path, /docs works offline, logs carry no colour codes, /metrics counts the work."""

from __future__ import annotations

import io
import json
import logging
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub.agreements.draft import PartyAnswer, party_entry
from boldhub.agreements.load import signed_message
from boldhub.council.encode import encode
from boldhub.council.prepare import prepare
from boldhub.council.submit import tar_package
from boldhub.demo import Trust, create_trust, register_signed
from boldhub.errors import PackageError, SchemaError, UserError
from boldhub.hub import agreements
from boldhub.hub.accounts import create_token, create_user
from boldhub.hub.api.app import create_app
from boldhub.hub.api.logs import JsonFormatter
from boldhub.hub.ingest import ingest
from boldhub.hub.store import Hub, open_hub
from boldhub.hub.store.models import AuditEvent
from boldhub.hub.store.models import Organisation as OrganisationRow
from boldhub.privacy.agreement import parse_agreement
from boldhub.privacy.keys import LinkageKey, create_key
from boldhub.privacy.signing import public_key_text, sign
from boldhub.schemas import get_organisation
from boldhub.schemas.organisations import local_authorities
from boldhub.synth import generate
from tests.support.cli import assert_one_line_error, boldhub

TAR = {"Content-Type": "application/x-tar"}
NEW_COUNCIL = "E06000001"  # Hartlepool: not one of the 10 councils the synthetic data uses


@dataclass
class World:
    root: Path
    key: LinkageKey
    trust: Trust
    prepared: Path  # probation, prepared
    homeless: Path  # a homelessness export

    def package(self, name: str, org: str = "MOJ-PROBATION", agreement: object = None) -> Path:
        out = self.root / name
        if not out.exists():
            encode(
                self.prepared,
                self.key,
                out,
                agreement=agreement or self.trust.agreement,  # type: ignore[arg-type]
                signing_key=self.trust.signing_keys[org],
            )
        return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("i12")
    summary = generate(root / "exports", persons=300, councils=1, seed=5)
    prepare(summary.files["probation:MOJ-PROBATION"], "probation", root / "prepared")
    homeless = next(p for s, p in summary.files.items() if s.startswith("homelessness:"))
    key = create_key(root / "linkage.key")
    trust = create_trust(root / "trust", key, ["MOJ-PROBATION", "E08000025", NEW_COUNCIL])
    return World(root, key, trust, root / "prepared", homeless)


def _hub(tmp_path: Path, world: World) -> Hub:
    hub = open_hub(tmp_path / "hub", create=True)
    register_signed(hub, world.trust, actor="test")
    return hub


def _party(org: str, dataset: str, signer: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    key = signer or Ed25519PrivateKey.generate()
    return party_entry(PartyAnswer(org, public_key_text(key.public_key()), (dataset,)))


# --- #2 every English local authority; other bodies by registration -----------------


def test_the_register_holds_every_english_local_authority() -> None:
    register = local_authorities()
    by_prefix = {p: sum(c.startswith(p) for c in register) for p in ("E06", "E07", "E08", "E09")}
    assert by_prefix == {"E06": 63, "E07": 164, "E08": 36, "E09": 33}
    assert get_organisation("E06000066").name == "Somerset Council"
    assert get_organisation("E09000001").type == "City corporation"
    assert get_organisation("MOJ-PROBATION").kind == "central"
    with pytest.raises(SchemaError, match=r"E99999999.*GSS code of an English local authority"):
        get_organisation("E99999999")


def test_a_council_outside_the_synthetic_ten_prepares_encodes_and_is_accepted(
    tmp_path: Path, world: World
) -> None:
    prepare(world.homeless, "homelessness", tmp_path / "prepared", NEW_COUNCIL)
    encode(
        tmp_path / "prepared",
        world.key,
        tmp_path / "package",
        agreement=world.trust.agreement,
        signing_key=world.trust.signing_keys[NEW_COUNCIL],
    )
    hub = _hub(tmp_path, world)
    result = ingest(hub, tmp_path / "package")
    assert result.created and result.source == f"homelessness:{NEW_COUNCIL}"
    # The hub's pages name it from its row.
    with hub.sessions() as s:
        assert s.get(OrganisationRow, NEW_COUNCIL).name == "Hartlepool Borough Council"  # type: ignore[union-attr]


def test_admin_registers_a_provider_by_command_and_it_can_join(
    tmp_path: Path, world: World
) -> None:
    home = str(tmp_path / "hub")
    proc = boldhub(
        "admin", "add-organisation", "--home", home, "--code", "PROVIDER-STMUNGOS",
        "--name", "St Mungo's", "--kind", "provider",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    again = boldhub(
        "admin", "add-organisation", "--home", home, "--code", "PROVIDER-STMUNGOS",
        "--name", "St Mungo's", "--kind", "provider",
    )  # fmt: skip
    assert_one_line_error(again, "already registered")
    gss = boldhub(
        "admin", "add-organisation", "--home", home, "--code", "E07000223",
        "--name", "Adur", "--kind", "provider",
    )  # fmt: skip
    assert_one_line_error(gss, "local authority")
    for org in ("PROVIDER-STMUNGOS", "E07000223"):  # a registered body; any council
        proc = boldhub(
            "admin", "create-user", "--home", home, "--email", f"a@{org.lower()}.example",
            "--name", "A", "--org", org, "--role", "submitter",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    unknown = boldhub(
        "admin", "create-user", "--home", home, "--email", "b@x.example",
        "--name", "B", "--org", "E99999999", "--role", "submitter",
    )  # fmt: skip
    assert_one_line_error(unknown, "E99999999", "add-organisation")
    hub = open_hub(tmp_path / "hub")
    doc = {
        **world.trust.agreement.document,
        "id": "with-provider",
        "parties": [
            *world.trust.agreement.document["parties"],
            _party("PROVIDER-STMUNGOS", "homelessness"),
        ],
    }
    assert agreements.register(hub, parse_agreement(doc)).parties == 4
    doc["id"], doc["parties"][-1]["organisation"] = "with-stranger", "PROVIDER-NOBODY"
    with pytest.raises(SchemaError, match="PROVIDER-NOBODY"):
        agreements.register(hub, parse_agreement(doc))
    with hub.sessions() as s:
        actions = [e.action for e in s.execute(select(AuditEvent)).scalars()]
    assert "organisation.registered" in actions


# --- #4 an agreement changes by a new version ----------------------------------------


NDTMS_KEY = Ed25519PrivateKey.generate()


def _v2(world: World, new_id: str = "bold-demo-v2") -> dict[str, Any]:
    doc = json.loads(json.dumps(world.trust.agreement.document))
    doc["id"] = new_id
    doc["version"] = 2
    doc["parties"].append(_party("DHSC-NDTMS", "treatment", NDTMS_KEY))
    return doc


def test_a_new_version_supersedes_the_old_one(tmp_path: Path, world: World) -> None:
    hub = _hub(tmp_path, world)
    old_id = world.trust.agreement.id
    assert ingest(hub, world.package("pkg-old")).created
    file = tmp_path / "v2.json"
    file.write_text(json.dumps(_v2(world)))
    proc = boldhub("agreement", "amend", str(file), "--supersedes", old_id, "--home", str(hub.home))
    assert proc.returncode == 0, proc.stderr
    assert "supersedes=" + old_id in proc.stdout
    old, new = agreements.describe(hub, old_id), agreements.describe(hub, "bold-demo-v2")
    assert old["superseded_by"] == "bold-demo-v2" and new["supersedes"] == old_id
    assert len(new["parties"]) == len(old["parties"]) + 1
    # The new version is a draft until every party, the new one included, signs it; until
    # then the old one stays in force.
    v2 = parse_agreement(_v2(world))
    with pytest.raises(PackageError, match="clause signatures: the agreement is draft"):
        ingest(hub, _reencoded(world, "pkg-new-early", v2))
    assert ingest(hub, _reencoded(world, "pkg-old-2")).created
    assert agreements.status(hub, old_id).word == "active"
    keys = {**world.trust.signing_keys, "DHSC-NDTMS": NDTMS_KEY}
    for org, signer in keys.items():
        agreements.sign(hub, v2.id, org, sign(signer, signed_message(v2.document)))
    # Packages under the old version are refused from now on, naming the new one.
    assert agreements.status(hub, old_id).word == "superseded"
    with pytest.raises(PackageError, match=f"{old_id} was superseded by agreement bold-demo-v2"):
        ingest(hub, _reencoded(world, "pkg-old-3"))
    # Under the new version, signed, they are accepted.
    assert ingest(hub, _reencoded(world, "pkg-new", v2)).created
    with hub.sessions() as s:
        amended = s.execute(
            select(AuditEvent).where(AuditEvent.action == "agreement.amended")
        ).scalar_one()
    assert amended.details["supersedes"] == old_id
    assert amended.details["parties_added"] == ["DHSC-NDTMS"]


def _reencoded(world: World, name: str, agreement: object = None) -> Path:
    """A fresh package (its own manifest), not one the hub received before."""
    out = world.root / name
    if out.exists():
        shutil.rmtree(out)
    encode(
        world.prepared,
        world.key,
        out,
        agreement=agreement or world.trust.agreement,  # type: ignore[arg-type]
        signing_key=world.trust.signing_keys["MOJ-PROBATION"],
    )
    return out


def test_amending_refuses_what_cannot_be_a_new_version(tmp_path: Path, world: World) -> None:
    hub = _hub(tmp_path, world)
    old_id = world.trust.agreement.id
    with pytest.raises(UserError, match="its own id"):
        agreements.amend(hub, parse_agreement(_v2(world, old_id)), old_id)
    with pytest.raises(UserError, match="not registered"):
        agreements.amend(hub, parse_agreement(_v2(world)), "no-such-agreement")
    agreements.amend(hub, parse_agreement(_v2(world)), old_id)
    with pytest.raises(UserError, match="already superseded by bold-demo-v2"):
        agreements.amend(hub, parse_agreement(_v2(world, "bold-demo-v3")), old_id)
    changed = {**world.trust.agreement.document, "title": "changed"}
    with pytest.raises(UserError, match="agreement amend"):
        agreements.register(hub, parse_agreement(changed))


# --- the service: #6 paths, #7 messages, #12 offline, #14 metrics --------------------


@dataclass
class Service:
    client: TestClient
    hub: Hub
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **TAR}


@pytest.fixture
def service(tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.delenv("BOLDHUB_DATABASE_URL", raising=False)
    app = create_app(tmp_path / "hub")
    hub = open_hub(tmp_path / "hub")
    register_signed(hub, world.trust, actor="test")
    with hub.sessions() as session, session.begin():
        user = create_user(
            session, email="p@moj.example", name="P", organisation="MOJ-PROBATION",
            role="submitter", password=None, actor="test",
        )  # fmt: skip
        token = create_token(session, user, "test")
    with TestClient(app) as client:
        yield Service(client, hub, token)
    hub.engine.dispose()


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _no_server_path(detail: str, service: Service) -> None:
    assert "upload-" not in detail and "tmp" not in detail, detail
    assert str(service.hub.home) not in detail, detail


def test_an_upload_without_its_signature_says_to_send_it_and_shows_no_path(
    service: Service, world: World
) -> None:
    package = world.package("pkg-sig")
    files = {p.name: p.read_bytes() for p in package.iterdir() if p.name != "manifest.sig"}
    r = service.client.post("/api/v1/submissions", content=_tar(files), headers=service.auth)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    _no_server_path(detail, service)
    assert "no manifest.sig" in detail and "send every file" in detail, detail
    assert "--signing-key" not in detail, detail


def test_an_upload_missing_a_data_file_shows_no_path(service: Service, world: World) -> None:
    package = world.package("pkg-sig")
    files = {p.name: p.read_bytes() for p in package.iterdir() if p.suffix != ".parquet"}
    r = service.client.post("/api/v1/submissions", content=_tar(files), headers=service.auth)
    assert r.status_code == 422, r.text
    _no_server_path(r.json()["detail"], service)
    assert ".parquet" in r.json()["detail"]


@pytest.mark.parametrize("cut", [0.5, 0.999, "boundary"])
def test_a_cut_short_tar_says_so(service: Service, world: World, cut: float | str) -> None:
    body = tar_package(world.package("pkg-sig"))
    if cut == "boundary":
        # Cut between two files: every header is whole, the end-of-archive blocks are gone.
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            offset = tar.getmembers()[-1].offset
        body = body[:offset]
    else:
        body = body[: int(len(body) * float(cut))]
    r = service.client.post("/api/v1/submissions", content=body, headers=service.auth)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "cut short" in detail and "send the package again" in detail, detail
    assert "plain files" not in detail


def test_a_wrong_token_is_called_not_valid(service: Service) -> None:
    r = service.client.get("/api/v1/submissions", headers={"Authorization": "Bearer bh_wrong"})
    assert r.status_code == 401
    assert "not valid" in r.json()["detail"]
    assert "send an API token" not in r.json()["detail"]
    r = service.client.get("/api/v1/submissions")
    assert "send an API token" in r.json()["detail"]


def test_a_missing_agreement_file_says_what_to_do(tmp_path: Path) -> None:
    proc = boldhub("agreement", "register", str(tmp_path / "nope.json"), "--home", str(tmp_path))
    assert_one_line_error(proc, "not found", "check the path", "boldhub agreement show")


def test_docs_load_nothing_from_the_internet(service: Service) -> None:
    page = service.client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for asset in ("/static-docs/swagger-ui-bundle.js", "/static-docs/swagger-ui.css"):
        assert asset in page.text
        assert service.client.get(asset).status_code == 200


def test_json_logs_carry_no_colour_codes() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        "Uvicorn running on %s",
        ("\x1b[1mhttp://x\x1b[0m",),
        None,
    )
    record.color_message = "Uvicorn running on \x1b[1m%s\x1b[0m"
    line = JsonFormatter().format(record)
    assert "\x1b" not in line and "\\u001b" not in line, line
    assert json.loads(line)["msg"] == "Uvicorn running on http://x"


def test_metrics_count_the_hubs_work_and_refusals(service: Service, world: World) -> None:
    body = tar_package(world.package("pkg-sig"))
    assert service.client.post("/api/v1/submissions", content=body, headers=service.auth).is_success
    service.client.post("/api/v1/submissions", content=body[:1000], headers=service.auth)
    text = service.client.get("/metrics").text
    assert 'boldhub_submissions_accepted_total{dataset="probation"} 1.0' in text
    assert 'boldhub_refusals_total{reason="upload"} 1.0' in text
    assert 'boldhub_refusals_total{reason="signature"} 0.0' in text
    for name in (
        "boldhub_linkage_runs_total 0.0",
        "boldhub_report_releases_total 0.0",
        "boldhub_linkage_runs_in_progress 0.0",
        "http_requests_total",
        "process_",
    ):
        assert name in text, name


def test_hub_admins_register_bodies_through_the_api(service: Service) -> None:
    tokens = {}
    with service.hub.sessions() as session, session.begin():
        for org in ("HUB", "E08000025"):
            user = create_user(
                session, email=f"admin@{org.lower()}.example", name="A", organisation=org,
                role="admin", password=None, actor="test",
            )  # fmt: skip
            tokens[org] = {"Authorization": f"Bearer {create_token(session, user, 'test')}"}
    body = {"code": "PROVIDER-SHELTER", "name": "Shelter", "kind": "provider"}
    r = service.client.post("/api/v1/organisations", json=body, headers=tokens["E08000025"])
    assert r.status_code == 403, r.text
    r = service.client.post("/api/v1/organisations", json=body, headers=tokens["HUB"])
    assert r.status_code == 201, r.text
    r = service.client.post("/api/v1/organisations", json=body, headers=tokens["HUB"])
    assert r.status_code == 409 and "registered at this hub already" in r.json()["detail"]
    bad = {**body, "code": "E0800025"}
    r = service.client.post("/api/v1/organisations", json=bad, headers=tokens["HUB"])
    assert r.status_code == 400 and "upper-case letters" in r.json()["detail"]
    listed = service.client.get("/api/v1/organisations", headers=tokens["E08000025"]).json()
    assert [o["code"] for o in listed] == [
        "DHSC-NDTMS",
        "MOJ-PROBATION",
        "MOJ-VICTIMS",
        "PROVIDER-SHELTER",
    ]
    assert body in listed
    with service.hub.sessions() as s:
        event = s.execute(
            select(AuditEvent).where(AuditEvent.action == "organisation.registered")
        ).scalar_one()
    assert event.subject == "PROVIDER-SHELTER" and event.actor.startswith("user:")
