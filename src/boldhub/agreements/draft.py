"""A complete draft agreement from a few plain answers: who the parties are, what each
supplies, why. Lawful bases come from the catalogue's suggestions for each party's
datasets; everything else gets the programme's defaults, which the DPO then reads and
changes. ``boldhub agreement new``, the hub's wizard page and the demo all draft here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from boldhub.agreements.catalogue import catalogue, suggest
from boldhub.agreements.model import SCHEMA_VERSION, PurposeLock
from boldhub.agreements.validate import CRIMINAL, HEALTH, dataset_fields
from boldhub.schemas.organisations import CENTRAL_BODIES, local_authorities

if TYPE_CHECKING:
    from boldhub.privacy.agreement import AgreementSpec

DEFAULT_PURPOSE = (
    "To understand how people move between homelessness services, probation, drug and "
    "alcohol treatment and victims' services, so that each party can plan and improve its "
    "services, through statistics only: no decision about any individual is made from the "
    "linked data."
)
DEFAULT_BENEFITS = (
    "Each council learns how many of its homelessness applicants were recently released "
    "from custody, in treatment or supported as victims, and how that changes over time.",
    "Central bodies learn how many of the people they supervise or treat become homeless, "
    "so that they can plan accommodation support before release or discharge.",
)
DEFAULT_TASK = (
    "The councils' homelessness functions under the Housing Act 1996 Part 7 and the central "
    "bodies' statutory functions for probation, treatment and victims' services."
)
DEFAULT_RETENTION = {
    "encodings_days": 730,
    "attributes_days": 730,
    "link_maps_days": 730,
    "releases_days": 2555,
}


@dataclass(frozen=True)
class PartyAnswer:
    organisation: str
    signing_key: str
    datasets: tuple[str, ...]
    name: str | None = None
    dpo_name: str | None = None
    dpo_email: str | None = None
    role: str = "joint_controller"


@dataclass(frozen=True)
class Answers:
    id: str
    title: str
    linkage_key_fingerprint: str
    parties: tuple[PartyAnswer, ...]
    purpose: str = DEFAULT_PURPOSE
    benefits: tuple[str, ...] = DEFAULT_BENEFITS
    public_task: str = DEFAULT_TASK
    start: date = date(2026, 1, 1)
    years: int = 3
    encoding: dict[str, Any] = field(default_factory=dict)


CENTRAL_NAMES = {o.code: o for o in CENTRAL_BODIES}


def _kind(organisation: str) -> str:
    return "council" if organisation in local_authorities() else "central"


def lawful_basis(organisation: str, datasets: tuple[str, ...]) -> dict[str, Any]:
    """The catalogue's suggestion for a party supplying ``datasets`` (all their fields)."""
    fits = (*datasets, _kind(organisation))
    laws = suggest("law", *fits)
    basis: dict[str, Any] = {
        "article_6": "art6_1_e_public_task",
        "law": "; ".join(catalogue()[e.id].citation for e in laws[:2])
        or "name the law that gives this party its task",
    }
    if any(d in HEALTH for d in datasets):
        basis["article_9"] = "art9_2_g_substantial_public_interest"
        basis["schedule_1"] = "sch1_p2_para6_statutory_government"
    if any(d in CRIMINAL for d in datasets):
        basis["article_10"] = "sch1_p2_para6_statutory_government"
    if "probation" in datasets:
        # Probation is a competent authority; sharing for statistics falls back under UK
        # GDPR, but its own processing is under Part 3, which the DPIA must say.
        basis["part_3"] = True
    return basis


def party_entry(answer: PartyAnswer) -> dict[str, Any]:
    """One party's entry in an agreement, as the wizard drafts it."""
    found = local_authorities().get(answer.organisation) or CENTRAL_NAMES.get(answer.organisation)
    party: dict[str, Any] = {
        "organisation": answer.organisation,
        "name": answer.name or (found.name if found else answer.organisation),
        "role": answer.role,
        "signing_key": answer.signing_key,
    }
    if answer.dpo_name and answer.dpo_email:
        party["dpo"] = {"name": answer.dpo_name, "email": answer.dpo_email}
    party["lawful_basis"] = lawful_basis(answer.organisation, answer.datasets)
    party["supplies"] = [{"dataset": d, "fields": list(dataset_fields(d))} for d in answer.datasets]
    return party


def _pairs(datasets: set[str]) -> list[list[str]]:
    ordered = sorted(datasets)
    return [[a, b] for i, a in enumerate(ordered) for b in ordered[i:]]


def draft(answers: Answers) -> dict[str, Any]:
    """A complete agreement document (``schema_version`` 2) from ``answers``."""
    datasets = {d for p in answers.parties for d in p.datasets}
    start = answers.start
    expiry = date(start.year + answers.years, start.month, 1) - timedelta(days=1)
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": answers.id,
        "version": 1,
        "title": answers.title,
        "purpose": answers.purpose,
        "benefits": list(answers.benefits),
        "public_task": answers.public_task,
        "linkage_key_fingerprint": answers.linkage_key_fingerprint,
        "encoding": dict(answers.encoding),
        "hub": {"organisation": "HUB", "role": "processor", "name": "BOLD Hub"},
        "parties": [party_entry(p) for p in answers.parties],
        "consent": (
            [{"dataset": "victims", "field": "consent", "required_value": "Y"}]
            if "victims" in datasets
            else []
        ),
        "linkage": {"allowed_source_pairs": _pairs(datasets), "one_to_one_sources": []},
        "outputs": {"indicators": [], "disclosure_threshold": 10, "recipients": []},
        "retention": dict(DEFAULT_RETENTION),
        "dates": {
            "start": start.isoformat(),
            # The first of the month a year on: a start on 29 February has no anniversary.
            "review": date(start.year + 1, start.month, 1).isoformat(),
            "expiry": expiry.isoformat(),
        },
        "reciprocity": [
            {
                "party": p.organisation,
                "gets": "its own disclosure-controlled release of the outcome indicators "
                "for its cohort, beside the national figures",
                "when": "after each quarterly linkage run, once two output checkers approve",
            }
            for p in answers.parties
        ],
        "purpose_locks": [lock.value for lock in PurposeLock],
    }
    return doc


# The dataset each central body supplies; a council supplies homelessness data.
CENTRAL_SUPPLIES = {
    "MOJ-PROBATION": "probation",
    "DHSC-NDTMS": "treatment",
    "MOJ-VICTIMS": "victims",
}


def usual_dataset(organisation: str) -> str:
    return CENTRAL_SUPPLIES.get(organisation, "homelessness")


def migrated(spec: AgreementSpec) -> dict[str, Any]:
    """A full agreement drafted from an older JSON one: the same parties, keys, encoding
    and linkage terms, as the next version (new id, ``supersedes`` the old), with lawful
    bases and the rest drafted for the DPO to check."""
    old = spec.document
    parties = tuple(
        PartyAnswer(p.organisation, p.signing_key, p.datasets or (usual_dataset(p.organisation),))
        for p in spec.parties
    )
    doc = draft(
        Answers(
            id=f"{spec.id}-v2"[:64],
            title=str(old.get("title") or spec.id),
            linkage_key_fingerprint=spec.key_fingerprint,
            parties=parties,
            encoding=dict(old.get("encoding") or {}),
        )
    )
    doc["version"] = 2
    doc["supersedes"] = spec.id
    if "linkage" in old:
        doc["linkage"] = {
            "allowed_source_pairs": old["linkage"].get("allowed_source_pairs"),
            "one_to_one_sources": old["linkage"].get("one_to_one_sources", []),
        }
    return doc
