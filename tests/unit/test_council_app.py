"""The council page in-process: the flow, CSRF, Host checks, upload limits and error summaries.

The same page in a real browser is tested in tests/browser/test_council_page.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from boldhub.council.submit import SubmissionReceipt
from boldhub.council.web.app import CouncilSettings, create_app
from boldhub.privacy.agreement import load_agreement
from boldhub.privacy.signing import create_signing_key, load_signing_key
from tests import corpus
from tests.support.cli import assert_one_line_error, boldhub
from tests.support.council_page import make_keys

URL = "http://127.0.0.1:8765"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    keys = make_keys(tmp_path / "keys")
    write, fingerprint = keys.writer()
    app = create_app(CouncilSettings(tmp_path / "work", write, fingerprint, 256 * 1024))
    with TestClient(app, base_url=URL) as c:
        yield c


def _csrf(client: TestClient, path: str = "/dataset") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def _errors(html: str) -> list[str]:
    summary = re.search(r'class="govuk-error-summary".*?</ul>', html, re.S)
    return re.findall(r'<li><a href="#[^"]+">([^<]+)</a></li>', summary.group(0)) if summary else []


def _choose_homelessness(client: TestClient, token: str) -> None:
    r = client.post(
        "/dataset",
        data={"csrf_token": token, "dataset": "homelessness", "organisation": corpus.ORG},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/upload"


def _selected(html: str) -> dict[str, str]:
    out = {}
    for name, body in re.findall(
        r'<select class="govuk-select" id="(field-[a-z_]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        out[name] = chosen.group(1) if chosen else ""
    return out


def test_the_whole_flow_saves_a_package(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLDHUB_NOW", corpus.TODAY)
    token = _csrf(client)
    _choose_homelessness(client, token)
    export = corpus.write_delimited(tmp_path / "civica.csv", "cp1252", ";")
    r = client.post(
        "/upload",
        data={"csrf_token": token},
        files={"export": ("civica.csv", export.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/mapping"
    page = client.get("/mapping").text
    selected = _selected(page)
    assert selected["field-forename"] == "First Name" and selected["field-dob"] == "D.O.B."
    r = client.post(
        "/mapping",
        data={"csrf_token": token, "date_order": "auto", "save_as": "civica", **selected},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/report"
    report = client.get("/report").text
    assert re.search(r'id="rows-input">11<', report)
    assert re.search(r'id="rows-quarantined">4', report)
    assert "SEAN" in report  # the preview shows the first rows as mapped, on this machine
    assert (tmp_path / "work" / "profiles" / "civica.json").is_file()
    quarantine = client.get("/files/quarantine.csv")
    assert quarantine.status_code == 200 and quarantine.text.startswith(
        "row_number,Case Ref,reasons"
    )
    r = client.post("/encode", data={"csrf_token": token, "action": "save"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/done"
    done = client.get("/done").text
    package = Path(re.search(r'id="package-path">([^<]+)<', done).group(1))  # type: ignore[union-attr]
    assert package.parent == tmp_path / "work" / "packages"
    assert sorted(p.name for p in package.iterdir()) >= [
        "attributes.parquet",
        "encodings.parquet",
        "manifest.json",
    ]
    assert "keymap.csv" in done
    index = client.get("/").text
    assert index.count("Completed") == 5


def test_submitting_says_plainly_it_is_not_available(client: TestClient, tmp_path: Path) -> None:
    token = _csrf(client)
    _choose_homelessness(client, token)
    export = corpus.write_delimited(tmp_path / "e.csv", "utf-8", ",")
    client.post(
        "/upload", data={"csrf_token": token}, files={"export": ("e.csv", export.read_bytes())}
    )
    selected = _selected(client.get("/mapping").text)
    client.post("/mapping", data={"csrf_token": token, **selected})
    page = client.get("/encode").text
    assert re.search(r'id="submit"[^>]*disabled', page)
    r = client.post("/encode", data={"csrf_token": token, "action": "submit"})
    assert r.status_code == 400 and "not set up" in _errors(r.text)[0]
    assert not any((tmp_path / "work" / "packages").iterdir())


def test_posts_without_the_sessions_token_are_refused(client: TestClient) -> None:
    _csrf(client)
    r = client.post("/dataset", data={"csrf_token": "guess", "dataset": "homelessness"})
    assert r.status_code == 403 and "The form has expired" in r.text
    r = client.post("/dataset", data={"dataset": "homelessness"})
    assert r.status_code == 403


def test_another_sites_host_is_refused(client: TestClient) -> None:
    """DNS rebinding: a page elsewhere pointing its own name at 127.0.0.1 gets nothing."""
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_security_headers(client: TestClient) -> None:
    r = client.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_an_unreadable_upload_shows_the_error_summary_and_keeps_nothing(
    client: TestClient, tmp_path: Path
) -> None:
    token = _csrf(client)
    _choose_homelessness(client, token)
    r = client.post("/upload", data={"csrf_token": token}, files={"export": ("empty.csv", b"")})
    assert r.status_code == 400
    assert _errors(r.text) == ["empty.csv: file is empty; export the data again"]
    r = client.post("/upload", data={"csrf_token": token})
    assert _errors(r.text) == ["Select the export file"]
    jobs = list((tmp_path / "work" / "jobs").iterdir())
    assert all(not (j / "uploads").exists() and not (j / "uploads.partial").exists() for j in jobs)
    assert not list((tmp_path / "work" / "jobs").rglob("*.csv"))


def test_an_upload_over_the_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    token = _csrf(client)
    _choose_homelessness(client, token)
    big = b"a,b\n" + b"x,y\n" * 200_000
    r = client.post("/upload", data={"csrf_token": token}, files={"export": ("big.csv", big)})
    assert r.status_code == 413
    assert _errors(r.text) == ["The selected file must be smaller than 256 KB"]


def test_mapping_errors_name_each_field(client: TestClient, tmp_path: Path) -> None:
    token = _csrf(client)
    _choose_homelessness(client, token)
    export = corpus.write_delimited(tmp_path / "e.csv", "utf-8", ",")
    client.post(
        "/upload", data={"csrf_token": token}, files={"export": ("e.csv", export.read_bytes())}
    )
    selected = _selected(client.get("/mapping").text)
    selected["field-dob"] = ""
    selected["field-surname"] = selected["field-forename"]
    r = client.post("/mapping", data={"csrf_token": token, "save_as": "../x", **selected})
    assert r.status_code == 400
    errors = _errors(r.text)
    assert any("already used for Forename" in e for e in errors)
    assert any("Date of birth is required" in e for e in errors)
    assert any("cannot name a mapping profile" in e for e in errors)
    assert 'href="#field-dob"' in r.text


def test_the_wrong_organisation_for_a_dataset_is_an_error(client: TestClient) -> None:
    token = _csrf(client)
    r = client.post(
        "/dataset",
        data={"csrf_token": token, "dataset": "homelessness", "organisation": "MOJ-PROBATION"},
    )
    assert r.status_code == 400
    assert _errors(r.text) == [
        "MOJ-PROBATION is not a council; homelessness exports come from councils"
    ]
    r = client.post("/dataset", data={"csrf_token": token})
    assert _errors(r.text) == ["Select the dataset the export holds"]


def test_unknown_files_are_not_served(client: TestClient) -> None:
    assert client.get("/files/prepared.parquet").status_code == 404
    assert client.get("/files/..%2Fmeta.json").status_code == 404


class RecordingHub:
    """A hub client that is available and records what the page hands it."""

    def __init__(self) -> None:
        self.submitted: list[Path] = []

    def available(self) -> bool:
        return True

    def submit(self, package: Path) -> SubmissionReceipt:
        self.submitted.append(package)
        return SubmissionReceipt("S1", f"homelessness:{corpus.ORG}", 7, True)


def test_a_package_folder_holding_a_stray_file_is_not_submitted(tmp_path: Path) -> None:
    """Issue 12 #1: the page refuses, before the client gets it, a folder holding more than
    the signed package (here the clear-text export), and says what to do."""
    keys = make_keys(tmp_path / "keys")
    write, fingerprint = keys.writer()
    hub = RecordingHub()
    app = create_app(CouncilSettings(tmp_path / "work", write, fingerprint, 256 * 1024), hub)
    with TestClient(app, base_url=URL) as client:
        token = _csrf(client)
        _choose_homelessness(client, token)
        export = corpus.write_delimited(tmp_path / "e.csv", "utf-8", ",")
        client.post(
            "/upload", data={"csrf_token": token}, files={"export": ("e.csv", export.read_bytes())}
        )
        client.post(
            "/mapping", data={"csrf_token": token, **_selected(client.get("/mapping").text)}
        )
        client.post("/encode", data={"csrf_token": token, "action": "save"})
        (package,) = (tmp_path / "work" / "packages").iterdir()
        (package / "e.csv").write_bytes(export.read_bytes())
        r = client.post("/encode", data={"csrf_token": token, "action": "submit"})
        assert r.status_code == 400
        (error,) = _errors(r.text)
        assert "e.csv" in error and "does not list" in error and "move it out" in error
        assert str(tmp_path) not in r.text.split("<main", 1)[1]
        assert hub.submitted == []
        (package / "e.csv").unlink()
        r = client.post("/encode", data={"csrf_token": token, "action": "submit"})
        assert r.status_code == 200 and hub.submitted == [package]


def _field_row(report: str, field: str) -> str:
    match = re.search(rf'<tr data-field="{field}">(.*?)</tr>', report, re.S)
    assert match, field
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_the_report_says_what_happened_to_rows_with_a_problem(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 #15: a field whose bad values are cleared is not called required, and each
    problem says what became of the row; warnings are listed in warnings.csv."""
    monkeypatch.setenv("BOLDHUB_NOW", corpus.TODAY)
    token = _csrf(client)
    _choose_homelessness(client, token)
    export = corpus.write_delimited(tmp_path / "e.csv", "utf-8", ",")
    client.post(
        "/upload", data={"csrf_token": token}, files={"export": ("e.csv", export.read_bytes())}
    )
    client.post("/mapping", data={"csrf_token": token, **_selected(client.get("/mapping").text)})
    report = client.get("/report").text
    dob = _field_row(report, "dob")
    assert "required" not in dob
    assert "is not a real calendar date: 1 (the value is cleared; the row is kept)" in dob
    postcode = _field_row(report, "postcode")
    assert "is not a valid UK postcode: 1 (the value is cleared; the row is kept)" in postcode
    applied = _field_row(report, "application_date")
    assert "required" in applied and "is empty but required: 1 (the row is quarantined)" in applied
    warnings = client.get("/files/warnings.csv")
    assert warnings.status_code == 200
    assert warnings.text.splitlines()[0] == "row_number,field,reason"
    assert 'href="/files/warnings.csv"' in report


def test_page_titles_name_the_service_once(client: TestClient) -> None:
    """Issue 12 #14: the task list is the service's page; its title does not repeat it."""
    title = re.compile(r"<title>(.*?)</title>", re.S)
    assert title.findall(client.get("/").text) == ["Prepare a submission – BOLD Hub"]
    assert title.findall(client.get("/dataset").text) == [
        "Which dataset is in the export? – Prepare a submission – BOLD Hub"
    ]


def test_the_page_offers_only_the_organisations_its_signing_key_is_for(tmp_path: Path) -> None:
    """Issue 12 #14: not every organisation in the register, only the user's own (the
    agreement's parties that registered the page's signing key)."""
    from boldhub.council.encode import signing_organisations

    keys = make_keys(tmp_path / "keys")
    spec = load_agreement(keys.agreement)
    assert signing_organisations(spec, load_signing_key(keys.signing_key)) == (corpus.ORG,)
    assert signing_organisations(spec, create_signing_key(tmp_path / "other.key")) == ()
    write, fingerprint = keys.writer()
    settings = CouncilSettings(tmp_path / "work", write, fingerprint, 256 * 1024, (corpus.ORG,))
    with TestClient(create_app(settings), base_url=URL) as client:
        page = client.get("/dataset").text
        options = re.findall(r'<option value="([^"]+)"( selected)?>', page)
        assert options == [(corpus.ORG, " selected")]
        token = _csrf(client)
        r = client.post(
            "/dataset",
            data={"csrf_token": token, "dataset": "homelessness", "organisation": "E06000023"},
        )
        assert r.status_code == 400
        assert _errors(r.text) == ["Select your organisation from the list"]
        r = client.post(
            "/dataset",
            data={"csrf_token": token, "dataset": "homelessness"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/upload"
        assert f"Homelessness case (after H-CLIC), {corpus.ORG}" in client.get("/").text


def test_a_signing_key_no_party_registered_stops_the_page_at_the_start(tmp_path: Path) -> None:
    keys = make_keys(tmp_path / "keys")
    create_signing_key(tmp_path / "someone-else.key")
    args = keys.args()
    args[args.index("--signing-key") + 1] = str(tmp_path / "someone-else.key")
    proc = boldhub("council", *args, "--workdir", str(tmp_path / "work"), "--no-open")
    assert_one_line_error(proc, "someone-else.key is not the signing key of any party")
