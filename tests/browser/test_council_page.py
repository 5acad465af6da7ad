"""The council page in real headless Chromium, served by the real `boldhub council`:
a data officer's whole journey, the error summary, drag and drop, and the upload limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import corpus
from tests.support.council_page import Keys, make_keys, running_council
from tests.support.server import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("council-keys"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("council-page")
    with running_council(root / "work", keys) as url:
        yield url, root / "work"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def _start(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.click("text=Choose the dataset and organisation")
    page.check("#dataset-homelessness")
    # Only the organisation the signing key is registered for, already chosen (issue 12 #14).
    assert page.locator("#organisation option:not([value=''])").count() == 1
    assert page.input_value("#organisation") == corpus.ORG
    page.select_option("#organisation", corpus.ORG)
    page.click("button:has-text('Continue')")
    page.wait_for_url(url + "/upload")


def test_a_data_officer_goes_from_export_to_saved_package(
    site: tuple[str, Path], page: Any, tmp_path: Path
) -> None:
    url, work = site
    page.goto(url + "/")
    assert page.locator("h1").inner_text() == "Prepare a submission"
    assert page.title() == "Prepare a submission – BOLD Hub"
    assert page.locator(".govuk-task-list__item").count() == 5
    assert "Cannot start yet" in page.locator("#tasks").inner_text()

    _start(page, url)
    export = corpus.write_delimited(tmp_path / "Civica export Q1.csv", "cp1252", ";")
    page.set_input_files("#export", str(export))
    page.click("button:has-text('Upload and continue')")
    page.wait_for_url(url + "/mapping")

    # The suggestion is already chosen for every field the export has.
    assert page.input_value("#field-forename") == "First Name"
    assert page.input_value("#field-dob") == "D.O.B."
    assert page.input_value("#field-nhs_number") == "NHS No"
    assert page.input_value("#field-duty_start") == ""  # not in this export
    page.fill("#save_as", "Civica quarterly")
    page.click("button:has-text('Check the data')")
    page.wait_for_url(url + "/report")

    assert page.inner_text("#rows-input") == "11"
    assert page.inner_text("#rows-accepted").startswith("7")
    assert page.inner_text("#rows-quarantined").startswith("4")
    preview = page.inner_text("#preview-table")
    assert "SEAN" in preview and "O'NEILL" in preview and "SW1A 1AA" in preview
    assert "repeats the one on row 2" in page.inner_text("#quarantine-reasons")
    assert "day first" in page.inner_text("#date-order")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    import shutil

    shutil.copy(tmp_path / "report.png", "/tmp/council-report.png")

    page.click("#continue-encode")
    page.wait_for_url(url + "/encode")
    assert page.locator("#submit").is_disabled()
    assert "not set up" in page.inner_text("#submit-unavailable")
    page.click("#save")
    page.wait_for_url(url + "/done")
    assert page.inner_text("h1") == "Package saved"
    package = Path(page.inner_text("#package-path"))
    assert package.parent == work / "packages"
    assert (package / "manifest.json").is_file()
    assert not (package / "keymap.csv").exists()

    page.goto(url + "/")
    assert page.locator("text=Completed").count() == 5
    assert (work / "profiles" / "Civica quarterly.json").is_file()


def test_a_bad_file_gets_the_error_summary_with_focus(
    site: tuple[str, Path], page: Any, tmp_path: Path
) -> None:
    url, _ = site
    _start(page, url)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    page.set_input_files("#export", str(empty))
    page.click("button:has-text('Upload and continue')")
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "There is a problem" in summary.inner_text()
    assert "empty.csv: file is empty" in summary.inner_text()
    page.wait_for_load_state("load")  # the script that moves focus runs deferred
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    assert page.title().startswith("Error:")
    page.click(".govuk-error-summary__list a")
    assert page.evaluate("document.activeElement.id") == "export"


def test_a_file_dropped_on_the_page_is_uploaded(
    site: tuple[str, Path], page: Any, tmp_path: Path
) -> None:
    url, _ = site
    _start(page, url)
    text = corpus.write_delimited(tmp_path / "dropped.csv", "utf-8", ",").read_text(
        encoding="utf-8"
    )
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "dropped.csv", {type: "text/csv"}));
            const zone = document.querySelector("[data-drop-zone]");
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }""",
        text,
    )
    assert page.evaluate("document.querySelector('#export').files[0].name") == "dropped.csv"
    page.click("button:has-text('Upload and continue')")
    page.wait_for_url(url + "/mapping")
    assert "dropped.csv" in page.inner_text(".govuk-caption-l")


@pytest.mark.parametrize("javascript", [True, False], ids=["checked-in-page", "checked-by-server"])
def test_an_export_over_the_limit_is_refused(
    keys: Keys, browser: Any, tmp_path: Path, javascript: bool
) -> None:
    with running_council(tmp_path / "work", keys, "--max-upload-mb", "1") as url:
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        _start(page, url)
        big = tmp_path / "big.csv"
        big.write_bytes(b"a,b\n" + b"x,y\n" * 600_000)
        page.set_input_files("#export", str(big))
        page.click("button:has-text('Upload and continue')")
        summary = page.locator(".govuk-error-summary")
        summary.wait_for()
        assert "must be smaller than 1 MB" in summary.inner_text()
        context.close()
    jobs = list((tmp_path / "work" / "jobs").iterdir())
    assert all(not (j / "uploads").exists() for j in jobs)


def test_a_data_officer_submits_to_the_hub_from_the_page(
    browser: Any, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from boldhub.agreements.load import signed_message
    from boldhub.hub import agreements
    from boldhub.hub.accounts import create_token, create_user
    from boldhub.hub.agreements import register
    from boldhub.hub.store import open_hub
    from boldhub.privacy.agreement import load_agreement
    from boldhub.privacy.signing import load_signing_key, sign
    from tests.support.server import running_hub

    root = tmp_path_factory.mktemp("council-to-hub")
    home = root / "hub"
    hub = open_hub(home, create=True)
    spec = load_agreement(keys.agreement)
    register(hub, spec, actor="test")
    # The council's DPO signs the (older, JSON) agreement: it is active from then on.
    signature = sign(load_signing_key(keys.signing_key), signed_message(spec.document))
    agreements.sign(hub, spec.id, corpus.ORG, signature, actor="test")
    with hub.sessions() as s, s.begin():
        user = create_user(
            s, email="officer@example.gov.uk", name="Officer", organisation=corpus.ORG,
            role="submitter", password=None, actor="test",
        )  # fmt: skip
        token = create_token(s, user, "council page")
    hub.engine.dispose()
    with (
        running_hub(home) as hub_url,
        running_council(root / "work", keys, "--hub", hub_url, "--token", token) as url,
    ):
        page = browser.new_context().new_page()
        _start(page, url)
        export = corpus.write_delimited(root / "export.csv", "utf-8", ",")
        page.set_input_files("#export", str(export))
        page.click("button:has-text('Upload and continue')")
        page.wait_for_url(url + "/mapping")
        page.click("button:has-text('Check the data')")
        page.wait_for_url(url + "/report")
        page.click("#continue-encode")
        page.wait_for_url(url + "/encode")
        assert page.locator("#submit").is_enabled()
        page.click("#submit")
        assert page.inner_text("h1") == "Package submitted"
        assert f"homelessness:{corpus.ORG}" in page.inner_text("main")
        subs = httpx.get(
            hub_url + "/api/v1/submissions", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert len(subs) == 1 and subs[0]["organisation"] == corpus.ORG
