"""Check an agreement file: its syntax, its schema, then what it means.

Every problem comes back with its line and what to do, so ``boldhub agreement validate``
can list them all at once instead of stopping at the first.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from boldhub.agreements.catalogue import catalogue
from boldhub.agreements.load import Loaded, Path_, Problem
from boldhub.agreements.model import SCHEMA_VERSION, AgreementDoc, LawfulBasis, Role
from boldhub.errors import UserError
from boldhub.privacy.encoding import EncodingParams
from boldhub.schemas import get_dataset
from boldhub.schemas.organisations import check_party_code

# Special category and criminal offence data, by dataset and field: supplying any of these
# needs an Article 9 condition or Article 10 authority in the party's basis. Read
# cautiously, as a DPO would: a victims' service's flags of sexual abuse and domestic abuse
# can reveal health or sex life, and the ICO's guidance counts information about victims
# and witnesses of crime as possibly criminal offence data.
HEALTH = {
    "treatment": None,  # the whole dataset
    "homelessness": frozenset({"sn_drug", "sn_alcohol", "sn_mental_health"}),
    "probation": frozenset({"req_drug_rehab", "req_alcohol_treatment"}),
    "victims": frozenset({"sexual_abuse", "domestic_abuse"}),
}
CRIMINAL = {
    "probation": None,
    "homelessness": frozenset({"sn_offending"}),
    "victims": frozenset({"offence_category"}),
}
# Derived at the council from other fields, so listed with them.
DERIVED = {"age_band": "dob"}


def dataset_fields(dataset: str) -> tuple[str, ...]:
    """Every field a party may list for ``dataset``: identifiers, then attributes."""
    ds = get_dataset(dataset)
    return (*ds.identifier_headers, *(a.name for a in ds.attributes), *DERIVED)


def _touches(rule: dict[str, frozenset[str] | None], dataset: str, fields: list[str]) -> bool:
    if dataset not in rule:
        return False
    named = rule[dataset]
    return named is None or bool(named & set(fields))


# What a value must look like, in words, for the fields whose rule is a pattern.
_SHAPES = {
    "id": "3-64 lower-case letters, digits, '.', '_' or '-' (such as bold-pilot-2026)",
    "supersedes": "the id of the version this one replaces",
    "linkage_key_fingerprint": "32 hex digits (`boldhub keys fingerprint KEYFILE`)",
    "signing_key": "ed25519:<base64>, the text of `boldhub keys public KEYFILE`",
    "email": "an email address such as dpo@council.gov.uk",
    "dataset": "a dataset name: homelessness, probation, treatment or victims",
}


def _schema_problems(loaded: Loaded, exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path: Path_ = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
        kind = error["type"]
        last = next((p for p in reversed(path) if isinstance(p, str)), "")
        if kind == "string_pattern_mismatch" and last in _SHAPES:
            message = f"must be {_SHAPES[last]}; fix the value"
        elif kind == "string_type" and isinstance(error.get("input"), int | float):
            message = "must be text, but YAML read it as a number; put the value in quotes"
        elif kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
            message = "must be a date written as YYYY-MM-DD, such as 2026-04-01"
        elif kind == "value_error":
            message = f"{error['ctx']['error']}; fix the value"
        elif kind == "extra_forbidden":
            message = (
                "is not a field of an agreement file; check its spelling against "
                "`boldhub agreement schema`, or remove it"
            )
        elif kind == "missing":
            message = "is missing; add it (`boldhub agreement schema` describes every field)"
        else:
            message = f"{error['msg'].rstrip('.')}; fix the value"
        problems.append(loaded.problem(path, message))
    return problems


def _basis_problems(
    loaded: Loaded, i: int, basis: LawfulBasis, health: bool, criminal: bool
) -> list[Problem]:
    cat = catalogue()
    where: Path_ = ("parties", i, "lawful_basis")
    out = []

    def want(field: str, value: str | None, kind: str, why: str) -> None:
        if value is None:
            out.append(loaded.problem((*where, field), why))
        elif value not in cat or cat[value].kind != kind:
            choices = ", ".join(e.id for e in cat.values() if e.kind == kind)
            out.append(
                loaded.problem(
                    (*where, field),
                    f"{value!r} is not a {kind} entry of the catalogue; use one of: {choices}",
                )
            )

    want("article_6", basis.article_6, "article_6", "")
    if health or basis.article_9 is not None:
        want(
            "article_9",
            basis.article_9,
            "article_9",
            "this party supplies health data, which needs an Article 9 condition; add "
            "article_9 (`boldhub agreement catalogue` lists them)",
        )
        entry = cat.get(basis.article_9 or "")
        if entry is not None and entry.needs == "schedule_1":
            want(
                "schedule_1",
                basis.schedule_1,
                "schedule_1",
                f"{entry.citation} needs a DPA 2018 Schedule 1 condition; add schedule_1",
            )
    if criminal or basis.article_10 is not None:
        want(
            "article_10",
            basis.article_10,
            "schedule_1",
            "this party supplies criminal offence data, which needs Article 10 authority "
            "(a DPA 2018 Schedule 1 condition); add article_10",
        )
    return out


def _party_problems(loaded: Loaded, doc: AgreementDoc) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    for i, party in enumerate(doc.parties):
        try:
            check_party_code(party.organisation)
        except UserError as exc:
            out.append(loaded.problem(("parties", i, "organisation"), str(exc)))
        if party.organisation in seen:
            out.append(
                loaded.problem(
                    ("parties", i, "organisation"),
                    f"{party.organisation} is a party twice; keep one entry per organisation",
                )
            )
        seen.add(party.organisation)
        health = criminal = False
        for j, supply in enumerate(party.supplies):
            try:
                known = dataset_fields(supply.dataset)
            except UserError as exc:
                out.append(loaded.problem(("parties", i, "supplies", j, "dataset"), str(exc)))
                continue
            for k, name in enumerate(supply.fields):
                if name not in known:
                    out.append(
                        loaded.problem(
                            ("parties", i, "supplies", j, "fields", k),
                            f"{name!r} is not a field of the {supply.dataset} dataset; use "
                            f"one of: {', '.join(known)}",
                        )
                    )
            health |= _touches(HEALTH, supply.dataset, supply.fields)
            criminal |= _touches(CRIMINAL, supply.dataset, supply.fields)
        if party.lawful_basis is None:
            out.append(
                loaded.problem(
                    ("parties", i),
                    f"{party.organisation} has no lawful_basis; every party needs one: add "
                    "lawful_basis with article_6 and law (`boldhub agreement catalogue` lists "
                    "the choices)",
                )
            )
        else:
            out.extend(_basis_problems(loaded, i, party.lawful_basis, health, criminal))
        if party.role is not Role.processor and not party.supplies:
            out.append(
                loaded.problem(
                    ("parties", i),
                    f"{party.organisation} supplies no dataset; add supplies (dataset and "
                    "fields), or make it a processor",
                )
            )
    if not any(p.role is not Role.processor for p in doc.parties):
        out.append(
            loaded.problem(("parties",), "no party is a controller; name who decides the purpose")
        )
    return out


def _supplied(doc: AgreementDoc) -> set[str]:
    return {s.dataset for p in doc.parties for s in p.supplies}


def _linkage_problems(loaded: Loaded, doc: AgreementDoc) -> list[Problem]:
    out = []
    supplied = _supplied(doc)
    consented = {c.dataset for c in doc.consent}
    for i, pair in enumerate(doc.linkage.allowed_source_pairs or []):
        for name in sorted(set(pair)):
            dataset = name.split(":", 1)[0]
            if dataset not in supplied:
                out.append(
                    loaded.problem(
                        ("linkage", "allowed_source_pairs", i),
                        f"{name!r} is not supplied by any party, so this pair cannot link; "
                        "name a dataset a party supplies, or remove the pair",
                    )
                )
            elif dataset == "victims" and dataset not in consented:
                out.append(
                    loaded.problem(
                        ("linkage", "allowed_source_pairs", i),
                        "victims' records may be linked only under a consent rule; add "
                        "consent: [{dataset: victims, field: consent}]",
                    )
                )
    for i, rule in enumerate(doc.consent):
        if rule.dataset not in supplied:
            out.append(
                loaded.problem(
                    ("consent", i, "dataset"), f"no party supplies {rule.dataset}; remove it"
                )
            )
            continue
        flags = {a.name for a in get_dataset(rule.dataset).attributes if a.kind == "flag"}
        if rule.field not in flags:
            out.append(
                loaded.problem(
                    ("consent", i, "field"),
                    f"{rule.field!r} is not a Y/N field of {rule.dataset}; use one of: "
                    f"{', '.join(sorted(flags))}",
                )
            )
    return out


def _other_problems(loaded: Loaded, doc: AgreementDoc) -> list[Problem]:
    out = []
    d = doc.dates
    if d.expiry <= d.start:
        out.append(
            loaded.problem(
                ("dates", "expiry"),
                f"the agreement expires ({d.expiry}) before it starts ({d.start}); set an "
                "expiry after the start",
            )
        )
    if not d.start <= d.review <= d.expiry:
        out.append(
            loaded.problem(
                ("dates", "review"), "the review date must fall between start and expiry"
            )
        )
    orgs = {p.organisation for p in doc.parties}
    for i, code in enumerate(doc.outputs.recipients):
        if code not in orgs:
            out.append(
                loaded.problem(
                    ("outputs", "recipients", i),
                    f"{code} is not a party; releases go only to parties",
                )
            )
    for i, item in enumerate(doc.reciprocity):
        if item.party not in orgs:
            out.append(loaded.problem(("reciprocity", i, "party"), f"{item.party} is not a party"))
    if doc.supersedes == doc.id:
        out.append(loaded.problem(("supersedes",), "a version cannot supersede itself"))
    try:
        EncodingParams.from_dict({**EncodingParams().as_dict(), **doc.encoding})
    except UserError as exc:
        out.append(loaded.problem(("encoding",), str(exc)))
    return out


def check(loaded: Loaded) -> tuple[AgreementDoc | None, list[Problem]]:
    """The agreement in ``loaded`` and every problem found (none: it is valid)."""
    data: Any = loaded.data
    if not isinstance(data, dict):
        return None, [loaded.problem((), "must be a mapping of fields (id, parties, ...)")]
    if data.get("schema_version") != SCHEMA_VERSION:
        what = (
            "has no schema_version"
            if "schema_version" not in data
            else f"has schema_version {data['schema_version']!r}"
        )
        return None, [
            loaded.problem(
                ("schema_version",),
                f"{what}; this version reads agreement files with schema_version: "
                f"{SCHEMA_VERSION} (an older JSON agreement: convert it with `boldhub "
                "agreement migrate FILE`)",
            )
        ]
    try:
        doc = AgreementDoc.model_validate(data)
    except ValidationError as exc:
        return None, _schema_problems(loaded, exc)
    problems = [
        *_party_problems(loaded, doc),
        *_linkage_problems(loaded, doc),
        *_other_problems(loaded, doc),
    ]
    problems.sort(key=lambda p: p.line)
    return (None if problems else doc), problems
