"""'What you would get back': a council that has not joined sees a sample release, from
synthetic data, under its own name, by command and on the hub's public page."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from boldhub.config import Settings
from boldhub.hub.api.app import create_app
from boldhub.hub.store import open_hub
from boldhub.outcomes.disclosure import SUPPRESSED
from tests.support.cli import boldhub

HARTLEPOOL = "E06000001"  # not one of the synthetic population's councils
PERSONS = "600"


def test_the_sample_command_builds_a_councils_release_from_synthetic_data(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sample"
    proc = boldhub(
        "sample", "--council", HARTLEPOOL, "--out", str(out), "--persons", PERSONS, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert f"sample for {HARTLEPOOL}" in proc.stdout
    assert {p.name for p in out.iterdir()} == {
        f"{HARTLEPOOL}.html",
        f"{HARTLEPOOL}.csv",
        f"{HARTLEPOOL}-measures.csv",
        "national.html",
        "national.csv",
        "national-measures.csv",
        "index.html",
    }
    html = (out / f"{HARTLEPOOL}.html").read_text(encoding="utf-8")
    assert "Hartlepool" in html and "synthetic" in html.lower()
    with (out / f"{HARTLEPOOL}.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["area"] for r in rows} == {HARTLEPOOL}
    assert all(r["people"] == SUPPRESSED or int(r["people"]) % 5 == 0 for r in rows)


def test_an_unknown_council_is_named(tmp_path: Path) -> None:
    proc = boldhub("sample", "--council", "X99", "--out", str(tmp_path / "s"))
    assert proc.returncode == 2 or proc.returncode == 1
    assert "is not an English local authority's GSS code" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_public_page_builds_the_sample_once_and_shows_it(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    open_hub(home, create=True).engine.dispose()
    app = create_app(home, Settings(cookie_secure=False, sample_persons=int(PERSONS)))
    client = TestClient(app, headers={"Accept": "text/html"})
    form = client.get("/get-back")
    assert form.status_code == 200 and 'id="council"' in form.text
    bad = client.get("/get-back", params={"council": "nowhere"})
    assert bad.status_code == 400 and "There is a problem" in bad.text
    r = client.get("/get-back", params={"council": HARTLEPOOL}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/get-back/{HARTLEPOOL}"
    waiting = client.get(f"/get-back/{HARTLEPOOL}")
    assert waiting.status_code == 202 and 'http-equiv="refresh"' in waiting.text
    deadline = time.monotonic() + 300
    while (page := client.get(f"/get-back/{HARTLEPOOL}")).status_code == 202:
        if time.monotonic() > deadline:
            pytest.fail("the sample was not built within 5 minutes")
        time.sleep(2)
    assert page.status_code == 200, page.text[:500]
    assert "Hartlepool" in page.text and "<svg" in page.text
    assert 'class="skip-link"' in page.text  # inside the hub's frame, signed in or not
    link = f"/get-back/{HARTLEPOOL}/files/{HARTLEPOOL}.csv"
    assert f'href="{link}"' in page.text
    got = client.get(link)
    assert got.status_code == 200 and got.text.startswith("area,indicator,")
    # A second council's sample comes from the same synthetic run, at once.
    started = time.monotonic()
    other = client.get("/get-back/E06000002")
    assert other.status_code == 200 and "Middlesbrough" in other.text
    assert time.monotonic() - started < 30
