"""Every hub page, as every role that sees something different, and every council page,
checked in real headless Chromium 375 px wide: axe-core finds no serious or critical
violation, and no page is wider than the screen (no sideways scrolling)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from boldhub.config import get_settings
from boldhub.hub import releases
from boldhub.hub.accounts import principal_of, user_by_email
from boldhub.hub.ingest import ingest
from boldhub.hub.linking import options_from
from boldhub.hub.service import LinkageJobs
from boldhub.hub.store import open_hub
from tests import corpus
from tests.support.council_page import make_keys, running_council
from tests.support.hubpages import PagesWorld, email, make_world
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, PASSWORD
from tests.support.server import CHROMIUM, CHROMIUM_ARGS, running_hub

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]
WIDTH = 375
BAD = ("serious", "critical")
SHOTS = os.environ.get("BOLDHUB_A11Y_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": WIDTH, "height": 800})
    yield context.new_page()
    context.close()


# The outermost elements that reach past the window's right edge, to say what to fix.
_WIDE = """(width) => Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > width + 1
                 && e.parentElement.getBoundingClientRect().right <= width + 1)
    .slice(0, 5).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`)"""


class Checker:
    """Runs axe and the width check on each page visited; keeps every finding, so that
    one run reports them all."""

    def __init__(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.found: list[str] = []
        self.minor: list[str] = []
        self.pages: list[str] = []

    def __call__(self, page: Any, what: str) -> None:
        page.wait_for_load_state("load")
        self.pages.append(what)
        if SHOTS:  # to look at the pages as a person would
            name = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
            page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
        results = self.axe.run(page)
        self.minor.extend(v["id"] for v in results.response["violations"] if v["impact"] not in BAD)
        for v in results.response["violations"]:
            if v["impact"] in BAD:
                targets = [n["target"] for n in v["nodes"]][:3]
                self.found.append(f"{what}: {v['id']} ({v['impact']}) {v['help']} at {targets}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            wide = page.evaluate(_WIDE, WIDTH)
            self.found.append(f"{what}: {width} px wide in a {WIDTH} px window: {wide}")

    def assert_clean(self) -> None:
        assert not self.found, "\n".join(self.found)


# -- the hub -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hub_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A hub with overlapping periods, a superseded-free history and one linkage run."""
    world: PagesWorld = make_world(tmp_path_factory.mktemp("a11y-hub"))
    hub = open_hub(world.home)
    with hub.sessions() as s:
        actors = {k: f"user:{user_by_email(s, email(k)).id}" for k in ("submitter", "central")}
    packages = world.packages
    ids = {
        "long": ingest(hub, packages.package(f"homelessness:{COUNCIL_A}"), actors["submitter"]),
        "short": ingest(hub, world.short_period, actors["submitter"]),
        "bristol": ingest(hub, packages.package(f"homelessness:{COUNCIL_B}"), "cli"),
        "probation": ingest(hub, packages.package("probation:MOJ-PROBATION"), actors["central"]),
    }
    jobs = LinkageJobs(options_from(get_settings()))
    jobs.start(hub, "cli")
    jobs.wait()
    assert jobs.last_error is None, jobs.last_error
    # The run's draft release, approved by the two output checkers, so that the parties'
    # dashboards are among the pages checked.
    (draft,) = releases.releases(hub)
    with hub.sessions() as s:
        checkers = [principal_of(s, user_by_email(s, email(k))) for k in ("checker1", "checker2")]
    for checker in checkers:
        releases.decide(hub, draft.id, checker, "approve", "checked")
    hub.engine.dispose()
    with running_hub(world.home) as url:
        yield url, {**{k: r.submission_id for k, r in ids.items()}, "release": draft.id}


def _sign_in(page: Any, url: str, who: str) -> None:
    page.goto(url + "/sign-in")
    page.fill("#email", email(who))
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(url + "/")


def _hub_pages(ids: dict[str, str]) -> dict[str, list[str]]:
    long = f"/submissions/{ids['long']}"
    return {
        "submitter": ["/", "/submissions", long, "/reports", "/audit", "/no-such-page"],
        "dpo": [
            "/", "/audit", "/audit?action=signin", "/audit?since=not-a-date", long,
            "/reports", f"/reports/{COUNCIL_A}", "/reports/national",
        ],
        "analyst": ["/", "/submissions", "/reports", f"/reports/{COUNCIL_A}", "/linkage"],
        "operator": ["/", "/linkage", "/submissions", f"/submissions/{ids['bristol']}"],
        "admin": ["/", "/linkage", "/submissions", "/audit", "/reports", "/organisations"],
        "checker1": [
            "/releases", f"/releases/{ids['release']}",
            f"/releases/{ids['release']}/areas/{COUNCIL_A}", "/reports/national",
        ],
    }  # fmt: skip


@pytest.mark.parametrize("who", ["submitter", "dpo", "analyst", "operator", "admin", "checker1"])
def test_every_hub_page_for_each_role(
    hub_site: tuple[str, dict[str, str]], page: Any, who: str
) -> None:
    url, ids = hub_site
    check = Checker()
    _sign_in(page, url, who)
    for path in _hub_pages(ids)[who]:
        page.goto(url + path)
        check(page, f"{who} {path}")
    if who == "submitter":
        # The upload form with its error summary, and the message after an upload.
        page.goto(url + "/submissions")
        page.click("button:has-text('Submit package')")
        assert "Choose the package files" in page.inner_text(".error-summary")
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        check(page, "submitter empty upload")
        page.goto(url + f"/submissions?message=already&submission={ids['long']}")
        assert page.locator("#message").is_visible()
        check(page, "submitter message")
    check.assert_clean()


def test_every_hub_page_signed_out(hub_site: tuple[str, dict[str, str]], page: Any) -> None:
    url, _ = hub_site
    check = Checker()
    for path in (
        "/sign-in",
        "/privacy",
        "/accessibility",
        "/contact",
        "/no-such-page",
        "/get-back",
        "/get-back?council=nowhere",
    ):
        page.goto(url + path)
        check(page, f"signed out {path}")
    page.goto(url + "/sign-in")
    page.fill("#email", email("dpo"))
    page.click("button:has-text('Sign in')")
    assert page.locator(".error-summary").is_visible()
    check(page, "signed out sign-in error")
    # The skip link is the first thing a keyboard reaches, and it moves to the content.
    page.goto(url + "/privacy")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    check.assert_clean()


# -- the council page --------------------------------------------------------------------


@pytest.fixture(scope="module")
def council_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("a11y-council")
    keys = make_keys(root / "keys")
    with running_council(root / "work", keys) as url:
        yield url


def _council_journey(page: Any, url: str, check: Callable[[Any, str], None], xlsx: Path) -> None:
    page.goto(url + "/")
    check(page, "task list")
    page.click("text=Choose the dataset and organisation")
    check(page, "dataset")
    page.click("button:has-text('Continue')")
    page.locator(".govuk-error-summary").wait_for()
    check(page, "dataset error summary")
    page.check("#dataset-homelessness")
    page.select_option("#organisation", corpus.ORG)
    page.click("button:has-text('Continue')")
    page.wait_for_url(url + "/upload")
    check(page, "upload")
    empty = xlsx.with_name("empty.csv")
    empty.write_bytes(b"")
    page.set_input_files("#export", str(empty))
    page.click("button:has-text('Upload and continue')")
    page.locator(".govuk-error-summary").wait_for()
    check(page, "upload error summary")
    page.set_input_files("#export", str(xlsx))
    page.click("button:has-text('Upload and continue')")
    page.wait_for_url(url + "/sheet")
    check(page, "sheet")
    page.check("text=Cases")
    page.click("button:has-text('Continue')")
    page.wait_for_url(url + "/mapping")
    check(page, "mapping")
    page.click("button:has-text('Check the data')")
    page.wait_for_url(url + "/report")
    check(page, "report")
    page.click("#continue-encode")
    page.wait_for_url(url + "/encode")
    check(page, "encode")
    page.click("#save")
    page.wait_for_url(url + "/done")
    check(page, "done")
    page.goto(url + "/")
    check(page, "task list, all done")


def test_every_council_page(council_site: str, page: Any, tmp_path: Path) -> None:
    url = council_site
    check = Checker()
    _council_journey(page, url, check, corpus.write_xlsx(tmp_path / "export.xlsx"))
    # A form that did not come from the page: the forbidden page.
    page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "post"; form.action = "/restart";
            const token = document.createElement("input");
            token.name = "csrf_token"; token.value = "forged";
            form.appendChild(token); document.body.appendChild(form); form.submit();
        }"""
    )
    page.wait_for_url(url + "/restart")
    assert "The form has expired" in page.inner_text("h1")
    check(page, "forbidden")
    check.assert_clean()
