"""A data sharing agreement as the system reads it: typed, versioned, one definition.

The published JSON Schema (``agreement.schema.json`` beside this file, ``boldhub agreement
schema``) is generated from these models, so the schema a DPO's tools check against and the
rules the hub enforces cannot drift apart. Files written before agreements-as-code (JSON
with ``id``, ``linkage_key_fingerprint``, ``parties`` and ``linkage``) are read as a subset
by :func:`from_legacy`, or turned into a full file by ``boldhub agreement migrate``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

SCHEMA_VERSION = 2

AgreementId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]
Fingerprint = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
PublicKey = Annotated[str, StringConstraints(pattern=r"^ed25519:[A-Za-z0-9+/=]{40,64}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


def _iso_date(value: object) -> date:
    """A date written exactly as YYYY-MM-DD: what every reader of the stored document
    (enforcement, retention, the pages) parses, so nothing else may pass."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("must be a date written as YYYY-MM-DD, such as 2026-04-01")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class _Model(BaseModel):
    # Unknown fields are refused, not kept: a term the hub cannot read is a term it would
    # not enforce, and a misspelt clause (``retension``) must not pass as a missing one.
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Role(StrEnum):
    controller = "controller"
    joint_controller = "joint_controller"
    processor = "processor"


class Contact(_Model):
    name: Text
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    # The DPO's own Ed25519 key; when absent the DPO signs with the organisation's key.
    signing_key: PublicKey | None = None


class LawfulBasis(_Model):
    """A party's lawful basis, each entry an id from the catalogue (``catalogue.yaml``)."""

    article_6: Name = Field(description="UK GDPR Article 6(1) basis, e.g. art6_1_e_public_task")
    law: Text = Field(description="The law that gives the public task or legal obligation")
    article_9: Name | None = Field(
        default=None, description="UK GDPR Article 9(2) condition, for health data"
    )
    schedule_1: Name | None = Field(
        default=None,
        description="DPA 2018 Schedule 1 condition that Article 9(2)(b), (g), (h), (i) or (j) needs",
    )
    article_10: Name | None = Field(
        default=None,
        description="Authority for criminal offence data: a DPA 2018 Schedule 1 condition",
    )
    part_3: StrictBool = Field(
        default=False, description="Processes under DPA 2018 Part 3 (law enforcement)"
    )
    dea_s35: Text | None = Field(
        default=None, description="Digital Economy Act 2017 s35 objective, where used"
    )


class Supply(_Model):
    dataset: Name
    # The identifiers and attributes the party may send; names from the dataset's schema.
    fields: list[Name] = Field(min_length=1)


class Party(_Model):
    organisation: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    name: Text | None = None
    role: Role
    signing_key: PublicKey
    dpo: Contact | None = None
    lawful_basis: LawfulBasis | None = None
    supplies: list[Supply] = Field(default_factory=list)


class Hub(_Model):
    organisation: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "HUB"
    role: Literal["processor"] = "processor"
    name: Text = "BOLD Hub"


class Consent(_Model):
    """Records of ``dataset`` whose ``field`` is not ``Y`` are neither linked nor counted:
    the council leaves them out before encoding, and the hub refuses a package with any."""

    dataset: Name
    field: Name
    required_value: Literal["Y"] = "Y"


class Linkage(_Model):
    # Pairs of dataset or source names; absent: every pair may link.
    allowed_source_pairs: list[Annotated[list[Text], Field(min_length=2, max_length=2)]] | None = (
        None
    )
    one_to_one_sources: list[Text] = Field(default_factory=list)


class Outputs(_Model):
    # Indicator names; empty: every indicator the hub computes.
    indicators: list[Name] = Field(default_factory=list)
    disclosure_threshold: StrictInt = Field(default=10, ge=3, le=1000)
    # Organisation codes that receive releases; empty: every party.
    recipients: list[Text] = Field(default_factory=list)


class Retention(_Model):
    """How long each store keeps what came under the agreement, in days from receipt (a
    release: from publication)."""

    encodings_days: StrictInt = Field(ge=1, le=36500)
    attributes_days: StrictInt = Field(ge=1, le=36500)
    link_maps_days: StrictInt = Field(ge=1, le=36500)
    releases_days: StrictInt = Field(ge=1, le=36500)
    deletion_method: Text = (
        "Files removed from the hub's storage and their database rows deleted by "
        "`boldhub retention run`; a deletion record is written to the audit trail."
    )


class Dates(_Model):
    start: IsoDate
    review: IsoDate
    expiry: IsoDate


class Reciprocity(_Model):
    party: Text
    gets: Text
    when: Text


class PurposeLock(StrEnum):
    no_immigration_enforcement = "no_immigration_enforcement"
    no_benefit_fraud_detection = "no_benefit_fraud_detection"
    no_individual_risk_scoring = "no_individual_risk_scoring"
    no_record_level_release = "no_record_level_release"


class AgreementDoc(_Model):
    """The whole agreement file (``schema_version: 2``)."""

    schema_version: Literal[2]
    id: AgreementId
    version: StrictInt = Field(ge=1)
    title: Text
    purpose: Text
    benefits: list[Text] = Field(min_length=1)
    public_task: Text
    supersedes: AgreementId | None = None
    linkage_key_fingerprint: Fingerprint
    encoding: dict[str, Any] = Field(default_factory=dict)
    hub: Hub = Hub()
    parties: list[Party] = Field(min_length=1)
    consent: list[Consent] = Field(default_factory=list)
    linkage: Linkage = Linkage()
    outputs: Outputs = Outputs()
    retention: Retention
    dates: Dates
    reciprocity: list[Reciprocity] = Field(default_factory=list)
    purpose_locks: list[PurposeLock] = Field(default_factory=list)

    def party(self, organisation: str) -> Party | None:
        return next((p for p in self.parties if p.organisation == organisation), None)

    def party_index(self, organisation: str) -> int | None:
        return next((i for i, p in enumerate(self.parties) if p.organisation == organisation), None)


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of an agreement file."""
    schema = AgreementDoc.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://boldhub.example/agreement.schema.json"
    return schema
