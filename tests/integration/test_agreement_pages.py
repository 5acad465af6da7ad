"""The agreement pages in-process: the public register, a party's list and sign-off (a
DPO pastes a signature made on their own machine), refusals in plain words, the YAML
download that signs to the registered bytes, and the wizard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boldhub import clock
from boldhub.agreements.draft import Answers, PartyAnswer, draft
from boldhub.agreements.load import canonical_bytes, load_text, signed_message
from boldhub.agreements.validate import check
from boldhub.config import Settings
from boldhub.demo import Trust, create_trust, sign_all
from boldhub.hub import agreements, audit
from boldhub.hub.accounts import create_user, sign_in
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import SESSION_COOKIE
from boldhub.hub.store import open_hub
from boldhub.hub.store.models import AuditEvent
from boldhub.hub.store.trust import Agreement
from boldhub.privacy.agreement import parse_agreement
from boldhub.privacy.keys import create_key
from boldhub.privacy.signing import public_key_text, sign
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, PASSWORD

HTML = {"Accept": "text/html"}
CENTRAL = "MOJ-PROBATION"
CENTRAL_NAME = "HM Prison and Probation Service (nDelius)"
PEOPLE = {
    "dpo": (COUNCIL_A, "dpo"),
    "submitter": (COUNCIL_A, "submitter"),
    "b_dpo": (COUNCIL_B, "dpo"),
    "central_dpo": (CENTRAL, "dpo"),
    "admin": ("HUB", "admin"),
}
RUN_ID = "run-20260601-abcdef"


@dataclass
class Site:
    home: Path
    app: object
    trust: Trust
    fingerprint: str

    def client(self, who: str | None) -> TestClient:
        client = TestClient(self.app, headers=HTML)  # type: ignore[arg-type]
        if who is not None:
            hub = open_hub(self.home)
            with hub.sessions() as s, s.begin():
                started = sign_in(s, f"{who}@example.gov.uk", PASSWORD)
            assert started is not None
            client.cookies.set(SESSION_COOKIE, started[0])
        return client

    def status(self, agreement_id: str) -> agreements.Status:
        return agreements.status(open_hub(self.home), agreement_id)

    def signed_events(self, agreement_id: str) -> int:
        with open_hub(self.home).sessions() as s:
            rows = s.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "agreement.signed", AuditEvent.subject == agreement_id
                )
            )
            return len(list(rows.scalars()))


def two_party(trust: Trust, agreement_id: str, fingerprint: str) -> dict[str, object]:
    """Council A and the probation service, as a wizard would draft them."""
    parties = tuple(
        PartyAnswer(org, public_key_text(trust.signing_keys[org].public_key()), (dataset,))
        for org, dataset in ((COUNCIL_A, "homelessness"), (CENTRAL, "probation"))
    )
    return draft(
        Answers(
            id=agreement_id,
            title=f"Pilot {agreement_id}",
            linkage_key_fingerprint=fingerprint,
            parties=parties,
            start=date(clock.today().year, 1, 1),
        )
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("agreement-pages")
    key = create_key(root / "linkage.key")
    trust = create_trust(root / "trust", key, [COUNCIL_A, COUNCIL_B, CENTRAL])
    home = root / "hub"
    app = create_app(home, Settings(cookie_secure=False))
    hub = open_hub(home)
    # The three-party agreement is signed by all and in force, with one release under it.
    agreements.register(hub, trust.agreement, actor="test")
    sign_all(hub, trust, actor="test")
    for aid in ("two-party", "refusals"):
        agreements.register(
            hub, parse_agreement(two_party(trust, aid, key.fingerprint)), actor="test"
        )
    with hub.sessions() as s, s.begin():
        audit.append(
            s,
            actor="test",
            action="reports.released",
            subject=RUN_ID,
            details={"agreement": trust.agreement.id, "areas": [COUNCIL_A]},
        )
        for who, (org, role) in PEOPLE.items():
            create_user(
                s,
                email=f"{who}@example.gov.uk",
                name=who.title(),
                organisation=org,
                role=role,
                password=PASSWORD,
                actor="test",
            )
    yield Site(home, app, trust, key.fingerprint)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def _signature(site: Site, client: TestClient, agreement_id: str, org: str) -> str:
    """What the DPO pastes: the CLI's signature over the downloaded file's data."""
    text = client.get(f"/agreements/{agreement_id}/agreement.yaml").text
    document = load_text(text, "agreement.yaml").data
    return sign(site.trust.signing_keys[org], signed_message(document))


# -- the public register -------------------------------------------------------------------


def test_the_register_is_public_and_lists_only_agreements_in_force(site: Site) -> None:
    page = site.client(None).get("/register")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Register of data sharing agreements" in text
    assert site.trust.agreement.document["title"] in text
    assert "Active" in text
    assert "Birmingham City Council" in text and CENTRAL_NAME in text
    assert "Public task (UK GDPR Article 6(1)(e); DPA 2018 s8)" in text
    assert "To understand how people move" in text
    assert RUN_ID in text
    # Drafts were never in force; keys, fingerprints and paths are not for the public.
    assert "Pilot two-party" not in text
    assert "ed25519:" not in text and site.fingerprint not in text
    assert str(site.home) not in text and "Sign out" not in text
    assert '<a href="/register">Register of agreements</a>' in text


# -- a party's view ------------------------------------------------------------------------


def test_a_party_lists_its_agreements_with_what_each_needs(site: Site) -> None:
    page = site.client("dpo").get("/agreements")
    assert page.status_code == 200, page.text
    assert "Pilot two-party" in page.text
    assert f"Waiting for the signatures of Birmingham City Council and {CENTRAL_NAME}" in (
        page.text
    )
    mine = site.client("b_dpo").get("/agreements").text
    assert "Pilot two-party" not in mine and site.trust.agreement.document["title"] in mine
    assert "Pilot two-party" in site.client("admin").get("/agreements").text


def test_a_non_party_gets_404(site: Site) -> None:
    client = site.client("b_dpo")
    for path in ("/agreements/two-party", "/agreements/two-party/agreement.yaml"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "There is no agreement at this address" in page.text
    csrf = _csrf(client.get("/agreements").text)
    page = client.post("/agreements/two-party/sign", data={"csrf_token": csrf, "signature": "x"})
    assert page.status_code == 404
    assert client.get("/agreements/no-such-agreement").status_code == 404


def test_the_download_signs_to_the_registered_bytes(site: Site) -> None:
    client = site.client("dpo")
    for aid in ("two-party", site.trust.agreement.id):
        r = client.get(f"/agreements/{aid}/agreement.yaml")
        assert r.status_code == 200
        assert "attachment" in r.headers["content-disposition"]
        loaded = load_text(r.text, f"{aid}.yaml")
        with open_hub(site.home).sessions() as s:
            registered = s.get(Agreement, aid)
            assert registered is not None
            assert canonical_bytes(loaded.data) == canonical_bytes(registered.document)
        assert check(loaded)[1] == []


def test_the_page_shows_the_agreement_and_the_sign_off_steps(site: Site) -> None:
    page = site.client("dpo").get("/agreements/two-party")
    assert page.status_code == 200
    text = page.text
    with open_hub(site.home).sessions() as s:
        row = s.get(Agreement, "two-party")
        assert row is not None
        assert agreements.document_sha256(row.document) in text
    assert (
        f"boldhub agreement sign two-party.yaml --key YOUR_KEY --organisation {COUNCIL_A}" in text
    )
    assert 'href="/agreements/two-party/agreement.yaml"' in text
    assert 'name="signature"' in text
    assert "Public task" in text and "Housing Act 1996" in text
    assert 'href="/agreements/two-party/document"' in text
    # Only a DPO is offered the form.
    assert 'name="signature"' not in site.client("submitter").get("/agreements/two-party").text
    doc = site.client("dpo").get("/agreements/two-party/document")
    assert doc.status_code == 200 and "Pilot two-party" in doc.text


# -- signing -------------------------------------------------------------------------------


def test_a_bad_signature_is_refused_and_nothing_recorded(site: Site) -> None:
    client = site.client("dpo")
    csrf = _csrf(client.get("/agreements/refusals").text)
    # Garbage, then a real signature by another party's key.
    other = _signature(site, client, "refusals", CENTRAL)
    for pasted in ("not a signature", other, ""):
        page = client.post(
            "/agreements/refusals/sign", data={"csrf_token": csrf, "signature": pasted}
        )
        assert page.status_code == 400, page.text
        summary = page.text[page.text.index("error-summary") :]
        assert "There is a problem" in page.text
        assert "not a signature of this version" in summary or "Paste the signature" in summary
        assert "Traceback" not in page.text and str(site.home) not in page.text
    assert site.status("refusals").signed == []
    assert site.signed_events("refusals") == 0


def test_a_signature_without_the_form_token_is_refused(site: Site) -> None:
    client = site.client("dpo")
    good = _signature(site, client, "refusals", COUNCIL_A)
    page = client.post("/agreements/refusals/sign", data={"csrf_token": "x", "signature": good})
    assert page.status_code == 403
    assert site.status("refusals").signed == []


def test_only_a_dpo_can_sign(site: Site) -> None:
    client = site.client("submitter")
    good = _signature(site, client, "refusals", COUNCIL_A)
    csrf = _csrf(client.get("/agreements/refusals").text)
    page = client.post("/agreements/refusals/sign", data={"csrf_token": csrf, "signature": good})
    assert page.status_code == 403
    assert "data protection officer" in page.text
    assert site.status("refusals").signed == []
    assert site.signed_events("refusals") == 0


def test_each_dpo_signs_and_the_agreement_becomes_active(site: Site) -> None:
    client = site.client("dpo")
    pasted = _signature(site, client, "two-party", COUNCIL_A).replace("\n", "\r\n")
    csrf = _csrf(client.get("/agreements/two-party").text)
    r = client.post(
        "/agreements/two-party/sign",
        data={"csrf_token": csrf, "signature": pasted},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/agreements/two-party?done=signed"
    page = client.get(r.headers["location"]).text
    assert "Your signature is recorded" in page
    assert re.search(r'id="status">Draft<', page)
    assert f"Waiting for the signatures of {CENTRAL_NAME}" in page
    assert 'name="signature"' not in page  # signed: no form again
    assert site.status("two-party").signed == [COUNCIL_A]

    central = site.client("central_dpo")
    csrf = _csrf(central.get("/agreements/two-party").text)
    r = central.post(
        "/agreements/two-party/sign",
        data={"csrf_token": csrf, "signature": _signature(site, central, "two-party", CENTRAL)},
    )
    assert r.status_code == 200 and re.search(r'id="status">Active<', r.text)
    assert site.status("two-party").word == "active"
    assert "Pilot two-party" in site.client(None).get("/register").text


# -- the wizard ----------------------------------------------------------------------------


def _answers(site: Site, aid: str) -> dict[str, str]:
    keys = {
        org: public_key_text(site.trust.signing_keys[org].public_key())
        for org in (COUNCIL_A, COUNCIL_B)
    }
    return {
        "id": aid,
        "title": "Homelessness in two cities",
        "organisation": COUNCIL_A,
        "role": "joint_controller",
        "datasets": "homelessness",
        "signing_key": keys[COUNCIL_A],
        "party-1-organisation": COUNCIL_B,
        "party-1-dataset": "homelessness",
        "party-1-signing_key": keys[COUNCIL_B],
        "party-2-organisation": "",
        "party-2-dataset": "",
        "party-2-signing_key": "",
        "rows": "2",
        "linkage_key_fingerprint": site.fingerprint,
        "start": f"{clock.today().year}-01-01",
        "years": "3",
        "purpose": "",
        "benefits": "",
    }


def test_the_wizard_drafts_an_agreement(site: Site) -> None:
    client = site.client("dpo")
    page = client.get("/agreements/new")
    assert page.status_code == 200
    assert "The linkage key&#39;s fingerprint" in page.text
    assert f'value="{COUNCIL_A}"' in page.text
    form = {**_answers(site, "two-cities"), "csrf_token": _csrf(page.text)}
    drafted = client.post("/agreements/new", data={**form, "action": "draft"})
    assert drafted.status_code == 200, drafted.text
    assert "Your draft is ready" in drafted.text
    assert "Substantial public interest" in drafted.text  # with its plain explanation
    assert "Register it at the hub" not in drafted.text  # only the hub's admins register
    file = client.post("/agreements/new", data={**form, "action": "download"})
    assert file.status_code == 200
    assert 'filename="two-cities.yaml"' in file.headers["content-disposition"]
    doc, problems = check(load_text(file.text, "two-cities.yaml"))
    assert problems == [] and doc is not None and len(doc.parties) == 2


def test_the_wizard_shows_each_problem_by_its_field(site: Site) -> None:
    client = site.client("dpo")
    form = {
        **_answers(site, "Bad Name"),
        "party-1-signing_key": "not a key",
        "linkage_key_fingerprint": "xyz",
        "csrf_token": _csrf(client.get("/agreements/new").text),
    }
    page = client.post("/agreements/new", data={**form, "action": "draft"})
    assert page.status_code == 400
    for field in ("id", "party-1-signing_key", "linkage_key_fingerprint"):
        assert f'href="#{field}"' in page.text
        assert f'id="{field}-error"' in page.text
    more = client.post("/agreements/new", data={**form, "action": "add-party"})
    assert more.status_code == 200 and 'id="party-3-organisation"' in more.text


def test_a_hub_admin_registers_the_draft(site: Site) -> None:
    client = site.client("admin")
    form = {
        **_answers(site, "two-cities-admin"),
        "csrf_token": _csrf(client.get("/agreements/new").text),
    }
    r = client.post("/agreements/new", data={**form, "action": "register"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert site.status("two-cities-admin").word == "draft"
    page = client.get(r.headers["location"]).text
    assert "The agreement is registered" in page


def test_only_dpos_and_admins_draft(site: Site) -> None:
    page = site.client("submitter").get("/agreements/new")
    assert page.status_code == 403
    assert "data protection officer" in page.text
