"""The wizard's questions and answers: answers make a valid draft, each wrong answer is
named in plain words, and `boldhub agreement new` drafts from a prompt or a JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from boldhub.agreements import wizard
from boldhub.agreements.draft import DEFAULT_PURPOSE
from boldhub.agreements.load import Problem, load_path, load_text
from boldhub.agreements.validate import check
from boldhub.cli import agreement_new
from boldhub.privacy.signing import public_key_text

COUNCIL = "E08000025"
FINGERPRINT = "0123456789abcdef0123456789abcdef"


def public_key() -> str:
    return public_key_text(Ed25519PrivateKey.generate().public_key())


def answers(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "bold-pilot-2027",
        "title": "Homelessness and probation in Birmingham",
        "organisation": COUNCIL,
        "datasets": ["homelessness"],
        "signing_key": public_key(),
        "parties": [
            {"organisation": "MOJ-PROBATION", "dataset": "probation", "signing_key": public_key()}
        ],
        "linkage_key_fingerprint": FINGERPRINT,
        "start": "2027-04-01",
        "years": 3,
    }
    return {**base, **changes}


def test_every_question_is_plain_and_of_a_known_kind() -> None:
    keys = [q.key for q in wizard.QUESTIONS]
    assert len(keys) == len(set(keys))
    for q in wizard.QUESTIONS:
        assert q.kind in ("text", "choice", "multi", "parties")
        assert q.prompt and q.help
        assert bool(q.choices) == (q.kind in ("choice", "multi"))
    assert {"id", "title", "organisation", "role", "parties", "purpose", "benefits"} <= set(keys)


def test_answers_make_a_valid_draft() -> None:
    result = wizard.run(answers(dpo_name="Dana", dpo_email="dpo@birmingham.gov.uk"))
    assert result.problems == [] and result.ok
    assert result.document is not None
    doc = result.document
    assert [p["organisation"] for p in doc["parties"]] == [COUNCIL, "MOJ-PROBATION"]
    assert doc["dates"] == {"start": "2027-04-01", "review": "2028-04-01", "expiry": "2030-03-31"}
    assert doc["purpose"] == DEFAULT_PURPOSE
    assert doc["parties"][0]["dpo"] == {"name": "Dana", "email": "dpo@birmingham.gov.uk"}
    # The YAML it offers is the document, and passes every check.

    loaded = load_text(result.yaml, "draft.yaml")
    assert loaded.data == doc
    assert check(loaded)[1] == []


def test_suggestions_explain_each_basis_with_its_citation() -> None:
    result = wizard.run(answers())
    council, probation = result.suggestions
    assert council.name == "Birmingham City Council"
    words = dict(council.entries)
    assert words["Lawful basis (UK GDPR Article 6)"].citation.startswith("UK GDPR Article 6(1)(e)")
    assert all(e.plain and e.citation and e.title for _, e in council.entries)
    assert any(w == wizard.LAW_WORDS for w, _ in probation.entries)


def test_form_text_is_normalised() -> None:
    raw = answers(
        organisation=" e08000025 ",
        datasets="homelessness, treatment",
        benefits="One\r\n\r\nTwo",
        purpose="Our own words",
        parties=[
            {"organisation": "moj-probation", "dataset": "Probation", "signing_key": public_key()},
            {"organisation": "", "dataset": "", "signing_key": ""},
        ],
    )
    result = wizard.run(raw)
    assert result.ok, result.problems
    assert result.answers["datasets"] == ["homelessness", "treatment"]
    assert len(result.answers["parties"]) == 1
    assert result.document is not None
    assert result.document["benefits"] == ["One", "Two"]
    assert result.document["purpose"] == "Our own words"


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"id": "Bad Name"}, "id", "lower-case"),
        ({"title": ""}, "title", "Enter the agreement's title"),
        ({"organisation": "E99"}, "organisation", "unknown organisation code"),
        ({"datasets": []}, "datasets", "at least one dataset"),
        ({"signing_key": "ed25519:nope"}, "signing_key", "boldhub keys public"),
        ({"linkage_key_fingerprint": "abc"}, "linkage_key_fingerprint", "32 letters"),
        ({"start": "2027-13-01"}, "start", "real date"),
        ({"start": "2028-02-29"}, "start", "29 February"),
        ({"years": "0"}, "years", "from 1 to 10"),
        ({"dpo_email": "not an email"}, "dpo_email", "email address"),
        (
            {"parties": [{"organisation": COUNCIL, "dataset": "x", "signing_key": ""}]},
            "party-1-organisation",
            "already a party",
        ),
        (
            {"parties": [{"organisation": "MOJ-PROBATION", "dataset": "", "signing_key": ""}]},
            "party-1-dataset",
            "Choose the dataset",
        ),
    ],
)
def test_each_wrong_answer_is_named(changes: dict[str, Any], key: str, words: str) -> None:
    result = wizard.run(answers(**changes))
    assert not result.ok and result.document is None
    found = dict(result.problems)
    assert key in found, result.problems
    assert words.lower() in found[key].lower()


def test_problems_in_the_draft_map_back_to_questions() -> None:

    assert wizard.key_of(Problem("f", 1, "parties[0].signing_key", "x")) == "signing_key"
    assert wizard.key_of(Problem("f", 1, "parties[2].supplies[0].dataset", "x")) == (
        "party-2-dataset"
    )
    assert wizard.key_of(Problem("f", 1, "dates.expiry", "x")) == "start"
    assert wizard.key_of(Problem("f", 1, "title", "x")) == "title"


# -- the command line ---------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    agreement_new.register(app)

    @app.callback()
    def _group() -> None:
        """A group, so that the command is called by its name as under `boldhub agreement`."""

    return app


def test_new_asks_at_the_prompt(tmp_path: Path) -> None:
    out = tmp_path / "agreement.yaml"
    lines = [
        "bold-pilot-2027",  # id
        "Homelessness and probation",  # title
        "e08000025",  # organisation
        "",  # role: the default
        "1",  # datasets: by number (homelessness)
        "not a key",  # asked again ...
        public_key(),  # ... until it is a key
        "",  # DPO name
        "",  # DPO email
        "MOJ-PROBATION",  # another party
        "",  # its dataset: the usual one (probation)
        public_key(),
        "",  # no more parties
        "",  # purpose: the suggestion
        "",  # benefits: the suggestion
        FINGERPRINT,
        "2027-04-01",
        "3",
    ]
    r = CliRunner().invoke(cli(), ["new", "--out", str(out)], input="\n".join(lines) + "\n")
    assert r.exit_code == 0, r.output
    assert "boldhub keys public" in r.output  # the key was asked for again, saying why
    assert "Public task (UK GDPR Article 6(1)(e); DPA 2018 s8)" in r.output
    assert "Statutory and government purposes" in r.output
    assert (
        "next: boldhub agreement validate agreement.yaml, then register it at the hub and "
        "have every party sign" in r.output
    )
    doc, problems = check(load_path(out))
    assert problems == [] and doc is not None
    assert [p.organisation for p in doc.parties] == [COUNCIL, "MOJ-PROBATION"]
    assert [s.dataset for s in doc.parties[1].supplies] == ["probation"]


def test_new_takes_answers_from_a_json_file(tmp_path: Path) -> None:
    file = tmp_path / "answers.json"
    file.write_text(json.dumps(answers()), encoding="utf-8")
    out = tmp_path / "draft.yaml"
    r = CliRunner().invoke(cli(), ["new", "--out", str(out), "--answers", str(file)])
    assert r.exit_code == 0, r.output
    assert check(load_path(out))[1] == []
    again = CliRunner().invoke(cli(), ["new", "--out", str(out), "--answers", str(file)])
    assert again.exit_code != 0 and "already exists" in str(again.exception)


def test_new_names_each_wrong_answer_in_the_file(tmp_path: Path) -> None:
    file = tmp_path / "answers.json"
    file.write_text(json.dumps(answers(id="Bad Name", years=40)), encoding="utf-8")
    out = tmp_path / "draft.yaml"
    r = CliRunner().invoke(cli(), ["new", "--out", str(out), "--answers", str(file)])
    assert r.exit_code == 2
    assert "A short name for the agreement: The short name must be" in r.output
    assert "How many years it lasts: Enter a whole number" in r.output
    assert "Traceback" not in r.output
    assert not out.exists()
