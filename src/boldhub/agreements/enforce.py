"""The one place that says what an agreement allows.

The council asks it before encoding (nothing is written for a package the hub would
refuse), the hub at upload and ingest, the linkage run for each pair of sources, and the
release for its indicators, threshold and recipients. Every refusal is a
:class:`Refused` naming the agreement, its version and the clause that refused, so that
the person refused can read the clause and the DPO can see which term did its job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from boldhub.agreements.validate import DERIVED
from boldhub.errors import NotAdmitted
from boldhub.schemas import get_dataset


class Refused(NotAdmitted):
    """What the agreement does not allow. ``clause`` is the dotted path of the term."""

    def __init__(self, terms: Terms, clause: str, message: str) -> None:
        self.agreement_id = terms.id
        self.version = terms.version
        self.clause = clause
        super().__init__(
            "agreement", f"agreement {terms.id} version {terms.version}, clause {clause}: {message}"
        )


@dataclass(frozen=True)
class PartyTerms:
    index: int
    organisation: str
    signing_key: str
    dpo_key: str | None
    # dataset -> (supply index, fields); None: any dataset, any field (older agreements).
    supplies: dict[str, tuple[int, frozenset[str]]] | None


@dataclass(frozen=True)
class Terms:
    """What enforcement reads of an agreement document, new format or old."""

    id: str
    version: int
    legacy: bool
    parties: tuple[PartyTerms, ...]
    consent: tuple[tuple[int, str, str, str], ...]  # (index, dataset, field, required value)
    allowed_pairs: frozenset[tuple[str, str]] | None
    indicators: frozenset[str] | None
    threshold: int
    recipients: frozenset[str] | None
    start: date | None
    expiry: date | None
    purpose_locks: tuple[str, ...]

    def party(self, organisation: str) -> PartyTerms | None:
        return next((p for p in self.parties if p.organisation == organisation), None)


def terms_of(document: dict[str, Any]) -> Terms:
    """The terms of a checked agreement document (``validate.check`` or, for an older
    JSON agreement, ``privacy.agreement.parse_agreement`` has accepted it)."""
    legacy = document.get("schema_version") != 2
    parties = []
    for i, p in enumerate(document.get("parties", [])):
        supplies: dict[str, tuple[int, frozenset[str]]] | None
        if legacy:
            names = p.get("datasets") or []
            supplies = {d: (i, frozenset()) for d in names} if names else None
        else:
            supplies = {
                s["dataset"]: (j, frozenset(s["fields"])) for j, s in enumerate(p["supplies"])
            }
        dpo = p.get("dpo") or {}
        parties.append(
            PartyTerms(i, p["organisation"], p["signing_key"], dpo.get("signing_key"), supplies)
        )
    linkage = document.get("linkage") or {}
    raw_pairs = linkage.get("allowed_source_pairs")
    pairs = None if raw_pairs is None else frozenset(_pair(*p) for p in raw_pairs)
    outputs = document.get("outputs") or {}
    dates = document.get("dates") or {}
    return Terms(
        id=document["id"],
        version=int(document.get("version", 1)),
        legacy=legacy,
        parties=tuple(parties),
        consent=tuple(
            (i, c["dataset"], c["field"], c.get("required_value", "Y"))
            for i, c in enumerate(document.get("consent") or [])
        ),
        allowed_pairs=pairs,
        indicators=frozenset(outputs["indicators"]) if outputs.get("indicators") else None,
        threshold=int(outputs.get("disclosure_threshold", 10)),
        recipients=frozenset(outputs["recipients"]) if outputs.get("recipients") else None,
        start=date.fromisoformat(dates["start"]) if dates.get("start") else None,
        expiry=date.fromisoformat(dates["expiry"]) if dates.get("expiry") else None,
        purpose_locks=tuple(document.get("purpose_locks") or ()),
    )


def _pair(a: str, b: str) -> tuple[str, str]:
    first, second = sorted((a, b))
    return first, second


# ---- lifecycle ------------------------------------------------------------------------


def require_in_force(terms: Terms, today: date) -> None:
    """The agreement's dates allow processing today (its signatures are the hub's
    ``agreement_status``: this checks what the document alone says)."""
    if terms.start is not None and today < terms.start:
        raise Refused(
            terms,
            "dates.start",
            f"the agreement starts on {terms.start.isoformat()}; nothing is accepted, linked "
            "or released under it before then",
        )
    if terms.expiry is not None and today > terms.expiry:
        raise Refused(
            terms,
            "dates.expiry",
            f"the agreement expired on {terms.expiry.isoformat()}; nothing is accepted, linked "
            "or released under it any more: agree an amendment (a new version) to go on",
        )


# ---- what a party may supply ------------------------------------------------------------


def admit_party(terms: Terms, organisation: str, dataset: str) -> PartyTerms:
    """``organisation`` is a party that may supply ``dataset``."""
    party = terms.party(organisation)
    if party is None:
        raise Refused(
            terms,
            "parties",
            f"{organisation} is not a party; nothing it sends is accepted under this agreement",
        )
    if party.supplies is not None and dataset not in party.supplies:
        allowed = ", ".join(sorted(party.supplies)) or "nothing"
        raise Refused(
            terms,
            f"parties[{party.index}].supplies",
            f"{organisation} may supply {allowed}, not {dataset}",
        )
    return party


def admit_signing_key(terms: Terms, party: PartyTerms, signing_key: str) -> None:
    if signing_key != party.signing_key:
        raise Refused(
            terms,
            f"parties[{party.index}].signing_key",
            f"this signing key is not the one {party.organisation} registered; use that key, "
            "or have the agreement amended",
        )


def _allowed(listed: frozenset[str]) -> set[str]:
    """The fields a supply's list allows: those it names and those derived from them."""
    return set(listed) | {d for d, source in DERIVED.items() if source in listed}


def admit_fields(terms: Terms, party: PartyTerms, dataset: str, fields: Iterable[str]) -> None:
    """Every field a package carries is one the party's supply lists."""
    if party.supplies is None or terms.legacy:
        return
    index, listed = party.supplies[dataset]
    extra = sorted(set(fields) - _allowed(listed))
    if extra:
        raise Refused(
            terms,
            f"parties[{party.index}].supplies[{index}].fields",
            f"{party.organisation}'s {dataset} data carries {', '.join(extra)}, which the "
            "agreement does not list; encode again with the agreement's file (an attribute "
            "it does not list is sent empty; every identifier is encoded, so an identifier "
            "must be listed), or amend the agreement to list them",
        )


def withheld_attributes(terms: Terms, party: PartyTerms, dataset: str) -> frozenset[str]:
    """The attributes of ``dataset`` the party's supply does not list: the council sends
    them empty (the package's columns are fixed; their values never leave)."""
    if party.supplies is None or terms.legacy or dataset not in party.supplies:
        return frozenset()
    allowed = _allowed(party.supplies[dataset][1])
    return frozenset(get_dataset(dataset).package_attribute_names) - allowed - {"sex"}


def consent_rule(terms: Terms, dataset: str) -> tuple[str, str, str] | None:
    """(clause, field, required value) of the consent rule for ``dataset``, if any."""
    for index, name, field, value in terms.consent:
        if name == dataset:
            return f"consent[{index}]", field, value
    return None


def admit_consent(terms: Terms, dataset: str, values: Iterable[str | None]) -> None:
    """A package of ``dataset`` holds no record without the consent its rule requires
    (the council leaves those out before encoding)."""
    rule = consent_rule(terms, dataset)
    if rule is None:
        return
    clause, field, required = rule
    missing = sum(1 for v in values if v != required)
    if missing:
        raise Refused(
            terms,
            clause,
            f"{missing} {dataset} records have no consent ({field} is not {required}); "
            "such records are neither linked nor counted: encode again, which leaves them out",
        )


# ---- linkage and outputs ----------------------------------------------------------------


def admit_linkable(terms: Terms, source: str) -> None:
    """A source the agreement lets link with something: data that could never be linked
    under it is not taken in at all."""
    if terms.allowed_pairs is None:
        return
    dataset = source.split(":", 1)[0]
    if not any({source, dataset} & set(pair) for pair in terms.allowed_pairs):
        raise Refused(
            terms,
            "linkage.allowed_source_pairs",
            f"no pair the agreement allows includes {dataset} data, so it could never be "
            "linked under it; amend the agreement to allow a pair, or do not send it",
        )


def admit_release(
    terms: Terms, indicators: Iterable[str], threshold: int, recipients: Iterable[str]
) -> None:
    """A release's indicators, disclosure threshold and recipients are the agreement's."""
    if threshold < terms.threshold:
        raise Refused(
            terms,
            "outputs.disclosure_threshold",
            f"counts under {terms.threshold} must be suppressed; a release may not use {threshold}",
        )
    if terms.indicators is not None:
        extra = sorted(set(indicators) - terms.indicators)
        if extra:
            raise Refused(
                terms,
                "outputs.indicators",
                f"{', '.join(extra)} is not a permitted output of this agreement",
            )
    orgs = {p.organisation for p in terms.parties}
    allowed = terms.recipients if terms.recipients is not None else orgs
    outside = sorted(set(recipients) - allowed - {"national"})
    if outside:
        raise Refused(
            terms,
            "outputs.recipients",
            f"{', '.join(outside)} may not receive releases under this agreement",
        )


PURPOSES = {
    "immigration_enforcement": "no_immigration_enforcement",
    "benefit_fraud_detection": "no_benefit_fraud_detection",
    "individual_risk_scoring": "no_individual_risk_scoring",
    "record_level_release": "no_record_level_release",
}


def admit_purpose(terms: Terms, purpose: str) -> None:
    """Refuse a use a purpose lock rules out (record-level release and individual scores
    are refused by every agreement, locked or not: nothing here ever does either)."""
    lock = PURPOSES.get(purpose)
    if lock is None:
        return
    if lock in terms.purpose_locks or purpose in (
        "individual_risk_scoring",
        "record_level_release",
    ):
        index = terms.purpose_locks.index(lock) if lock in terms.purpose_locks else -1
        clause = f"purpose_locks[{index}]" if index >= 0 else "purpose"
        raise Refused(terms, clause, f"{purpose.replace('_', ' ')} is locked out")


def carried_fields(dataset: str, attributes: Iterable[str] | None = None) -> tuple[str, ...]:
    """The fields a package of ``dataset`` carries: its identifiers (as keyed encodings)
    and its attribute columns (``attributes``; by default the dataset's)."""
    ds = get_dataset(dataset)
    columns = ds.package_attribute_names if attributes is None else tuple(attributes)
    return (*ds.identifier_headers, *columns)
