"""Agreements in real headless Chromium: a DPO drafts one with the wizard page; then each
party's DPO downloads the registered agreement, signs it on their own machine with
`boldhub agreement sign`, pastes the signature, and the agreement goes from draft to
active and onto the public register. The pages pass axe on a phone-sized screen."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from boldhub import clock
from boldhub.agreements.draft import Answers, PartyAnswer, draft
from boldhub.agreements.load import load_path
from boldhub.agreements.validate import check
from boldhub.hub import agreements
from boldhub.hub.accounts import create_user, ensure_organisations
from boldhub.hub.store import open_hub
from boldhub.privacy.agreement import parse_agreement
from boldhub.privacy.signing import public_key_text
from boldhub.schemas.organisations import local_authorities
from tests.support.cli import boldhub
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, PASSWORD, Packages, build_packages
from tests.support.server import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_hub

pytestmark = pytest.mark.browser

AGREEMENT = "two-cities-2026"
TITLE = "Homelessness in Birmingham and Bristol"
USERS = {
    "a_dpo": (COUNCIL_A, "dpo"),
    "b_dpo": (COUNCIL_B, "dpo"),
    "n_dpo": ("DHSC-NDTMS", "dpo"),
    "hub_admin": ("HUB", "admin"),
}
WIZARD_TITLE = "Homelessness and treatment in Birmingham"
WIDTH = 375


@dataclass(frozen=True)
class Site:
    url: str
    packages: Packages
    root: Path

    def key_file(self, org: str) -> Path:
        # create_trust keeps each party's signing key as its DPO would, on their machine.
        return self.packages.trust.agreement_file.parent / org / "signing.key"

    def public_key(self, org: str) -> str:
        return public_key_text(self.packages.trust.signing_keys[org].public_key())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    root = tmp_path_factory.mktemp("agreement-wizard")
    packages = build_packages(root / "packages", persons=100, seed=7)
    home = root / "hub"
    hub = open_hub(home, create=True)
    parties = tuple(
        PartyAnswer(
            org,
            public_key_text(packages.trust.signing_keys[org].public_key()),
            ("homelessness",),
        )
        for org in (COUNCIL_A, COUNCIL_B)
    )
    document = draft(
        Answers(
            id=AGREEMENT,
            title=TITLE,
            linkage_key_fingerprint=packages.key.fingerprint,
            parties=parties,
            start=date(clock.today().year, 1, 1),
        )
    )
    with hub.sessions() as s, s.begin():
        ensure_organisations(s)
    # Registered, not signed: it is a draft until both DPOs sign it on the page.
    agreements.register(hub, parse_agreement(document), actor="test")
    with hub.sessions() as s, s.begin():
        for who, (org, role) in USERS.items():
            create_user(
                s,
                email=f"{who}@example.gov.uk",
                name=who.replace("_", " ").title(),
                organisation=org,
                role=role,
                password=PASSWORD,
                actor="test",
            )
    hub.engine.dispose()
    with running_hub(home) as url:
        yield Site(url, packages, root)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def sign_in(browser: Any, url: str, who: str, width: int = 1024) -> Any:
    page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
    page.goto(url + "/sign-in")
    page.fill("#email", f"{who}@example.gov.uk")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(url + "/")
    return page


def fill_wizard(page: Any, site: Site, agreement_id: str) -> None:
    page.fill("#id", agreement_id)
    page.fill("#title", WIZARD_TITLE)
    page.fill("#signing_key", site.public_key(COUNCIL_A))
    page.fill("#party-1-organisation", "DHSC-NDTMS")
    page.select_option("#party-1-dataset", "treatment")
    page.fill("#party-1-signing_key", site.public_key("DHSC-NDTMS"))
    page.fill("#linkage_key_fingerprint", site.packages.key.fingerprint)
    page.fill("#start", f"{clock.today().year + 1}-04-01")


def test_a_dpo_drafts_an_agreement_with_the_wizard(site: Site, browser: Any) -> None:
    page = sign_in(browser, site.url, "a_dpo")
    page.goto(site.url + "/agreements")
    page.click("text=Draft a new agreement")
    assert page.input_value("#organisation") == COUNCIL_A
    assert page.is_checked("#datasets-homelessness")

    # A wrong answer is named in the error summary and by its field; nothing else is lost.
    fill_wizard(page, site, "Not A Name")
    page.click("button:has-text('Draft the agreement')")
    summary = page.locator(".error-summary")
    assert "The short name must be" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.input_value("#party-1-organisation") == "DHSC-NDTMS"

    page.fill("#id", "birmingham-treatment")
    page.click("button:has-text('Draft the agreement')")
    assert "Your draft is ready" in page.locator("#draft-ready").inner_text()
    suggested = page.locator("#suggestions ~ dl").first.inner_text()
    assert "Public task" in suggested and "UK GDPR Article 6(1)(e)" in suggested
    with page.expect_download() as got:
        page.click("#download")
    saved = site.root / "birmingham-treatment.yaml"
    got.value.save_as(saved)
    assert got.value.suggested_filename == "birmingham-treatment.yaml"
    doc, problems = check(load_path(saved))
    assert problems == [] and doc is not None
    assert [p.organisation for p in doc.parties] == [COUNCIL_A, "DHSC-NDTMS"]


def test_the_agreement_pages_pass_axe_on_a_phone(site: Site, browser: Any) -> None:
    from tests.browser.test_accessibility import Checker

    check = Checker()
    page = sign_in(browser, site.url, "a_dpo", WIDTH)
    for path in ("/agreements", f"/agreements/{AGREEMENT}", "/agreements/new"):
        page.goto(site.url + path)
        check(page, path)
    # A wrong paste is refused on the sign-off form (and nothing is recorded).
    page.goto(site.url + f"/agreements/{AGREEMENT}")
    page.fill("#signature", "not a signature")
    page.click("button:has-text('Sign the agreement')")
    assert "not a signature of this version" in page.locator(".error-summary").inner_text()
    check(page, "sign-off with an error")
    page.goto(site.url + "/agreements/new")
    page.click("button:has-text('Draft the agreement')")
    page.locator(".error-summary").wait_for()
    check(page, "wizard with errors")
    fill_wizard(page, site, "phone-draft")
    page.click("button:has-text('Draft the agreement')")
    page.locator("#draft-ready").wait_for()
    check(page, "wizard with a draft")
    public = browser.new_context(viewport={"width": WIDTH, "height": 800}).new_page()
    public.goto(site.url + "/register")
    check(public, "register")
    check.assert_clean()


def sign_on_the_page(site: Site, page: Any, org: str, title: str = TITLE) -> None:
    """What a DPO does: download the registered file, sign it on their own machine with
    the CLI, paste the three lines it prints."""
    page.goto(site.url + "/agreements")
    page.click(f"text={title}")
    with page.expect_download() as got:
        page.click("#download")
    file = site.root / f"{org}-{got.value.suggested_filename}"
    got.value.save_as(file)
    proc = boldhub(
        "agreement", "sign", str(file), "--key", str(site.key_file(org)), "--organisation", org
    )
    assert proc.returncode == 0, proc.stderr
    page.fill("#signature", proc.stdout)
    page.click("button:has-text('Sign the agreement')")
    assert "Your signature is recorded" in page.locator("#message").inner_text()


def test_both_dpos_sign_and_the_agreement_goes_active(site: Site, browser: Any) -> None:
    bristol = local_authorities()[COUNCIL_B].name
    first = sign_in(browser, site.url, "a_dpo")
    first.goto(site.url + "/agreements")
    birmingham = local_authorities()[COUNCIL_A].name
    assert f"Waiting for the signatures of {birmingham} and {bristol}" in (
        first.locator("#agreements").inner_text()
    )
    sign_on_the_page(site, first, COUNCIL_A)
    assert first.locator("#status").inner_text() == "Draft"
    assert first.locator("#status-words").inner_text() == f"Waiting for the signatures of {bristol}"
    assert first.locator("#signature").count() == 0

    second = sign_in(browser, site.url, "b_dpo")
    sign_on_the_page(site, second, COUNCIL_B)
    assert second.locator("#status").inner_text() == "Active"
    assert "in force" in second.locator("#status-words").inner_text()

    # The public register, on a phone, signed out.
    from tests.browser.test_accessibility import Checker

    check = Checker()
    public = browser.new_context(viewport={"width": WIDTH, "height": 800}).new_page()
    public.goto(site.url + "/register")
    entry = public.locator("section", has_text=TITLE)
    assert entry.count() == 1
    text = entry.inner_text()
    assert "Active" in text and bristol in text
    assert "Public task (UK GDPR Article 6(1)(e); DPA 2018 s8)" in text
    check(public, "register with an agreement in force")
    check.assert_clean()


def test_the_wizards_draft_is_registered_signed_by_both_and_goes_active(
    site: Site, browser: Any
) -> None:
    """The whole walk on one agreement: the wizard drafts it, the hub's admin registers
    that draft from the same page, each party's DPO signs it, and it goes active when the
    last one signs."""
    admin = sign_in(browser, site.url, "hub_admin")
    admin.goto(site.url + "/agreements/new")
    fill_wizard(admin, site, "birmingham-treatment-live")
    admin.fill("#organisation", COUNCIL_A)
    admin.check("#datasets-homelessness")
    # In force from the start of this year, so that it is active once signed.
    admin.fill("#start", f"{clock.today().year}-01-01")
    admin.click("button:has-text('Draft the agreement')")
    admin.locator("#draft-ready").wait_for()
    admin.click("#register")
    assert "The agreement is registered" in admin.locator("#message").inner_text()
    assert admin.locator("#status").inner_text() == "Draft"

    first = sign_in(browser, site.url, "a_dpo")
    sign_on_the_page(site, first, COUNCIL_A, WIZARD_TITLE)
    assert first.locator("#status").inner_text() == "Draft"
    last = sign_in(browser, site.url, "n_dpo")
    sign_on_the_page(site, last, "DHSC-NDTMS", WIZARD_TITLE)
    assert last.locator("#status").inner_text() == "Active"
    hub = open_hub(site.root / "hub")
    assert agreements.status(hub, "birmingham-treatment-live").word == "active"
    hub.engine.dispose()
