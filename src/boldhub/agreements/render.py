"""A data sharing agreement as documents people read: the agreement itself, a pre-filled
Data Protection Impact Assessment, an Appropriate Policy Document outline and the text of a
public register entry (``boldhub agreement render``).

Each function takes an :class:`AgreementDoc` and returns a standalone HTML page: inline
style with a print stylesheet, no script, no external resource. The same document gives
the same bytes: nothing depends on the clock, the locale or the order of a set. Where the
file cannot say something (a judgement only the DPO can make), the page leaves a box
marked "To complete" rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from boldhub.agreements.catalogue import catalogue
from boldhub.agreements.model import AgreementDoc, LawfulBasis, Party, PurposeLock, Role
from boldhub.agreements.validate import CRIMINAL, DERIVED, HEALTH
from boldhub.errors import UserError
from boldhub.outcomes.catalogue import INDICATORS
from boldhub.outcomes.disclosure import ROUNDING_BASE
from boldhub.schemas import IDENTIFIER_FIELDS, get_dataset, get_organisation
from boldhub.schemas.organisations import local_authorities

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

ROLES: dict[Role, tuple[str, str]] = {
    Role.controller: (
        "Controller",
        "decides why and how its data is used under this agreement",
    ),
    Role.joint_controller: (
        "Joint controller",
        "decides the purpose and means of the linkage together with the other joint "
        "controllers, and shares responsibility for it (UK GDPR Article 26)",
    ),
    Role.processor: (
        "Processor",
        "acts only on the controllers' documented instructions (UK GDPR Article 28)",
    ),
}

LOCKS: dict[PurposeLock, tuple[str, str]] = {
    PurposeLock.no_immigration_enforcement: (
        "No immigration enforcement",
        "The linked data, and anything made from it, must not be used to find, trace or "
        "take action against anyone for immigration control or enforcement.",
    ),
    PurposeLock.no_benefit_fraud_detection: (
        "No benefit-fraud detection",
        "It must not be used to detect, investigate or prevent benefit fraud or error, or "
        "to check anyone's entitlement to benefits or services.",
    ),
    PurposeLock.no_individual_risk_scoring: (
        "No individual risk scoring",
        "No score, flag, prediction or profile of any individual person is made from it, "
        "and no decision about a person is based on it.",
    ),
    PurposeLock.no_record_level_release: (
        "No record-level release",
        "Only disclosure-controlled statistics leave the hub: no row about a person, "
        "encoded or not, is released to any party or anyone else.",
    ),
}

# (field of Retention, store, what it holds)
STORES = (
    (
        "encodings_days",
        "Keyed encodings",
        "The encoded identifiers from each package; used only for linkage.",
    ),
    (
        "attributes_days",
        "Attributes",
        "The non-identifying facts of each record (event dates, categories, age band), "
        "stored apart from the encodings.",
    ),
    (
        "link_maps_days",
        "Link maps",
        "Which records the linkage joined into one person (random record and person keys).",
    ),
    (
        "releases_days",
        "Releases",
        "The published disclosure-controlled reports (counted from publication).",
    ),
)

# (field of LawfulBasis, what it is, short label)
BASIS_FIELDS = (
    ("article_6", "UK GDPR Article 6 lawful basis", "Article 6"),
    (
        "article_9",
        "UK GDPR Article 9 condition (special category data)",
        "Special category data, Article 9",
    ),
    (
        "schedule_1",
        "DPA 2018 Schedule 1 condition for the Article 9 condition",
        "Special category data, Schedule 1",
    ),
    (
        "article_10",
        "Article 10 authority (criminal offence data): DPA 2018 Schedule 1",
        "Criminal offence data, Article 10",
    ),
)

_IDENTIFIERS = {f.name: f.description for f in IDENTIFIER_FIELDS}
_DERIVED_TEXT = {
    "age_band": "Age band (such as 25-34), worked out from the date of birth at source; the "
    "date of birth itself is never sent.",
}


@dataclass(frozen=True)
class Cited:
    """One catalogue entry a party cites, or a law its basis names."""

    heading: str
    id: str
    title: str
    citation: str
    plain: str
    known: bool = True
    needs_apd: bool = False
    field: str = ""
    short: str = ""


@dataclass(frozen=True)
class FieldRow:
    name: str
    kind: str
    handling: str
    description: str
    special: str


@dataclass(frozen=True)
class SupplyView:
    dataset: str
    title: str
    fields: tuple[FieldRow, ...]
    note: str
    identifiers: int
    attributes: int


@dataclass(frozen=True)
class PartyView:
    organisation: str
    name: str
    role: str
    role_plain: str
    processor: bool
    dpo_name: str | None
    dpo_email: str | None
    signing_key: str
    has_basis: bool
    bases: tuple[Cited, ...]
    law: str
    laws: tuple[Cited, ...]
    part_3: bool
    dea_s35: str | None
    supplies: tuple[SupplyView, ...]
    conditions: tuple[Cited, ...]
    special: tuple[str, ...]
    council: bool
    schedule_1: tuple[tuple[Cited, str], ...]


@dataclass(frozen=True)
class Risk:
    """A risk to individuals in the DPIA, with its proposed scores and the measures."""

    id: str
    title: str
    source: str
    likelihood: str
    severity: str
    overall: str
    measures: tuple[str, ...]
    effect: str
    residual: str


@dataclass(frozen=True)
class Signature:
    who: str
    organisation: str
    state: str


def code_spans(text: str) -> Markup:
    """``text`` escaped, with its `backquoted` parts as code."""
    escaped = str(escape(text))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # noqa: S704


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("boldhub.agreements", "templates"),
        autoescape=select_autoescape(),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["code_spans"] = code_spans
    return env


def long_date(value: date) -> str:
    """``1 January 2026``, whatever the locale."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def days_in_words(days: int) -> str:
    """``730 days (about 2 years)``."""
    years = days / 365.25
    if days >= 365 and abs(years - round(years)) < 0.05:
        n = round(years)
        return f"{days} days (about {n} year{'s' if n != 1 else ''})"
    if days >= 60:
        months = round(days / 30.44)
        return f"{days} days (about {months} months)"
    return f"{days} day{'s' if days != 1 else ''}"


def listed(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = list(items)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def organisation_name(organisation: str, name: str | None = None) -> str:
    """The party's name as the file gives it, or the known name of its code."""
    if name and name != organisation:
        return name
    try:
        return get_organisation(organisation).name
    except UserError:
        return name or organisation


def _cited(heading: str, entry_id: str) -> Cited:
    entry = catalogue().get(entry_id)
    if entry is None:
        return Cited(heading, entry_id, "Not in the catalogue", entry_id, "", known=False)
    return Cited(
        heading,
        entry.id,
        entry.title,
        entry.citation,
        entry.plain,
        needs_apd="Schedule 1 Part 2" in entry.citation,
    )


def _laws(text: str) -> tuple[Cited, ...]:
    """The catalogue's laws that ``text`` names (by id or by citation), in its order."""
    found = [
        _cited("Law", e.id)
        for e in catalogue().values()
        if e.kind == "law" and (e.id in text or e.citation in text)
    ]
    return tuple(found)


def _bases(basis: LawfulBasis) -> tuple[Cited, ...]:
    out = []
    for field, heading, short in BASIS_FIELDS:
        value = getattr(basis, field)
        if value is not None:
            out.append(replace(_cited(heading, value), field=field, short=short))
    return tuple(out)


def _special_of(dataset: str, name: str) -> str:
    kinds = []
    for label, rule in (("Health", HEALTH), ("Criminal offence", CRIMINAL)):
        if dataset in rule:
            named = rule[dataset]
            if named is None or name in named:
                kinds.append(label)
    return "; ".join(kinds)


def _field_row(
    dataset: str, name: str, identifiers: set[str], described: dict[str, str]
) -> FieldRow:
    if name in identifiers:
        kind, handling = (
            "Identifier",
            "Encoded with a keyed function at source; never sent in clear",
        )
        text = _IDENTIFIERS.get(name, "")
    elif name in DERIVED:
        kind, handling = "Derived", "Worked out at source and sent as an attribute"
        text = _DERIVED_TEXT.get(name, f"Derived from {DERIVED[name]} at source.")
    else:
        kind, handling = "Attribute", "Sent to the hub; stored apart from the encodings"
        text = described.get(name, "")
    return FieldRow(name, kind, handling, text, _special_of(dataset, name))


def _dataset_note(dataset: str) -> str:
    notes = []
    if HEALTH.get(dataset, ()) is None:
        notes.append("every record of this dataset is health data (special category)")
    if CRIMINAL.get(dataset, ()) is None:
        notes.append("every record of this dataset is criminal offence data")
    return "; ".join(notes)


def _supply(dataset: str, fields: list[str]) -> SupplyView:
    try:
        ds = get_dataset(dataset)
    except UserError:
        title, identifiers, described = dataset, set(), {}
    else:
        title = ds.title
        identifiers = set(ds.identifier_headers)
        described = {a.name: a.description for a in ds.attributes}
    rows = tuple(_field_row(dataset, f, identifiers, described) for f in fields)
    return SupplyView(
        dataset,
        title,
        rows,
        _dataset_note(dataset),
        sum(r.kind == "Identifier" for r in rows),
        sum(r.kind != "Identifier" for r in rows),
    )


def _special_kinds(party: Party) -> tuple[str, ...]:
    kinds: set[str] = set()
    for supply in party.supplies:
        for label, rule in (("health", HEALTH), ("criminal offence", CRIMINAL)):
            named = rule.get(supply.dataset, ())
            if named is None or (named and set(named) & set(supply.fields)):
                kinds.add(label)
    return tuple(sorted(kinds))


def _schedule_1_uses(basis: LawfulBasis | None) -> tuple[tuple[Cited, str], ...]:
    """Each distinct Schedule 1 condition ``basis`` cites, with what it is relied on for."""
    if basis is None:
        return ()
    uses: dict[str, list[str]] = {}
    if basis.schedule_1 is not None:
        uses.setdefault(basis.schedule_1, []).append("special category data")
    if basis.article_10 is not None:
        uses.setdefault(basis.article_10, []).append("criminal offence data")
    return tuple(
        (_cited("DPA 2018 Schedule 1 condition", entry_id), listed(what))
        for entry_id, what in uses.items()
    )


def party_view(party: Party) -> PartyView:
    basis = party.lawful_basis
    bases = _bases(basis) if basis is not None else ()
    role, plain = ROLES[party.role]
    return PartyView(
        organisation=party.organisation,
        name=organisation_name(party.organisation, party.name),
        role=role,
        role_plain=plain,
        processor=party.role is Role.processor,
        dpo_name=party.dpo.name if party.dpo else None,
        dpo_email=party.dpo.email if party.dpo else None,
        signing_key=party.signing_key,
        has_basis=basis is not None,
        bases=bases,
        law=basis.law if basis is not None else "",
        laws=_laws(basis.law) if basis is not None else (),
        part_3=bool(basis and basis.part_3),
        dea_s35=basis.dea_s35 if basis is not None else None,
        supplies=tuple(_supply(s.dataset, s.fields) for s in party.supplies),
        conditions=tuple(c for c in bases if c.field != "article_6"),
        special=_special_kinds(party),
        council=party.organisation in local_authorities(),
        schedule_1=_schedule_1_uses(basis),
    )


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _names(value: Any) -> set[str]:
    """Organisation codes from a status entry: a list of codes or of {organisation: ...}."""
    if isinstance(value, str):
        return {value}
    out: set[str] = set()
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            if isinstance(item, dict):
                code = item.get("organisation") or item.get("party")
                if code:
                    out.add(str(code))
            elif item is not None:
                out.add(str(item))
    return out


def signatures(doc: AgreementDoc, status: dict[str, Any] | None) -> tuple[Signature, ...]:
    """Each party's signature state from ``status``: ``signed`` (or ``present``) and
    ``missing``, lists of organisation codes, or ``signatures``, a mapping of code to
    signed or not. The hub's lifecycle status as a dict (``dataclasses.asdict`` of
    ``boldhub.hub.agreements.Status``: ``word``, ``signed``, ``missing``, ``reason``) fits."""
    if status is None:
        return ()
    signed = _names(status.get("signed")) | _names(status.get("present"))
    missing = _names(status.get("missing"))
    mapping = status.get("signatures")
    if isinstance(mapping, dict):
        for code, done in mapping.items():
            (signed if done else missing).add(str(code))
    rows = []
    orgs = [p.organisation for p in doc.parties]
    for party in doc.parties:
        code = party.organisation
        state = "Signed" if code in signed else "Missing" if code in missing else "Not recorded"
        rows.append(Signature(organisation_name(code, party.name), code, state))
    for code in sorted((signed | missing) - set(orgs)):
        rows.append(Signature(code, code, "Signed" if code in signed else "Missing"))
    return tuple(rows)


def _linkage(doc: AgreementDoc) -> tuple[str, ...] | None:
    def source(name: str) -> str:
        dataset, _, org = name.partition(":")
        try:
            title = get_dataset(dataset).title
        except UserError:
            title = dataset
        return f"{title} from {org}" if org else title

    pairs = doc.linkage.allowed_source_pairs
    if pairs is None:
        return None
    return tuple(
        f"{source(a)} with other records of the same source"
        if a == b
        else f"{source(a)} with {source(b)}"
        for a, b in pairs
    )


def _indicators(doc: AgreementDoc) -> tuple[tuple[str, str, str], ...]:
    known = {i.id: i for i in INDICATORS}
    ids = doc.outputs.indicators or [i.id for i in INDICATORS]
    return tuple(
        (i, known[i].title, known[i].explanation) if i in known else (i, i, "") for i in ids
    )


def _lock_measure(doc: AgreementDoc, lock: PurposeLock) -> str:
    title, text = LOCKS[lock]
    if lock in doc.purpose_locks:
        return f"Purpose lock: {title}. {text}"
    return f"NOT SET in this agreement: the purpose lock {title.lower()}; add it."


def _risks_identity(doc: AgreementDoc) -> list[Risk]:
    r = doc.retention
    return [
        Risk(
            "R1",
            "Identifiers exposed on the way to the hub or at it",
            "Names, dates of birth, postcodes or ID numbers read by someone in transit or at "
            "the hub.",
            "Possible",
            "Severe",
            "High",
            (
                "Identifiers are encoded on each party's own machine with a keyed function; "
                "the hub never receives them in clear.",
                "The keyed function's secrets come from the key service value by value (an "
                "oblivious PRF): neither a party nor the hub holds a key that could encode a "
                "guessed name or date offline.",
                "A party sends only the files its signed manifest lists; the hub checks the "
                "signature, agreement, key fingerprint, fields and counts before it stores "
                "anything.",
                "The map from record keys back to case references stays with the party.",
            ),
            "Reduced",
            "Low",
        ),
        Risk(
            "R2",
            "Re-identification from what the hub stores",
            "Someone with the hub's store and a population list of their own matches records "
            "to people by their pattern of codes and attributes.",
            "Possible",
            "Severe",
            "High",
            (
                "Encodings are scoped: names, initials, sex and postcode parts are keyed under "
                "a secret of the record's date of birth, the full name and date parts under "
                "one of its postcode, so across the store only equal dates of birth, "
                "postcodes and ID numbers can be seen to match.",
                "The key service caps and audits what each party may encode.",
                "Attributes are coarse (an age band, never a date of birth) and stored apart "
                "from the encodings; linkage reads the encodings only.",
                f"Encodings are kept {days_in_words(r.encodings_days)} and attributes "
                f"{days_in_words(r.attributes_days)}, then deleted.",
                "The hub's store is protected as personal data: access by role, each "
                "organisation to its own data only.",
            ),
            "Reduced",
            "Medium: keyed encodings are pseudonymised personal data, not anonymous",
        ),
    ]


def _risks_use(doc: AgreementDoc) -> list[Risk]:
    locks = set(doc.purpose_locks)
    enforcement = (
        PurposeLock.no_immigration_enforcement,
        PurposeLock.no_benefit_fraud_detection,
        PurposeLock.no_individual_risk_scoring,
    )
    recipients = (
        f"Releases go only to {listed(doc.outputs.recipients)}."
        if doc.outputs.recipients
        else "Releases go to the parties, each seeing its own and the national figures."
    )
    return [
        Risk(
            "R3",
            "Disclosure from released statistics",
            "A small count, or the difference between two releases, reveals that a known "
            "person used a service.",
            "Possible",
            "Significant",
            "Medium",
            (
                f"Counts under {doc.outputs.disclosure_threshold} are suppressed and every "
                f"other count is rounded to the nearest {ROUNDING_BASE}.",
                "Rates are worked out from the rounded counts.",
                recipients,
            ),
            "Reduced",
            "Low",
        ),
        Risk(
            "R4",
            "Function creep: enforcement, or decisions about individuals",
            "The linked data is used to trace people for immigration enforcement, to detect "
            "benefit fraud, or to score individuals' risk.",
            "Possible",
            "Severe",
            "High",
            (
                *(_lock_measure(doc, lock) for lock in enforcement),
                "Every run, export and release is written to the audit trail.",
            ),
            "Reduced",
            "Low" if locks >= set(enforcement) else "High until the missing locks are added",
        ),
        Risk(
            "R5",
            "Record-level release or onward sharing",
            "Rows about people leave the hub, or a party passes linked data on.",
            "Remote",
            "Severe",
            "Medium",
            (
                _lock_measure(doc, PurposeLock.no_record_level_release),
                "The hub releases counts and rates only, and as processor passes no data to "
                "anyone else.",
            ),
            "Reduced",
            "Low" if PurposeLock.no_record_level_release in locks else "Medium",
        ),
    ]


def _risks_data(doc: AgreementDoc) -> list[Risk]:
    fields = sum(len(s.fields) for p in doc.parties for s in p.supplies)
    datasets = {s.dataset for p in doc.parties for s in p.supplies}
    r = doc.retention
    return [
        Risk(
            "R6",
            "More data than the purpose needs",
            "Fields are shared that the statistics do not use.",
            "Possible",
            "Significant",
            "Medium",
            (
                f"The agreement lists the exact fields ({fields} in all, across "
                f"{len(datasets)} dataset{'s' if len(datasets) != 1 else ''}); the hub "
                "refuses a package with any other.",
                "The date of birth travels only as encodings and an age band.",
                *(
                    f"Only {c.dataset} records whose {c.field} is {c.required_value} are shared."
                    for c in doc.consent
                ),
            ),
            "Reduced",
            "To complete: the DPO confirms each field is needed",
        ),
        Risk(
            "R7",
            "Data kept longer than needed",
            "Encodings, attributes or link maps outlive the purpose.",
            "Possible",
            "Significant",
            "Medium",
            (
                f"Retention from receipt: encodings {days_in_words(r.encodings_days)}, "
                f"attributes {days_in_words(r.attributes_days)}, link maps "
                f"{days_in_words(r.link_maps_days)}, releases "
                f"{days_in_words(r.releases_days)}.",
                r.deletion_method.replace("`", ""),
                f"The agreement expires on {long_date(doc.dates.expiry)}.",
            ),
            "Reduced",
            "Low",
        ),
    ]


def _risks_other(doc: AgreementDoc) -> list[Risk]:
    datasets = {s.dataset for p in doc.parties for s in p.supplies}
    out = [
        Risk(
            "R8",
            "Inaccurate linkage",
            "False or missed matches make the statistics wrong.",
            "Probable",
            "Minimal",
            "Medium",
            (
                "Linkage quality is reported with each run.",
                "No decision about any individual is made from the linked data, so a "
                "linkage error affects statistics, not a person.",
            ),
            "Reduced",
            "Low",
        ),
        Risk(
            "R9",
            "Unauthorised access or tampering at the hub",
            "An insider or an attacker reads or changes what the hub holds.",
            "Possible",
            "Severe",
            "High",
            (
                "Access by role, each organisation to its own submissions and reports.",
                "Packages are signed with each party's registered key and checked on arrival.",
                "A hash-chained audit trail shows any change to the record of actions "
                "(boldhub audit verify).",
            ),
            "Reduced",
            "To complete: hosting, encryption at rest and staff vetting",
        ),
    ]
    if "victims" in datasets:
        out.append(
            Risk(
                "R10",
                "A victim's whereabouts revealed",
                "A breach or a release points to where a victim of crime lives or is supported.",
                "Remote",
                "Severe",
                "Medium",
                (
                    *(
                        f"Consent rule: only victims records whose {c.field} is "
                        f"{c.required_value} are shared."
                        for c in doc.consent
                        if c.dataset == "victims"
                    ),
                    "Postcodes travel only as keyed encodings; no address is ever sent or "
                    "released.",
                    "Only disclosure-controlled counts are released.",
                ),
                "Reduced",
                "Low",
            )
        )
    out.append(
        Risk(
            "",
            "People are not told, or cannot use their rights",
            "People do not know their records are linked, or cannot object or ask for them.",
            "Probable",
            "Significant",
            "Medium",
            (
                "The agreement is published on a public register.",
                "Rights requests go to the party that holds the person's case, which can use "
                "its own key map.",
            ),
            "Reduced",
            "To complete: privacy notices updated by each party",
        )
    )
    return out


def risks(doc: AgreementDoc) -> tuple[Risk, ...]:
    """The DPIA's risks to individuals, with measures from the agreement."""
    found = (*_risks_identity(doc), *_risks_use(doc), *_risks_data(doc), *_risks_other(doc))
    # Numbered in order: the victims' risk is there only when victims' data is shared.
    return tuple(replace(risk, id=f"R{i}") for i, risk in enumerate(found, 1))


def _context(doc: AgreementDoc, status: dict[str, Any] | None) -> dict[str, Any]:
    parties = tuple(party_view(p) for p in doc.parties)
    names = {p.organisation: p.name for p in parties}
    locks = tuple(dict.fromkeys(doc.purpose_locks))
    retention = doc.retention
    return {
        "doc": doc,
        "parties": parties,
        "names": names,
        "hub_name": doc.hub.name,
        "locks": tuple(LOCKS[lock] for lock in locks),
        "locks_missing": tuple(LOCKS[lock] for lock in PurposeLock if lock not in locks),
        "stores": tuple(
            (store, what, days_in_words(getattr(retention, field))) for field, store, what in STORES
        ),
        "dates": {
            "start": long_date(doc.dates.start),
            "review": long_date(doc.dates.review),
            "expiry": long_date(doc.dates.expiry),
        },
        "threshold": doc.outputs.disclosure_threshold,
        "base": ROUNDING_BASE,
        "indicators": _indicators(doc),
        "recipients": tuple(f"{names.get(code, code)} ({code})" for code in doc.outputs.recipients),
        "pairs": _linkage(doc),
        "one_to_one": tuple(doc.linkage.one_to_one_sources),
        "reciprocity": tuple(
            (names.get(r.party, r.party), r.party, r.gets, r.when) for r in doc.reciprocity
        ),
        "no_return": tuple(
            p.name
            for p in parties
            if not p.processor and p.organisation not in {r.party for r in doc.reciprocity}
        ),
        "datasets": tuple(sorted({(s.dataset, s.title) for p in parties for s in p.supplies})),
        "dataset_names": tuple(sorted({s.dataset for p in parties for s in p.supplies})),
        "risks": risks(doc),
        "special_parties": tuple(p for p in parties if p.conditions),
        "part_3_parties": tuple(p.name for p in parties if p.part_3),
        "status_word": _text((status or {}).get("status") or (status or {}).get("word")),
        "status_reason": _text((status or {}).get("reason")),
        "signatures": signatures(doc, status),
        "listed": listed,
    }


def _render(template: str, doc: AgreementDoc, status: dict[str, Any] | None) -> str:
    return _env().get_template(template).render(**_context(doc, status))


def agreement_html(doc: AgreementDoc, status: dict[str, Any] | None = None) -> str:
    """The agreement as a readable document in plain English."""
    return _render("agreement.html", doc, status)


def dpia_html(doc: AgreementDoc, status: dict[str, Any] | None = None) -> str:
    """A Data Protection Impact Assessment in the sections of the ICO's template, filled
    from the agreement, with boxes for what needs the DPO's judgement."""
    return _render("dpia.html", doc, status)


def apd_html(doc: AgreementDoc, status: dict[str, Any] | None = None) -> str:
    """An Appropriate Policy Document outline (DPA 2018 Schedule 1 Part 4) for the parties
    that cite a special category or criminal offence data condition."""
    return _render("appropriate-policy.html", doc, status)


def register_entry_html(doc: AgreementDoc, status: dict[str, Any] | None = None) -> str:
    """The text of a public register entry for the agreement (as for DEA 2017 s35)."""
    return _render("register-entry.html", doc, status)


DOCUMENTS = (
    ("agreement.html", agreement_html),
    ("dpia.html", dpia_html),
    ("appropriate-policy.html", apd_html),
    ("register-entry.html", register_entry_html),
)
"""Each document's file name and the function that renders it."""
