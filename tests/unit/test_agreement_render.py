"""An agreement rendered as documents people read: the agreement, the DPIA, the
Appropriate Policy Document outline and the register entry.

The four pages of a fixed agreement are compared with snapshots in
``snapshots/agreements``; after an intended change, regenerate them with
``BOLDHUB_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/test_agreement_render.py`` and
review the diff. The other tests check what the pages must say whatever their layout.
"""

from __future__ import annotations

import copy
import difflib
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from boldhub.agreements.catalogue import catalogue
from boldhub.agreements.draft import Answers, PartyAnswer, draft
from boldhub.agreements.load import dump_yaml, load_text
from boldhub.agreements.model import AgreementDoc
from boldhub.agreements.render import (
    DOCUMENTS,
    agreement_html,
    apd_html,
    dpia_html,
    register_entry_html,
)
from boldhub.agreements.validate import check
from boldhub.cli.main import app
from boldhub.errors import UserError

SNAPSHOTS = Path(__file__).parent / "snapshots" / "agreements"
UPDATE = os.environ.get("BOLDHUB_UPDATE_SNAPSHOTS") == "1"


def _key(letter: str) -> str:
    return "ed25519:" + letter * 43 + "="


PARTIES = (
    PartyAnswer(
        "E08000025",
        _key("A"),
        ("homelessness",),
        dpo_name="Asha Patel",
        dpo_email="dpo@birmingham.example",
    ),
    PartyAnswer("E06000023", _key("B"), ("homelessness",)),
    PartyAnswer("E07000178", _key("C"), ("homelessness",)),
    PartyAnswer(
        "MOJ-PROBATION",
        _key("D"),
        ("probation",),
        name="HM Prison and Probation Service",
        dpo_name="Data Protection Officer",
        dpo_email="dpo@justice.example",
    ),
    PartyAnswer("DHSC-NDTMS", _key("E"), ("treatment",), name="Office for Health Improvement"),
    PartyAnswer("MOJ-VICTIMS", _key("F"), ("victims",), name="Ministry of Justice victims"),
)
STATUS = {
    "word": "draft",
    "signed": ["E08000025", "MOJ-PROBATION"],
    "missing": ["DHSC-NDTMS", "E06000023", "E07000178", "MOJ-VICTIMS"],
    "reason": "waiting for the signatures of DHSC-NDTMS, E06000023, E07000178, MOJ-VICTIMS",
}
LOCK_WORDS = (
    "No immigration enforcement",
    "No benefit-fraud detection",
    "No individual risk scoring",
    "No record-level release",
)


def _data(**changes: Any) -> dict[str, Any]:
    data = draft(Answers("bold-demo", "BOLD Hub demonstration", "0123456789abcdef" * 2, PARTIES))
    data.update(changes)
    return data


def _doc(**changes: Any) -> AgreementDoc:
    return AgreementDoc.model_validate(_data(**changes))


def _snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(
            f"no snapshot {path.name}: run BOLDHUB_UPDATE_SNAPSHOTS=1 .venv/bin/pytest "
            "tests/unit/test_agreement_render.py to write it, then review it",
            pytrace=False,
        )
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"snapshots/agreements/{name}",
                f"rendered {name}",
                n=2,
            )
        )
        shown = diff if len(diff) < 8000 else diff[:8000] + "\n... (diff cut)\n"
        pytest.fail(
            f"{name} differs from its snapshot. If the change is intended, run "
            "BOLDHUB_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/test_agreement_render.py "
            f"and review the diff:\n{shown}",
            pytrace=False,
        )


class _Outline(HTMLParser):
    """Heading levels, table header cells without scope, and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.unscoped: int = 0
        self.tags: set[str] = set()
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "html":
            self.html_lang = dict(attrs).get("lang")
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))
        if tag == "th" and "scope" not in dict(attrs):
            self.unscoped += 1


def test_fixture_is_a_valid_agreement() -> None:
    doc, problems = check(load_text(dump_yaml(_data()), "demo.yaml"))
    assert problems == []
    assert doc == _doc()


@pytest.mark.parametrize(("name", "make"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_documents_match_their_snapshots(name: str, make: Any) -> None:
    status = STATUS if name == "agreement.html" else None
    _snapshot(name, make(_doc(), status))


@pytest.mark.parametrize(("name", "make"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_documents_are_standalone_accessible_and_printable(name: str, make: Any) -> None:
    html = make(_doc())
    assert html == make(_doc())  # deterministic
    assert html.startswith("<!DOCTYPE html>")
    for outside in ("<script", "<link", "src=", "url(", "@import", "http://", "https://"):
        assert outside not in html, f"{name} has {outside}"
    assert "@media print" in html
    assert "size: A4" in html
    assert "break-before: page" in html
    outline = _Outline()
    outline.feed(html)
    assert outline.html_lang == "en-GB"
    assert outline.headings.count(1) == 1
    assert outline.headings[0] == 1
    for before, after in zip(outline.headings, outline.headings[1:], strict=False):
        assert after <= before + 1, f"{name}: h{before} followed by h{after}"
    assert outline.unscoped == 0, f"{name}: a <th> without scope"
    assert "script" not in outline.tags


def test_agreement_cites_each_partys_lawful_basis_in_full() -> None:
    doc = _doc()
    html = agreement_html(doc)
    for party in doc.parties:
        basis = party.lawful_basis
        assert basis is not None
        ids = [basis.article_6, basis.article_9, basis.schedule_1, basis.article_10]
        for entry_id in filter(None, ids):
            entry = catalogue()[entry_id]
            for text in (entry.title, entry.citation, entry.plain):
                assert str(escape(text)) in html, (party.organisation, entry_id)
        assert str(escape(basis.law)) in html
        for supply in party.supplies:
            for name in supply.fields:
                assert f"<code>{name}</code>" in html
    assert "Asha Patel" in html
    assert "dpo@justice.example" in html
    assert "Joint controller" in html
    assert "Processor" in html


def test_agreement_says_the_purpose_locks_in_plain_words() -> None:
    html = agreement_html(_doc())
    for words in LOCK_WORDS:
        assert words in html
    assert "does <strong>not</strong> set" not in html
    unlocked = agreement_html(_doc(purpose_locks=["no_record_level_release"]))
    assert "does <strong>not</strong> set these purpose locks: No immigration" in unlocked


def test_agreement_explains_disclosure_retention_reciprocity_and_dates() -> None:
    html = agreement_html(_doc(outputs={"disclosure_threshold": 20}))
    assert "A count under 20" in html
    assert "rounded to the nearest 5" in html
    assert "730 days (about 2 years)" in html
    assert "2555 days (about 7 years)" in html
    assert "<code>boldhub retention run</code>" in html
    assert "after each quarterly linkage run" in html
    assert "1 January 2026" in html
    assert "1 January 2027" in html
    assert "31 December 2028" in html
    assert "Only records whose field" in html


def test_agreement_signatures_come_from_the_status() -> None:
    signed = agreement_html(_doc(), STATUS)
    assert "<td>Signed</td>" in signed
    assert "<td>Missing</td>" in signed
    assert "draft (waiting for the signatures of" in signed
    unsigned = agreement_html(_doc())
    assert "No signature status was given" in unsigned
    assert "<td>Signed</td>" not in unsigned


def test_dpia_names_the_ico_high_risk_criterion_and_leaves_judgements_open() -> None:
    html = dpia_html(_doc())
    assert "Combining, comparing or matching personal data obtained from multiple sources" in html
    assert "ICO's list of processing likely to result in high risk" in html
    for step in range(1, 8):
        assert f"Step {step}:" in html
    assert html.count("To complete") >= 8
    assert "Likelihood" in html and "Severity" in html
    for measure in ("keyed function", "stored apart", "Counts under 10", "audit trail"):
        assert measure in html
    for words in LOCK_WORDS:
        assert words in html
    # A missing lock is said, and leaves the risk high.
    unlocked = dpia_html(_doc(purpose_locks=[]))
    assert "NOT SET in this agreement" in unlocked
    assert "High until the missing locks are added" in unlocked


def test_apd_covers_only_parties_with_special_category_or_criminal_conditions() -> None:
    html = apd_html(_doc())
    # Every demo party supplies special category or criminal offence data (the victims'
    # abuse flags and offence category included).
    for code in (
        "E08000025", "E06000023", "E07000178", "MOJ-PROBATION", "DHSC-NDTMS", "MOJ-VICTIMS"
    ):  # fmt: skip
        assert f'id="party-{code}"' in html
    assert "Schedule 1 Part 2 paragraph 6" in html
    assert "Schedule 1 Part 2 paragraph 5" in html
    for principle in (
        "Lawfulness, fairness and transparency",
        "Purpose limitation",
        "Data minimisation",
        "Accuracy",
        "Storage limitation",
        "Security",
    ):
        assert f"<h3>{principle}" in html
    assert "730 days (about 2 years)" in html

    # A victims' service that sends none of the sensitive fields cites no condition.
    plain = copy.deepcopy(_data()["parties"][-1])
    plain["supplies"][0]["fields"] = ["forename", "surname", "dob", "sex", "referral_date"]
    plain["lawful_basis"] = {
        "article_6": "art6_1_e_public_task",
        "law": "Domestic Abuse Act 2021 Part 4, s57",
    }
    victims_only = _doc(parties=[plain])
    none_needed = apd_html(victims_only)
    assert 'id="party-' not in none_needed
    assert "no Appropriate Policy Document is needed" in none_needed


def test_register_entry_lists_parties_purpose_bases_dates_retention_and_outputs() -> None:
    doc = _doc()
    html = register_entry_html(doc)
    for party in doc.parties:
        assert f"<code>{party.organisation}</code>" in html
    assert str(escape(doc.purpose)) in html
    assert "Public task (UK GDPR Article 6(1)(e); DPA 2018 s8)" in html
    for when in ("1 January 2026", "1 January 2027", "31 December 2028"):
        assert when in html
    assert "Keyed encodings: 730 days" in html
    assert "Counts under 10 are suppressed" in html


def test_text_from_the_file_is_escaped() -> None:
    doc = _doc(title="<b>Bold</b> & co", purpose="Plan <script>alert(1)</script> services")
    for _, make in DOCUMENTS:
        html = make(doc)
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in html
        assert "<b>Bold" not in html
        assert "<script" not in html


def test_cli_renders_the_four_documents(tmp_path: Path) -> None:
    file = tmp_path / "demo.yaml"
    file.write_text(dump_yaml(_data()), encoding="utf-8")
    out = tmp_path / "docs"
    result = CliRunner().invoke(app, ["agreement", "render", str(file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = [name for name, _ in DOCUMENTS]
    assert result.stdout.splitlines() == [f"wrote {name}" for name in names]
    assert str(tmp_path) not in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    for name, make in DOCUMENTS:
        assert (out / name).read_text(encoding="utf-8") == make(_doc())


def test_cli_render_lists_the_problems_of_a_bad_file(tmp_path: Path) -> None:
    bad = _data()
    bad["retension"] = 1
    del bad["purpose"]
    file = tmp_path / "bad.yaml"
    file.write_text(dump_yaml(bad), encoding="utf-8")
    out = tmp_path / "docs"
    result = CliRunner().invoke(app, ["agreement", "render", str(file), "--out", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any("retension" in line for line in lines)
    assert any(": purpose: is missing" in line for line in lines)
    assert all(line.startswith(f"{file}:") for line in lines)
    assert not out.exists()

    file.write_text("schema_version: 2\nid: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["agreement", "render", str(file), "--out", str(out)])
    assert result.exit_code == 2
    assert "YAML syntax error" in result.stderr


def test_cli_catalogue_lists_entries_explained(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["agreement", "catalogue"])
    assert result.exit_code == 0, result.output
    for entry in catalogue().values():
        assert f"{entry.id} ({entry.kind}): {entry.title}" in result.stdout
        assert entry.citation in result.stdout
        assert entry.plain in result.stdout

    law = CliRunner().invoke(app, ["agreement", "catalogue", "--kind", "law"])
    assert law.exit_code == 0
    assert "law_housing_act_1996_s179 (law)" in law.stdout
    assert "art6_1_e_public_task" not in law.stdout

    wrong = CliRunner().invoke(app, ["agreement", "catalogue", "--kind", "article_99"])
    assert isinstance(wrong.exception, UserError)
    assert "use one of: article_6, article_9, schedule_1, law" in str(wrong.exception)
