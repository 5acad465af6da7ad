"""The linkage part of a data sharing agreement, as a file both sides read.

The hub registers the file (``boldhub agreement register``); each party gives the same
file to ``boldhub encode --agreement`` so that its package names the agreement, uses the
agreement's encoding parameters and is checked against the agreement's key fingerprint
before it leaves the council. The file is JSON (which any YAML reader also reads, for the
fuller agreements-as-code to come)::

    {
      "id": "bold-pilot-2026",
      "title": "BOLD pilot: homelessness, probation and treatment",
      "linkage_key_fingerprint": "<32 hex digits: `boldhub keys fingerprint KEYFILE`>",
      "encoding": {"salt": "dob"},
      "parties": [
        {"organisation": "E08000025", "signing_key": "ed25519:...",
         "datasets": ["homelessness"]}
      ]
    }

``encoding`` lists only the parameters that differ from the defaults of this version
(``EncodingParams``); ``datasets`` is optional (any dataset when absent). Fields not
known here are kept, so the record can grow.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boldhub.errors import InputFileError, UserError
from boldhub.privacy.encoding import EncodingParams
from boldhub.privacy.signing import parse_public_key
from boldhub.schemas import get_dataset, get_organisation

ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
FINGERPRINT_RE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Party:
    organisation: str
    signing_key: str
    datasets: tuple[str, ...]


@dataclass(frozen=True)
class AgreementSpec:
    id: str
    key_fingerprint: str
    encoding: EncodingParams
    parties: tuple[Party, ...]
    document: dict[str, Any]

    def party(self, organisation: str) -> Party | None:
        return next((p for p in self.parties if p.organisation == organisation), None)


def parse_agreement(doc: Any, where: str = "the agreement") -> AgreementSpec:
    """Validate an agreement document; every problem names the field to fix."""

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
    raw_parties = doc.get("parties")
    if not isinstance(raw_parties, list) or not raw_parties:
        raise bad("parties must be a non-empty list")
    parties = []
    for i, item in enumerate(raw_parties):
        if not isinstance(item, dict):
            raise bad(f"parties[{i}] must be an object with organisation and signing_key")
        org = item.get("organisation")
        try:
            get_organisation(str(org))
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
    return AgreementSpec(aid, fp, params, tuple(parties), doc)


def load_agreement(path: Path) -> AgreementSpec:
    if not path.is_file():
        raise InputFileError(f"agreement file {path} not found")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(
            f"agreement file {path} is not valid JSON ({exc.__class__.__name__})"
        ) from None
    return parse_agreement(doc, str(path))
