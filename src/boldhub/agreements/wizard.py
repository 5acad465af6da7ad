"""The plain-English questions that draft an agreement, in one place: ``boldhub agreement
new`` asks them at a prompt and the hub's wizard page asks them as a form, so the two
cannot ask different things or check answers differently.

Answers come in as plain data (a JSON file, a form, a prompt's replies), are checked one
by one in words a DPO understands, then drafted by :func:`draft.draft` and checked again as
a whole by :func:`validate.check`, whose problems are mapped back to the question they
are about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from boldhub import clock
from boldhub.agreements.catalogue import Entry, catalogue, suggest
from boldhub.agreements.draft import (
    DEFAULT_BENEFITS,
    DEFAULT_PURPOSE,
    Answers,
    PartyAnswer,
    draft,
    lawful_basis,
    usual_dataset,
)
from boldhub.agreements.load import AgreementFileError, Problem, dump_yaml, load_text
from boldhub.agreements.validate import check
from boldhub.errors import UserError
from boldhub.privacy.signing import parse_public_key
from boldhub.schemas import DATASETS
from boldhub.schemas.organisations import check_party_code, get_organisation, local_authorities

Kind = Literal["text", "choice", "multi", "parties"]

ROLES = (
    ("joint_controller", "Joint controller: you decide the purpose together with the others"),
    ("controller", "Controller: you alone decide why and how your data is used"),
    ("processor", "Processor: you only act on another party's instructions"),
)
DATASET_CHOICES = tuple((name, ds.title) for name, ds in DATASETS.items())
MAX_YEARS = 10
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
FINGERPRINT_RE = re.compile(r"^[0-9a-f]{32}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Question:
    """One thing the wizard asks. ``key`` names the answer (and the form field)."""

    key: str
    prompt: str
    help: str
    kind: Kind = "text"
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    # Several lines of text (a paragraph, or a list with one item a line).
    multiline: bool = False


QUESTIONS: tuple[Question, ...] = (
    Question(
        "id",
        "A short name for the agreement",
        "Lower-case letters, digits and hyphens, 3 to 64 characters, for example "
        "bold-pilot-2026. It never changes: a new version gets a new name.",
    ),
    Question(
        "title",
        "The agreement's title",
        'How people will see it on the public register, for example "Homelessness and '
        'probation outcomes in Birmingham".',
    ),
    Question(
        "organisation",
        "Your organisation's code",
        "A council's ONS GSS code (for example E08000025 for Birmingham), or a central "
        "body's code (for example MOJ-PROBATION).",
    ),
    Question(
        "role",
        "Your organisation's role",
        "Most councils and central bodies sharing for statistics are joint controllers.",
        kind="choice",
        choices=ROLES,
    ),
    Question(
        "datasets",
        "The data your organisation supplies",
        "Choose every dataset you will send under this agreement.",
        kind="multi",
        choices=DATASET_CHOICES,
    ),
    Question(
        "signing_key",
        "Your organisation's public signing key",
        "The text that `boldhub keys public KEYFILE` prints; it starts with ed25519:. "
        "Never paste the key file itself.",
    ),
    Question(
        "dpo_name",
        "Your data protection officer's name (optional)",
        "Shown in the agreement as your organisation's contact.",
        required=False,
    ),
    Question(
        "dpo_email",
        "Your data protection officer's email address (optional)",
        "For example dpo@council.gov.uk.",
        required=False,
    ),
    Question(
        "parties",
        "The other parties",
        "For each other organisation: its code, the dataset it supplies and its public "
        "signing key (ask its data protection officer for the text `boldhub keys public "
        "KEYFILE` prints).",
        kind="parties",
        required=False,
    ),
    Question(
        "purpose",
        "Why the data is shared",
        "In your own words. If you leave it as it is, the usual purpose of the programme is used.",
        multiline=True,
    ),
    Question(
        "benefits",
        "The benefits you expect",
        "One benefit a line. If you leave it as it is, the programme's usual benefits are used.",
        multiline=True,
    ),
    Question(
        "linkage_key_fingerprint",
        "The linkage key's fingerprint",
        "32 letters and digits, the text that `boldhub keys fingerprint KEYFILE` prints. "
        "The hub holds only this fingerprint, never the key.",
    ),
    Question(
        "start",
        "The date the agreement starts",
        "Written as year-month-day, for example 2027-04-01.",
    ),
    Question(
        "years",
        "How many years it lasts",
        f"A whole number from 1 to {MAX_YEARS}. It is reviewed after one year.",
    ),
)
BY_KEY = {q.key: q for q in QUESTIONS}
# The parts of each other party, in the order they are asked.
PARTY_PARTS = (
    ("organisation", "Organisation code"),
    ("dataset", "Dataset it supplies"),
    ("signing_key", "Public signing key"),
)


def first_of_next_month(today: date) -> date:
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


def default_for(key: str, answers: Mapping[str, Any] | None = None) -> str:
    """What the wizard offers for ``key`` before anything is typed, given the answers so
    far (the datasets depend on who you are)."""
    answers = answers or {}
    if key == "role":
        return "joint_controller"
    if key == "datasets":
        org = str(answers.get("organisation") or "").strip().upper()
        return usual_dataset(org) if org else ""
    if key == "purpose":
        return DEFAULT_PURPOSE
    if key == "benefits":
        return "\n".join(DEFAULT_BENEFITS)
    if key == "start":
        return first_of_next_month(clock.today()).isoformat()
    if key == "years":
        return "3"
    return ""


def initial() -> dict[str, Any]:
    """The answers a blank wizard starts from: the defaults, no other party yet."""
    out: dict[str, Any] = {q.key: default_for(q.key) for q in QUESTIONS}
    out["datasets"] = []
    out["parties"] = []
    return out


# ---- normalising the answers: a JSON file, a form and a prompt all give this shape ----


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\n".join(str(v) for v in value)
    return str(value).replace("\r\n", "\n").strip()


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[,\s]+", str(value))
    return [str(v).strip() for v in items if str(v).strip()]


def normalise(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Answers in one shape: text trimmed, codes upper-case, lists as lists, blank other
    parties dropped (so that a form's empty rows are not parties)."""
    out: dict[str, Any] = {}
    for q in QUESTIONS:
        value = raw.get(q.key)
        if q.kind == "multi":
            out[q.key] = [v.lower() for v in _list(value)]
        elif q.kind == "parties":
            rows = value if isinstance(value, list) else []
            parties = []
            for row in rows:
                if not isinstance(row, Mapping):
                    continue
                party = {part: _text(row.get(part)) for part, _ in PARTY_PARTS}
                party["organisation"] = party["organisation"].upper()
                party["dataset"] = party["dataset"].lower()
                if any(party.values()):
                    parties.append(party)
            out[q.key] = parties
        elif q.key == "benefits" and isinstance(value, list | tuple):
            out[q.key] = "\n".join(_text(v) for v in value if _text(v))
        else:
            out[q.key] = _text(value)
    out["organisation"] = out["organisation"].upper()
    out["linkage_key_fingerprint"] = out["linkage_key_fingerprint"].lower()
    for key in ("role", "purpose", "benefits", "start", "years"):
        if not out[key]:
            out[key] = default_for(key, out)
    return out


# ---- checking one answer at a time -------------------------------------------------------


def _organisation_problem(code: str) -> str | None:
    try:
        check_party_code(code)
    except UserError as exc:
        return str(exc)
    return None


def _key_problem(text: str, whose: str) -> str | None:
    if not text:
        return f"Enter {whose} public signing key"
    try:
        parse_public_key(text)
    except UserError:
        return (
            f"Enter {whose} public signing key as ed25519: followed by the key, exactly as "
            "`boldhub keys public KEYFILE` prints it"
        )
    return None


def _dataset_problem(name: str) -> str | None:
    if name not in DATASETS:
        return f"Choose a dataset: {', '.join(DATASETS)}"
    return None


def problem(key: str, value: Any, answers: Mapping[str, Any] | None = None) -> str | None:
    """What is wrong with the answer to one question (already normalised), in plain
    words; None when it is fine. The prompt asks again, the page shows it by the field."""
    answers = answers or {}
    q = BY_KEY[key]
    if q.kind == "parties":
        return None  # each row's parts are checked by party_problems
    if q.required and not value:
        return {
            "id": "Enter a short name for the agreement",
            "title": "Enter the agreement's title",
            "organisation": "Enter your organisation's code",
            "datasets": "Choose at least one dataset your organisation supplies",
            "signing_key": "Enter your organisation's public signing key",
            "linkage_key_fingerprint": "Enter the linkage key's fingerprint",
        }.get(key, f"Answer: {q.prompt.lower()}")
    if key == "id" and not ID_RE.match(value):
        return (
            "The short name must be 3 to 64 lower-case letters, digits, dots, hyphens or "
            "underscores, starting with a letter or digit, for example bold-pilot-2026"
        )
    if key in ("title", "purpose", "dpo_name") and len(value) > 4000:
        return "Keep this under 4,000 characters"
    if key == "organisation":
        return _organisation_problem(value)
    if key == "role" and value not in dict(ROLES):
        return "Choose joint controller, controller or processor"
    if key == "datasets":
        return next((p for p in map(_dataset_problem, value) if p), None)
    if key == "signing_key":
        return _key_problem(value, "your organisation's")
    if key == "dpo_email" and value and not EMAIL_RE.match(value):
        return "Enter an email address such as dpo@council.gov.uk, or leave it blank"
    if key == "dpo_name" and answers.get("dpo_email") and not value:
        return "Enter your data protection officer's name too, or leave both blank"
    if key == "benefits" and any(len(line) > 4000 for line in value.splitlines()):
        return "Keep each benefit under 4,000 characters"
    if key == "linkage_key_fingerprint" and not FINGERPRINT_RE.match(value):
        return (
            "The fingerprint is 32 letters (a to f) and digits, as `boldhub keys fingerprint "
            "KEYFILE` prints it"
        )
    if key == "start":
        return _start_problem(value)
    if key == "years" and not (value.isdigit() and 1 <= int(value) <= MAX_YEARS):
        return f"Enter a whole number of years from 1 to {MAX_YEARS}"
    return None


def _start_problem(value: str) -> str | None:
    try:
        start = date.fromisoformat(value)
    except ValueError:
        return "Enter a real date as year-month-day, for example 2027-04-01"
    if start.month == 2 and start.day == 29:
        # The review falls a year after the start, and there is no 29 February then.
        return "Choose a start date other than 29 February, for example 1 March"
    return None


def party_key(index: int, part: str) -> str:
    """The key of one part of the ``index``-th other party (1-based), as the page's field."""
    return f"party-{index}-{part}"


def party_problems(answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems with the other parties' rows, each keyed by :func:`party_key`."""
    out = []
    seen = {str(answers.get("organisation") or "")}
    for i, party in enumerate(answers.get("parties") or [], start=1):
        code = party["organisation"]
        what = f"other party {i}"
        if not code:
            out.append((party_key(i, "organisation"), f"Enter the code of {what}"))
        else:
            found = _organisation_problem(code)
            if found is None and code in seen:
                found = f"{code} is already a party; name each organisation once"
            if found is not None:
                out.append((party_key(i, "organisation"), found))
            seen.add(code)
        if not party["dataset"]:
            out.append((party_key(i, "dataset"), f"Choose the dataset {what} supplies"))
        elif (found := _dataset_problem(party["dataset"])) is not None:
            out.append((party_key(i, "dataset"), found))
        if (found := _key_problem(party["signing_key"], f"{what}'s")) is not None:
            out.append((party_key(i, "signing_key"), found))
    return out


def problems(answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with normalised answers, as (question or party key, message), in
    the order of the questions."""
    out: list[tuple[str, str]] = []
    for q in QUESTIONS:
        if q.kind == "parties":
            out.extend(party_problems(answers))
        elif (found := problem(q.key, answers.get(q.key), answers)) is not None:
            out.append((q.key, found))
    return out


# ---- drafting ----------------------------------------------------------------------------


def to_answers(answers: Mapping[str, Any]) -> Answers:
    """Checked, normalised answers as :class:`draft.Answers`."""
    you = PartyAnswer(
        organisation=answers["organisation"],
        signing_key=answers["signing_key"],
        datasets=tuple(dict.fromkeys(answers["datasets"])),
        dpo_name=answers.get("dpo_name") or None,
        dpo_email=answers.get("dpo_email") or None,
        role=answers["role"],
    )
    others = tuple(
        PartyAnswer(p["organisation"], p["signing_key"], (p["dataset"],))
        for p in answers.get("parties") or []
    )
    benefits = tuple(line.strip() for line in answers["benefits"].splitlines() if line.strip())
    return Answers(
        id=answers["id"],
        title=answers["title"],
        linkage_key_fingerprint=answers["linkage_key_fingerprint"],
        parties=(you, *others),
        purpose=answers["purpose"],
        benefits=benefits or DEFAULT_BENEFITS,
        start=date.fromisoformat(answers["start"]),
        years=int(answers["years"]),
    )


# What each cited entry does for the party, as the wizard says it.
BASIS_WORDS = (
    ("article_6", "Lawful basis (UK GDPR Article 6)"),
    ("article_9", "Condition for health data (UK GDPR Article 9)"),
    ("schedule_1", "The Schedule 1 condition that Article 9 needs"),
    ("article_10", "Authority for criminal offence data (UK GDPR Article 10)"),
)
LAW_WORDS = "Law that gives the task"


@dataclass(frozen=True)
class Suggestion:
    """The lawful bases suggested for one party: (what it is for, catalogue entry)."""

    organisation: str
    name: str
    entries: tuple[tuple[str, Entry], ...]


def _name(code: str) -> str:
    try:
        return get_organisation(code).name
    except UserError:  # a body only the hub knows: its code is all the file can say
        return code


def suggestions(answers: Answers) -> list[Suggestion]:
    """For each party, the catalogue entries its drafted lawful basis cites (as
    :func:`draft.lawful_basis` chooses them), each with its plain explanation."""
    cat = catalogue()
    out = []
    for party in answers.parties:
        basis = lawful_basis(party.organisation, party.datasets)
        entries = [(words, cat[basis[k]]) for k, words in BASIS_WORDS if basis.get(k) in cat]
        kind = "council" if party.organisation in local_authorities() else "central"
        # The same two laws draft() names in the basis's "law" text.
        entries += [(LAW_WORDS, e) for e in suggest("law", *party.datasets, kind)[:2]]
        out.append(Suggestion(party.organisation, _name(party.organisation), tuple(entries)))
    return out


def key_of(found: Problem) -> str:
    """The question (or party part) a problem in the drafted file is about."""
    field = found.field
    match = re.match(r"^parties\[(\d+)\]\.?([a-z_]*)", field)
    if match:
        index, part = int(match.group(1)), match.group(2)
        if index == 0:
            return {"signing_key": "signing_key", "supplies": "datasets", "dpo": "dpo_email"}.get(
                part, "organisation"
            )
        part = {"supplies": "dataset", "signing_key": "signing_key"}.get(part, "organisation")
        return party_key(index, part)
    head = re.split(r"[.\[]", field, maxsplit=1)[0]
    if head in BY_KEY:
        return head
    if head == "dates":
        return "start"
    # Terms the wizard does not ask about (linkage pairs, consent) follow from the data.
    return "datasets"


@dataclass(frozen=True)
class Result:
    """What the wizard made of a set of answers."""

    answers: dict[str, Any]  # normalised, to show again
    problems: list[tuple[str, str]]  # (question or party key, message); empty: a good draft
    document: dict[str, Any] | None = None
    yaml: str = ""
    suggestions: tuple[Suggestion, ...] = ()

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.problems


def run(raw: Mapping[str, Any], file: str = "agreement.yaml") -> Result:
    """Answers to a draft agreement: checked answer by answer, drafted, and the draft
    checked as a whole exactly as ``boldhub agreement validate`` checks a file."""
    answers = normalise(raw)
    found = problems(answers)
    if found:
        return Result(answers, found)
    chosen = to_answers(answers)
    document = draft(chosen)
    text = dump_yaml(document)
    try:
        _doc, checked = check(load_text(text, file))
    except AgreementFileError as exc:  # a draft this module wrote is always YAML
        checked = [exc.problem]
    return Result(
        answers,
        [(key_of(p), sentence_of(p)) for p in checked],
        document,
        text,
        tuple(suggestions(chosen)),
    )


def sentence_of(found: Problem) -> str:
    """A problem in the drafted file in the wizard's words: no file name or line, which
    mean nothing to someone who has not seen the file yet."""
    message = found.message.strip()
    return message[:1].upper() + message[1:]
