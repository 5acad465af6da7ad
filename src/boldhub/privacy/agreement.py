"""An agreement as both sides load it: the agreement-as-code YAML file
(``schema_version: 2``, see ``boldhub.agreements`` and docs/agreements.md), or the older
JSON file, read as the subset it is::

    {
      "id": "bold-pilot-2026",
      "linkage_key_fingerprint": "<32 hex digits: `boldhub keys fingerprint KEYFILE`>",
      "encoding": {"salt": "dob"},
      "parties": [
        {"organisation": "E08000025", "signing_key": "ed25519:...",
         "datasets": ["homelessness"]}
      ],
      "linkage": {"allowed_source_pairs": [["homelessness", "probation"]]}
    }

The hub registers the file (``boldhub agreement register``); each party gives the same
file to ``boldhub encode --agreement``. What the agreement allows is decided in one place,
``boldhub.agreements.enforce``: the council asks it before encoding and the hub again
before it accepts a package, so that a package the hub would refuse is never made.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boldhub.agreements import enforce
from boldhub.agreements.enforce import PartyTerms, Terms, terms_of
from boldhub.agreements.load import AgreementFileError, Loaded, load_path
from boldhub.agreements.validate import check
from boldhub.errors import (
    AgreementInvalid as AgreementInvalid,
)
from boldhub.errors import (
    InputFileError,
    NotAdmitted,
    SchemaError,
    UserError,
)
from boldhub.privacy.encoding import EncodingParams
from boldhub.privacy.signing import parse_public_key
from boldhub.schemas import get_dataset
from boldhub.schemas.organisations import check_party_code

ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
FINGERPRINT_RE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Party:
    organisation: str
    signing_key: str
    # Empty: the party may submit any dataset.
    datasets: tuple[str, ...]


@dataclass(frozen=True)
class LinkageTerms:
    """Which sources the hub may link, and which hold one record per person.

    ``allowed_source_pairs``: pairs of dataset or source names (each pair sorted) whose
    records may be linked; None lets every pair link. ``one_to_one_sources``: sources
    holding at most one record per person, sorted.
    """

    allowed_source_pairs: frozenset[tuple[str, str]] | None = None
    one_to_one_sources: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """The terms as a linkage run records them (and compares them between runs)."""
        pairs = self.allowed_source_pairs
        return {
            "allowed_source_pairs": None if pairs is None else [list(p) for p in sorted(pairs)],
            "one_to_one_sources": list(self.one_to_one_sources),
        }


_FIX = "fix the agreement file and register it under a new id"


def _names(value: Any, term: str, shape: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SchemaError(f"linkage.{term} must be {shape}; {_FIX}")
    return tuple(value)


def linkage_terms(document: dict[str, Any]) -> LinkageTerms:
    """The ``linkage`` terms of an agreement document; a term that does not parse is
    refused (SchemaError naming it), never dropped, so that the hub never links more
    than the agreement allows."""
    terms = document.get("linkage")
    if terms is None:
        return LinkageTerms()
    if not isinstance(terms, dict):
        raise SchemaError(
            "linkage must be an object with allowed_source_pairs and one_to_one_sources; " + _FIX
        )
    pairs: frozenset[tuple[str, str]] | None = None
    raw_pairs = terms.get("allowed_source_pairs")
    if raw_pairs is not None:
        if not isinstance(raw_pairs, list):
            raise SchemaError(
                "linkage.allowed_source_pairs must be a list of pairs of dataset or source "
                f"names, or absent to let every pair link; {_FIX}"
            )
        found = []
        for i, pair in enumerate(raw_pairs):
            names = _names(
                pair,
                f"allowed_source_pairs[{i}]",
                'two dataset or source names, such as ["homelessness", "probation"]',
            )
            if len(names) != 2:
                raise SchemaError(
                    f"linkage.allowed_source_pairs[{i}] must be two dataset or source names, "
                    f'such as ["homelessness", "probation"], not {len(names)}; {_FIX}'
                )
            first, second = sorted(names)
            found.append((first, second))
        pairs = frozenset(found)
    one_to_one = _names(
        terms.get("one_to_one_sources", []),
        "one_to_one_sources",
        'a list of source names, such as ["probation:MOJ-PROBATION"]',
    )
    return LinkageTerms(pairs, tuple(sorted(one_to_one)))


def admit_linkage_key(agreement_id: str, agreement_fingerprint: str, fingerprint: str) -> None:
    """The linkage key rule: every package under an agreement is encoded with the key
    whose fingerprint the agreement (after any rotation) names. Raises NotAdmitted."""
    if fingerprint != agreement_fingerprint:
        raise NotAdmitted(
            "key",
            f"a different linkage key (fingerprint {fingerprint[:8]}...) is not agreement "
            f"{agreement_id}'s (fingerprint {agreement_fingerprint[:8]}...); encode with the "
            "key the agreement's parties share",
        )


@dataclass(frozen=True)
class AgreementSpec:
    id: str
    key_fingerprint: str
    encoding: EncodingParams
    parties: tuple[Party, ...]
    document: dict[str, Any]
    linkage: LinkageTerms = LinkageTerms()

    def party(self, organisation: str) -> Party | None:
        return next((p for p in self.parties if p.organisation == organisation), None)

    @property
    def terms(self) -> Terms:
        """What the agreement allows, as the one enforcement module reads it."""
        return terms_of(self.document)

    def admit(
        self, organisation: str, dataset: str, *, key_fingerprint: str, signing_key: str
    ) -> PartyTerms:
        """The linkage key, the party, its dataset, its signing key and the identifiers a
        package of that dataset carries, under this agreement (``agreements.enforce``)."""
        admit_linkage_key(self.id, self.key_fingerprint, key_fingerprint)
        terms = self.terms
        party = enforce.admit_party(terms, organisation, dataset)
        enforce.admit_signing_key(terms, party, signing_key)
        # Unlisted attributes are sent empty (council/encode.py); the identifiers are
        # encoded whole, so each must be listed.
        enforce.admit_fields(terms, party, dataset, enforce.carried_fields(dataset, ()))
        return party


def _parties(raw_parties: Any, bad: Callable[[str], UserError]) -> tuple[Party, ...]:
    if not isinstance(raw_parties, list) or not raw_parties:
        raise bad("parties must be a non-empty list")
    parties = []
    for i, item in enumerate(raw_parties):
        if not isinstance(item, dict):
            raise bad(f"parties[{i}] must be an object with organisation and signing_key")
        org = item.get("organisation")
        try:
            check_party_code(str(org))
            parse_public_key(item.get("signing_key"))  # type: ignore[arg-type]
            datasets = item.get("datasets") or []
            if not isinstance(datasets, list):
                raise UserError("datasets must be a list of dataset names")
            for name in datasets:
                get_dataset(str(name))
        except UserError as exc:
            raise bad(f"parties[{i}]: {exc}") from None
        parties.append(Party(str(org), str(item["signing_key"]), tuple(map(str, datasets))))
    orgs = [p.organisation for p in parties]
    if len(set(orgs)) != len(orgs):
        raise bad("an organisation appears twice in parties")
    return tuple(parties)


def _checked(loaded: Loaded) -> AgreementSpec:
    doc, problems = check(loaded)
    if doc is None:
        raise AgreementInvalid(problems)
    parties = tuple(
        Party(p.organisation, p.signing_key, tuple(s.dataset for s in p.supplies))
        for p in doc.parties
    )
    params = EncodingParams.from_dict({**EncodingParams().as_dict(), **doc.encoding})
    data = loaded.data
    return AgreementSpec(
        doc.id, doc.linkage_key_fingerprint, params, parties, data, linkage_terms(data)
    )


def parse_agreement(doc: Any, where: str = "the agreement") -> AgreementSpec:
    """Validate an agreement document; every problem names the field to fix. A document
    with ``schema_version`` is an agreement-as-code file (``agreements.validate``); one
    without is an older JSON agreement, read as the subset it is."""
    if isinstance(doc, dict) and "schema_version" in doc:
        return _checked(Loaded(where, doc))

    def bad(problem: str) -> UserError:
        return UserError(f"{where}: {problem}")

    if not isinstance(doc, dict):
        raise bad("must be a JSON object with id, linkage_key_fingerprint and parties")
    aid = doc.get("id")
    if not isinstance(aid, str) or not ID_RE.match(aid):
        raise bad("id must be 3-64 lower-case letters, digits, '.', '_' or '-'")
    fp = doc.get("linkage_key_fingerprint")
    if not isinstance(fp, str) or not FINGERPRINT_RE.match(fp):
        raise bad(
            "linkage_key_fingerprint must be 32 hex digits (`boldhub keys fingerprint KEYFILE`)"
        )
    overrides = doc.get("encoding", {})
    if not isinstance(overrides, dict):
        raise bad("encoding must be an object of encoding parameters")
    try:
        params = EncodingParams.from_dict({**EncodingParams().as_dict(), **overrides})
    except UserError as exc:
        raise bad(str(exc)) from None
    parties = _parties(doc.get("parties"), bad)
    try:
        terms = linkage_terms(doc)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None
    return AgreementSpec(aid, fp, params, parties, doc, terms)


def load_agreement(path: Path) -> AgreementSpec:
    """An agreement file: YAML (``schema_version: 2``) or the older JSON."""
    if not path.is_file():
        raise InputFileError(
            f"agreement file {path.name} not found; check the path, or get the agreement "
            "file from whoever manages the agreement (the hub's team holds every registered "
            "one: `boldhub agreement show ID`); docs/agreements.md shows how to write one"
        )
    try:
        loaded = load_path(path)
    except AgreementFileError as exc:
        raise AgreementInvalid([exc.problem]) from None
    if isinstance(loaded.data, dict) and "schema_version" in loaded.data:
        return _checked(loaded)
    return parse_agreement(loaded.data, str(path))
