"""What the hub's pages say, in-process: GOV.UK patterns (skip link, footer, current
page, table headers, error summary), the upload form, one submission's page, overlapping
periods, held messages, the DPO's audit trail and refusals in plain words."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from boldhub.config import Settings
from boldhub.hub.accounts import create_user, sign_in
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import SESSION_COOKIE
from boldhub.hub.store import open_hub
from boldhub.hub.web.wording import period_words
from tests.support.hubpages import PagesWorld, email, make_world
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, PASSWORD

HTML = {"Accept": "text/html"}


@dataclass
class Site:
    world: PagesWorld
    app: object

    def client(self, who: str | None) -> TestClient:
        client = TestClient(self.app, headers=HTML)  # type: ignore[arg-type]
        if who is not None:
            hub = open_hub(self.world.home)
            with hub.sessions() as s, s.begin():
                started = sign_in(s, email(who), PASSWORD)
            assert started is not None
            client.cookies.set(SESSION_COOKIE, started[0])
        return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def _upload(client: TestClient, package: Path) -> str:
    page = client.get("/submissions").text
    files = [("files", (p.name, p.read_bytes())) for p in sorted(package.iterdir())]
    r = client.post("/submissions", data={"csrf_token": _csrf(page)}, files=files)
    assert r.status_code == 200, r.text
    found = re.search(r"(?i)submission ([0-9a-f]{16})", r.text)
    assert found, r.text
    return found.group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    world = make_world(tmp_path_factory.mktemp("pages"))
    app = create_app(world.home, Settings(cookie_secure=False))
    yield Site(world, app)


@pytest.fixture(scope="module")
def sent(site: Site) -> dict[str, str]:
    """Council A sends 2019-2025 then 2019-2020; council B sends its own."""
    packages = site.world.packages
    ids = {
        "long": _upload(site.client("submitter"), packages.package(f"homelessness:{COUNCIL_A}")),
        "short": _upload(site.client("submitter"), site.world.short_period),
        "bristol": _upload(
            site.client("b_submitter"), packages.package(f"homelessness:{COUNCIL_B}")
        ),
    }
    return ids


# -- the GOV.UK frame on every page ------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "path", "current"),
    [
        ("submitter", "/", "/"),
        ("submitter", "/submissions", "/submissions"),
        ("dpo", "/audit", "/audit"),
        ("analyst", "/reports", "/reports"),
        ("operator", "/linkage", "/linkage"),
        (None, "/sign-in", None),
        (None, "/privacy", None),
        (None, "/accessibility", None),
        (None, "/contact", None),
    ],
)
def test_every_page_has_the_frame(
    site: Site, sent: dict[str, str], who: str | None, path: str, current: str | None
) -> None:
    page = site.client(who).get(path)
    assert page.status_code == 200, page.text
    text = page.text
    assert '<a href="#main-content" class="skip-link">Skip to main content</a>' in text
    assert 'id="main-content"' in text
    for href, words in (
        ("/privacy", "Privacy notice"),
        ("/accessibility", "Accessibility statement"),
        ("/contact", "Contact"),
    ):
        assert f'<a href="{href}">{words}</a>' in text
    marked = re.findall(r'<a href="([^"]+)" aria-current="page">', text)
    assert marked == ([current] if current else [])
    headers = re.findall(r"<th\b[^>]*>", text)
    assert all('scope="' in h for h in headers), headers


def test_the_footer_pages_say_what_the_hub_holds(site: Site) -> None:
    privacy = site.client(None).get("/privacy").text
    assert "cookies" in privacy.lower() and "encodings" in privacy
    assert "partially compliant" in site.client(None).get("/accessibility").text


def test_the_error_summary_takes_focus(site: Site) -> None:
    client = TestClient(site.app, headers=HTML)  # type: ignore[arg-type]
    page = client.get("/sign-in").text
    r = client.post("/sign-in", data={"csrf_token": _csrf(page), "email": "", "password": ""})
    assert 'data-module="error-summary"' in r.text and 'tabindex="-1"' in r.text
    assert '<script src="/static/hub.js" defer></script>' in r.text
    script = client.get("/static/hub.js").text
    assert "error-summary" in script and ".focus()" in script
    assert r.text.count("<title>Error: ") == 1


def test_error_pages_keep_the_navigation(site: Site) -> None:
    client = site.client("analyst")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert 'aria-label="Menu"' in missing.text and "Sign out" in missing.text
    assert "Not Found" not in missing.text
    forbidden = client.get("/audit")
    assert forbidden.status_code == 403
    assert 'aria-label="Menu"' in forbidden.text
    assert "<h1>You cannot do this</h1>" in forbidden.text
    # A form from elsewhere (no session token) says so, with the navigation kept.
    expired = client.post("/linkage", data={"csrf_token": "forged"})
    assert expired.status_code == 403 and "<h1>The form has expired</h1>" in expired.text
    assert 'aria-label="Menu"' in expired.text


def test_a_forbidden_page_says_what_is_missing_in_plain_words(site: Site) -> None:
    client = site.client("analyst")
    text = client.get("/audit").text
    assert "Your role (analyst) cannot read the audit trail" in text
    assert "data protection officer" in text and "ask your organisation&#39;s admin" in text
    assert "audit.read" not in text and "refused" not in text
    # Another council's report reads as absent: nobody learns what it holds.
    other = client.get(f"/reports/{COUNCIL_B}")
    assert other.status_code == 404 and "report.read" not in other.text


# -- submissions -------------------------------------------------------------------------


def test_the_upload_form_lists_the_package_files(site: Site) -> None:
    text = site.client("submitter").get("/submissions").text
    assert "manifest.json, manifest.sig and the .parquet files the manifest lists" in text


@pytest.mark.parametrize("empty_part", [False, True], ids=["no-part", "empty-part"])
def test_an_empty_upload_shows_the_form_with_an_error_summary(site: Site, empty_part: bool) -> None:
    client = site.client("submitter")
    token = _csrf(client.get("/submissions").text)
    # A browser with nothing chosen sends one part with an empty file name.
    files = [("files", ("", b""))] if empty_part else None
    r = client.post("/submissions", data={"csrf_token": token}, files=files)
    assert r.status_code == 400
    assert "There is a problem" in r.text
    assert '<a href="#files">Choose the package files</a>' in r.text
    assert 'id="files"' in r.text and "Submit package" in r.text
    assert "body.files" not in r.text and "Field required" not in r.text


def test_a_refused_upload_starts_with_a_capital_and_names_no_flag(site: Site) -> None:
    client = site.client("submitter")
    token = _csrf(client.get("/submissions").text)
    package = site.world.packages.package(f"homelessness:{COUNCIL_A}")
    one = package / "encodings.parquet"
    r = client.post(
        "/submissions", data={"csrf_token": token}, files=[("files", (one.name, one.read_bytes()))]
    )
    assert r.status_code == 400
    message = re.search(r'<li><a href="#files">([^<]+)</a></li>', r.text)
    assert message, r.text
    assert message.group(1)[0].isupper() and " --" not in message.group(1)


def test_the_message_box_shows_only_the_hubs_own_words(site: Site, sent: dict[str, str]) -> None:
    client = site.client("submitter")
    injected = client.get("/submissions", params={"message": "Call Fraudline now"})
    assert "Fraudline" not in injected.text and 'id="message"' not in injected.text
    ok = client.get("/submissions", params={"message": "accepted", "submission": sent["long"]})
    assert f"Package accepted as submission {sent['long']}." in ok.text
    # Another organisation's submission is not named, even in a fixed message.
    other = client.get(
        "/submissions", params={"message": "accepted", "submission": sent["bristol"]}
    )
    assert sent["bristol"] not in other.text and 'id="message"' not in other.text


def test_the_overview_names_each_dataset_once(site: Site, sent: dict[str, str]) -> None:
    text = site.client("submitter").get("/").text
    assert "homelessness, homelessness" not in text
    row = re.search(r'<td data-label="Data submitted">([^<]*)</td>', text)
    assert row and row.group(1) == "homelessness"


def _long_period(site: Site) -> str:
    package = site.world.packages.package(f"homelessness:{COUNCIL_A}")
    return period_words(json.loads((package / "manifest.json").read_text())["period"])


def test_overlapping_current_periods_are_warned_about(site: Site, sent: dict[str, str]) -> None:
    text = site.client("submitter").get("/submissions").text
    assert "Two current periods overlap" in text
    assert "10 January 2019 to 31 December 2020" in text
    assert _long_period(site) in text
    assert "counted twice" in text
    # Bristol's one period overlaps nothing.
    assert "Two current periods overlap" not in site.client("b_submitter").get("/submissions").text


def test_a_submission_has_its_own_page_for_those_who_may_see_it(
    site: Site, sent: dict[str, str]
) -> None:
    listing = site.client("submitter").get("/submissions").text
    assert f'<a href="/submissions/{sent["long"]}">' in listing
    page = site.client("dpo").get(f"/submissions/{sent['long']}")
    assert page.status_code == 200
    text = page.text
    assert 'id="sent-by">Sam Submitter<' in text
    assert _long_period(site) in text
    assert "Not linked yet" in text and "Nothing: the first submission" in text
    assert "Date of birth" in text and "%" in text
    assert 'aria-current="page"' in text  # under Submissions
    for who in ("b_submitter", "central"):
        hidden = site.client(who).get(f"/submissions/{sent['long']}")
        assert hidden.status_code == 404 and "Sam Submitter" not in hidden.text
    assert site.client("operator").get(f"/submissions/{sent['long']}").status_code == 200


@pytest.fixture(scope="module")
def linked(site: Site, sent: dict[str, str]) -> dict[str, str]:
    """Bristol sends its period again (replacing the first), probation arrives, and a
    linkage run links the current submissions and releases the reports."""
    packages = site.world.packages
    again = packages.reencode(f"homelessness:{COUNCIL_B}", "bristol-again")
    newer = _upload(site.client("b_submitter"), again)
    _upload(site.client("central"), packages.package("probation:MOJ-PROBATION"))
    jobs = site.app.state.jobs  # type: ignore[attr-defined]
    jobs.start(site.app.state.hub, "test")  # type: ignore[attr-defined]
    jobs.wait()
    assert jobs.last_error is None, jobs.last_error
    # The run drafted a release; two output checkers approve it on its page.
    releases = site.client("checker1").get("/releases").text
    release_id = re.findall(r'<a href="/releases/([^"]+)">', releases)[0]
    for who in ("checker1", "checker2"):
        client = site.client(who)
        token = _csrf(client.get(f"/releases/{release_id}").text)
        r = client.post(
            f"/releases/{release_id}/decision",
            data={"csrf_token": token, "decision": "approve", "comment": "checked"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    return {**sent, "bristol_again": newer, "release": release_id}


def test_a_submission_page_says_what_it_replaced_and_which_run_linked_it(
    site: Site, linked: dict[str, str]
) -> None:
    client = site.client("b_submitter")
    newer, older = linked["bristol_again"], linked["bristol"]
    text = client.get(f"/submissions/{newer}").text
    assert f'<a href="/submissions/{older}">Submission {older}</a>' in text
    assert re.search(r'id="linked-in">Run [0-9A-Za-z_-]+, finished', text), text
    old = client.get(f"/submissions/{older}").text
    assert f'Replaced by <a href="/submissions/{newer}">' in old


def test_a_report_is_shown_inside_the_hubs_frame(site: Site, linked: dict[str, str]) -> None:
    r = site.client("analyst").get(f"/reports/{COUNCIL_A}")
    assert r.status_code == 200
    text = r.text
    assert "Birmingham City Council" in text and 'id="ind-homeless_probation_before"' in text
    assert '<a href="/reports" aria-current="page">' in text and 'class="skip-link"' in text
    assert "<style>" not in text and "<thead>" in text
    headers = re.findall(r"<th\b[^>]*>", text)
    assert headers and all('scope="' in h for h in headers), headers
    assert 'href="index.html"' not in text
    # Its CSV files are linked at their route, and download.
    link = f'href="/reports/{COUNCIL_A}/files/{COUNCIL_A}.csv"'
    assert link in text
    got = site.client("analyst").get(f"/reports/{COUNCIL_A}/files/{COUNCIL_A}.csv")
    assert got.status_code == 200 and got.text.startswith("area,indicator,period,")
    assert (
        site.client("b_submitter").get(f"/reports/{COUNCIL_A}/files/{COUNCIL_A}.csv").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("who", "first"), [("analyst", "indicators"), ("dpo", "about"), ("submitter", "summary")]
)
def test_each_role_starts_at_its_own_view(
    site: Site, linked: dict[str, str], who: str, first: str
) -> None:
    text = site.client(who).get(f"/reports/{COUNCIL_A}").text
    body = text[text.index('id="report"') :]
    sections = re.findall(r'<section\b[^>]*\bid="([a-z]+)"', body)
    assert sections[0] == first, sections
    # Nothing is hidden: every section is still there, once.
    assert sorted(sections) == sorted(
        ["summary", "indicators", "previous", "about", "glossary", "downloads"]
    )


def test_a_release_page_shows_the_two_approvals(site: Site, linked: dict[str, str]) -> None:
    text = site.client("checker1").get(f"/releases/{linked['release']}").text
    assert 'id="status">Approved' in text and "2 of" not in text.split('id="status"')[0]
    assert text.count("Approved</td>") == 2
    # The parties see no release list; a draft's pages are the hub team's only.
    assert site.client("analyst").get("/releases").status_code == 404
    assert site.client("analyst").get(f"/releases/{linked['release']}").status_code == 404


def test_a_linkage_run_from_the_page_names_its_agreement(site: Site, sent: dict[str, str]) -> None:
    client = site.client("operator")
    page = client.get("/linkage").text
    agreement = site.world.packages.trust.agreement.id
    assert f'<input type="hidden" name="agreement" value="{agreement}">' in page
    # An agreement with nothing to link is refused on the form, in words, without a flag.
    r = client.post("/linkage", data={"csrf_token": _csrf(page), "agreement": "no-such"})
    assert r.status_code == 400 and "There is a problem" in r.text
    assert "No current submission comes under agreement no-such" in r.text
    assert "--" not in r.text.split("There is a problem")[1].split("</div>")[0]


# -- the DPO's audit trail ---------------------------------------------------------------


@pytest.fixture(scope="module")
def audited(site: Site, sent: dict[str, str]) -> Site:
    hub = open_hub(site.world.home)
    with hub.sessions() as s, s.begin():
        sign_in(s, email("submitter"), "not the password")
        create_user(
            s,
            email="formula@example.gov.uk",
            name="=HYPERLINK(1)",
            organisation=COUNCIL_A,
            role="analyst",
            password=PASSWORD,
            actor="test",
        )
    with hub.sessions() as s, s.begin():
        sign_in(s, "formula@example.gov.uk", PASSWORD)
    return site


def test_the_audit_trail_shows_names_and_plain_words(audited: Site) -> None:
    page = audited.client("dpo").get("/audit").text
    text = page[page.index('<table id="audit"') : page.index("</table>")]
    assert "Sam Submitter" in text and "Sign-in failed (wrong password)" in text
    assert "Package accepted" in text and "Signed in" in text
    assert "user:" not in text and "signin.failed" not in text
    assert "submission.accepted" not in text
    assert "other organisations' entries, not deletions" in page
    assert "Chain verified" in page


def test_the_audit_trail_filters_by_action_and_date(audited: Site) -> None:
    client = audited.client("dpo")
    only = client.get("/audit", params={"action": "signin.failed"}).text
    whats = re.findall(r'<td data-label="What">([^<]+)</td>', only)
    assert whats and set(whats) == {"Sign-in failed (wrong password)"}
    later = client.get("/audit", params={"since": "2999-01-01"}).text
    assert 'id="audit-empty"' in later
    everything = client.get("/audit", params={"since": "2000-01-01", "until": "2999-12-31"}).text
    assert 'id="audit"' in everything
    wrong = client.get("/audit", params={"since": "31/03/2026"})
    assert wrong.status_code == 400 and '<a href="#since">Enter a real date' in wrong.text


def test_the_audit_trail_exports_what_the_filters_show(audited: Site) -> None:
    client = audited.client("dpo")
    page = client.get("/audit", params={"action": "signin"}).text
    assert 'href="/audit.csv?action=signin"' in page
    r = client.get("/audit.csv", params={"action": "signin"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["entry", "when (UTC)", "who", "what", "subject"]
    assert rows[1:] and {row[3] for row in rows[1:]} == {"Signed in"}
    # A name typed as a formula is not run by a spreadsheet.
    assert any(row[2] == "'=HYPERLINK(1)" for row in rows[1:])
    assert audited.client("analyst").get("/audit.csv").status_code == 403


# -- organisations ---------------------------------------------------------------------


def test_a_hub_admin_registers_a_provider_on_a_page(site: Site) -> None:
    client = site.client("admin")
    page = client.get("/organisations")
    assert page.status_code == 200
    assert 'href="/organisations" aria-current="page"' in page.text
    refused = client.post(
        "/organisations",
        data={
            "csrf_token": _csrf(page.text),
            "code": "E09000033",
            "name": "Westminster",
            "kind": "provider",
        },
    )
    assert refused.status_code == 400
    assert "There is a problem" in refused.text and "register" in refused.text
    done = client.post(
        "/organisations",
        data={
            "csrf_token": _csrf(page.text),
            "code": "provider-stmungos",
            "name": "St Mungo's",
            "kind": "provider",
        },
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "PROVIDER-STMUNGOS is registered" in done.text
    assert "St Mungo" in done.text
    # Only a registered code is named back from the address.
    assert "is registered" not in client.get("/organisations?added=<b>x</b>").text
    # Nobody else may register a body, and the page is not in their navigation.
    other = site.client("dpo")
    assert other.get("/organisations").status_code == 403
    assert 'href="/organisations"' not in other.get("/").text
