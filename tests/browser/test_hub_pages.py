"""The hub's pages in real headless Chromium: sign in, upload through the page, watch the
status change after a linkage run, read a report, and see only what the role allows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from boldhub.council.submit import tar_package
from boldhub.hub.accounts import create_token, create_user
from boldhub.hub.store import open_hub
from tests.support.hubworld import (
    COUNCIL_A,
    COUNCIL_B,
    PASSWORD,
    Packages,
    build_packages,
)
from tests.support.server import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_hub

pytestmark = pytest.mark.browser

USERS = {
    "submitter": (COUNCIL_A, "submitter"),
    "analyst": (COUNCIL_A, "analyst"),
    "dpo": (COUNCIL_A, "dpo"),
    "operator": ("HUB", "linkage_operator"),
    "central": ("MOJ-PROBATION", "submitter"),
    "b_submitter": (COUNCIL_B, "submitter"),
    "b_analyst": (COUNCIL_B, "analyst"),
    "admin": ("HUB", "admin"),
    "checker1": ("HUB", "output_checker"),
    "checker2": ("HUB", "output_checker"),
}


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Packages, dict[str, str]]]:
    require_chromium()
    root = tmp_path_factory.mktemp("browser")
    packages = build_packages(root / "packages", persons=400, seed=5)
    home = root / "hub"
    hub = open_hub(home, create=True)
    packages.register_agreement(hub)
    tokens = {}
    with hub.sessions() as s, s.begin():
        for key, (org, role) in USERS.items():
            user = create_user(
                s,
                email=f"{key}@example.gov.uk",
                name=key.title(),
                organisation=org,
                role=role,
                password=PASSWORD,
                actor="test",
            )
            tokens[key] = create_token(s, user, "test")
    hub.engine.dispose()
    with running_hub(home) as url:
        yield url, packages, tokens


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def sign_in(browser, url: str, who: str):  # type: ignore[no-untyped-def]
    page = browser.new_context().new_page()
    page.goto(url + "/")
    assert "/sign-in" in page.url
    page.fill("#email", f"{who}@example.gov.uk")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(url + "/")
    return page


def test_wrong_password_shows_an_error_summary(site, browser) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = site
    page = browser.new_context().new_page()
    page.goto(url + "/sign-in")
    page.fill("#email", "submitter@example.gov.uk")
    page.fill("#password", "not the password")
    page.click("button:has-text('Sign in')")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "email address or password is not right" in summary.inner_text()
    assert page.context.cookies() == [] or all(
        c["name"] != "boldhub_session" for c in page.context.cookies()
    )


def test_session_cookie_is_secure_httponly_and_lax(site, browser) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = site
    page = sign_in(browser, url, "dpo")
    cookie = next(c for c in page.context.cookies() if c["name"] == "boldhub_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"


def test_upload_link_and_read_the_report(site, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, packages, tokens = site
    # A council submitter uploads through the page.
    page = sign_in(browser, url, "submitter")
    agreements = page.locator("#agreements").inner_text()
    assert packages.trust.agreement.id in agreements and COUNCIL_A in agreements
    page.click("nav >> text=Submissions")
    package = packages.package(f"homelessness:{COUNCIL_A}")
    page.set_input_files("#files", [str(p) for p in sorted(package.iterdir())])
    page.click("button:has-text('Submit package')")
    assert "Package accepted as submission" in page.locator("#message").inner_text()
    row = page.locator("#submissions tbody tr").first
    assert "Awaiting linkage" in row.locator(".status").inner_text()

    # A wrong upload (one file only) is refused in the error summary, and nothing stored.
    page.set_input_files("#files", [str(package / "encodings.parquet")])
    page.click("button:has-text('Submit package')")
    assert "manifest.json" in page.locator(".error-summary").inner_text()
    assert page.locator("#submissions tbody tr").count() == 1

    # The other parties submit through the API, as their systems would.
    for who, source in (
        ("central", "probation:MOJ-PROBATION"),
        ("b_submitter", f"homelessness:{COUNCIL_B}"),
    ):
        r = httpx.post(
            url + "/api/v1/submissions",
            content=tar_package(packages.package(source)),
            headers={"Authorization": f"Bearer {tokens[who]}", "Content-Type": "application/x-tar"},
            timeout=60,
        )
        assert r.status_code == 201, r.text

    # The hub's admin starts a run from the page and watches it finish.
    op = sign_in(browser, url, "admin")
    op.click("nav >> text=Linkage runs")
    op.click("button:has-text('Link all current submissions')")
    for _ in range(240):
        if op.locator("#runs tbody tr").count() > 0:
            break
        op.wait_for_timeout(500)
        op.reload()
    assert op.locator("#runs tbody tr").count() == 1
    assert op.locator(".error-summary").count() == 0

    # The submitter sees the status change.
    page.reload()
    assert "Linked" in page.locator("#submissions tbody tr").first.locator(".status").inner_text()

    # The run drafted a release, which no party sees yet.
    analyst = sign_in(browser, url, "analyst")
    analyst.click("nav >> text=Reports")
    assert analyst.locator("#reports a").count() == 0
    analyst.goto(url + f"/reports/{COUNCIL_A}")
    assert analyst.locator("h1").inner_text() == "Page not found"

    # Whoever started the run may give neither approval: the page says so, and a decision
    # sent anyway is refused.
    # (The release is drafted just after the run's row appears.)
    op.click("nav >> text=Releases")
    for _ in range(240):
        if op.locator("#releases tbody a").count() > 0:
            break
        op.wait_for_timeout(500)
        op.reload()
    op.click("#releases tbody a")
    release_url = op.url
    assert "Draft" in op.locator("#status").inner_text()
    assert "you may not check its outputs" in op.locator("#cannot-decide").inner_text()
    assert op.locator("#decide").count() == 0
    token = op.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = op.request.post(
        release_url + "/decision",
        form={"csrf_token": token or "", "decision": "approve", "comment": "mine"},
    )
    assert forged.status == 400 and "started the linkage run" in forged.text()

    # One output checker approves: still nobody outside the hub's team sees it.
    first = sign_in(browser, url, "checker1")
    first.goto(release_url)
    first.check("#decision-approve")
    first.fill("#comment", "every table checked; the [c] cells hold")
    first.click("#decide")
    assert "1 of 2 approvals" in first.locator("#status-words").inner_text()
    # ...and cannot give the second approval too.
    assert first.locator("#decide").count() == 0
    assert "another output checker" in first.locator("#cannot-decide").inner_text()
    analyst.goto(url + "/reports")
    assert analyst.locator("#reports a").count() == 0

    # The second checker approves: every party now sees its own part.
    second = sign_in(browser, url, "checker2")
    second.goto(release_url)
    second.check("#decision-approve")
    second.fill("#comment", "second check done")
    second.click("#decide")
    assert "Approved" in second.locator("#status").inner_text()

    # The council's analyst reads its dashboard: charts, the trend beside the national
    # benchmark, and the CSV download.
    analyst.goto(url + "/reports")
    links = analyst.locator("#reports a")
    names = [links.nth(i).inner_text() for i in range(links.count())]
    assert any("Birmingham" in n for n in names) and not any("Bristol" in n for n in names)
    # Under the dashboard's strict CSP (no inline style or script, nothing from
    # elsewhere), the browser reports no violation: the charts are plain SVG.
    violations: list[str] = []
    analyst.on("console", lambda m: violations.append(m.text) if "Security" in m.text else None)
    with analyst.expect_response(lambda r: f"/reports/{COUNCIL_A}" in r.url) as dashboard:
        analyst.click("#reports a:has-text('Birmingham')")
    assert "default-src 'none'" in dashboard.value.headers["content-security-policy"]
    assert "Birmingham City Council" in analyst.locator("h1").inner_text()
    analyst.wait_for_load_state("load")
    assert not violations, violations
    section = analyst.locator("#ind-homeless_probation_before")
    assert section.is_visible()
    assert section.locator("svg").count() >= 2  # the trend and the breakdowns
    assert "England" in section.inner_text()  # the national benchmark beside it
    analyst.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    with analyst.expect_download() as got:
        analyst.click(f"#downloads a:has-text('{COUNCIL_A}.csv')")
    header = Path(got.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert header == "area,indicator,period,breakdown,category,people,cohort,percent"

    # ...and council B's analyst gets a 404 for council A's dashboard.
    b = sign_in(browser, url, "b_analyst")
    response = b.goto(url + f"/reports/{COUNCIL_A}")
    assert response is not None and response.status == 404
    assert b.locator("nav[aria-label=Menu]").is_visible()

    # The DPO reads the organisation's audit trail.
    dpo = sign_in(browser, url, "dpo")
    dpo.click("nav >> text=Audit trail")
    text = dpo.locator("#audit").inner_text()
    assert "Package accepted" in text and "Signed in" in text


def test_forms_need_the_csrf_token(site, browser) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = site
    page = sign_in(browser, url, "operator")
    # Signed in, but a form post without the session's CSRF token is refused.
    refused = page.request.post(
        url + "/linkage", form={"csrf_token": "forged"}, headers={"Accept": "text/html"}
    )
    assert refused.status == 403
    assert "form has expired" in refused.text()
    # A sign-in without the login form's token is refused too.
    anon = browser.new_context()
    r = anon.request.post(
        url + "/sign-in",
        form={"email": "operator@example.gov.uk", "password": PASSWORD, "csrf_token": "x"},
    )
    assert r.status == 400 and "expired" in r.text()
