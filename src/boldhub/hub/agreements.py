"""Agreements at the hub: register one, rotate its linkage key, and tell ingest what a
package under it must satisfy.

The hub holds each agreement's key *fingerprint* and encoding parameters, and each
party's Ed25519 public key; never a linkage key. Registration and key rotation are
audited in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boldhub import clock
from boldhub.errors import HubStateError, NotAdmitted, PackageError, SchemaError, UserError
from boldhub.hub import audit, organisations
from boldhub.hub.store import Hub
from boldhub.hub.store.models import Submission
from boldhub.hub.store.trust import Agreement, AgreementParty
from boldhub.privacy.agreement import (
    FINGERPRINT_RE,
    AgreementSpec,
    admit,
    linkage_terms,
)
from boldhub.privacy.package import Expect, Expectations, Manifest
from boldhub.privacy.signing import key_id, parse_public_key


@dataclass(frozen=True)
class RegisterResult:
    agreement_id: str
    parties: int
    created: bool


def _checked_terms(spec: AgreementSpec) -> None:
    """The document is stored as given, so its linkage terms are checked again here: the
    spec may have been parsed before its document was last changed."""
    try:
        linkage_terms(spec.document)
    except SchemaError as exc:
        raise SchemaError(f"agreement {spec.id}: {exc}") from None


def _insert(session: Session, spec: AgreementSpec, supersedes: str | None = None) -> Agreement:
    for party in spec.parties:
        organisations.lookup(session, party.organisation)
    row = Agreement(
        id=spec.id,
        key_fingerprint=spec.key_fingerprint,
        encoding=spec.encoding.as_dict(),
        document=spec.document,
        registered_at=clock.now(),
        key_rotated_at=None,
        supersedes=supersedes,
    )
    session.add(row)
    session.flush()
    for party in spec.parties:
        session.add(
            AgreementParty(
                agreement_id=spec.id,
                organisation=party.organisation,
                signing_key=party.signing_key,
                signing_key_id=key_id(parse_public_key(party.signing_key)),
                datasets=list(party.datasets),
            )
        )
    return row


def register(hub: Hub, spec: AgreementSpec, *, actor: str = "cli") -> RegisterResult:
    """Register an agreement; registering the identical agreement again changes nothing."""
    _checked_terms(spec)
    with hub.sessions() as session, session.begin():
        existing = session.get(Agreement, spec.id)
        if existing is not None:
            if existing.document == spec.document:
                return RegisterResult(spec.id, len(spec.parties), False)
            raise UserError(
                f"agreement {spec.id} is already registered with other terms; to change it, "
                "give the new version its own id in the file and run `boldhub agreement "
                f"amend FILE --supersedes {spec.id}` (or `boldhub agreement rotate-key` to "
                "change only its key)"
            )
        _insert(session, spec)
        audit.append(
            session,
            actor=actor,
            action="agreement.registered",
            subject=spec.id,
            details={
                "key_fingerprint": spec.key_fingerprint,
                "encoding": spec.encoding.as_dict(),
                "parties": sorted(p.organisation for p in spec.parties),
            },
        )
    return RegisterResult(spec.id, len(spec.parties), True)


def _supersedable(session: Session, old_id: str, new_id: str) -> Agreement:
    old = session.get(Agreement, old_id)
    if old is None:
        raise HubStateError(
            f"agreement {old_id!r} is not registered at this hub, so there is nothing to "
            "supersede; register the file with `boldhub agreement register FILE`"
        )
    if old.superseded_by is not None:
        raise UserError(
            f"agreement {old_id} was already superseded by {old.superseded_by}; amend "
            f"{old.superseded_by}, the version in force, instead"
        )
    if new_id == old_id:
        raise UserError(
            f'the new version needs its own id: change "id" in the file (e.g. to '
            f"{old_id}-v2) and keep {old_id} for the record"
        )
    if session.get(Agreement, new_id) is not None:
        raise UserError(
            f"agreement {new_id} is already registered; give the new version an id not used yet"
        )
    return old


def amend(hub: Hub, spec: AgreementSpec, supersedes: str, *, actor: str = "cli") -> AmendResult:
    """Register ``spec`` as the new version of agreement ``supersedes``, in one audited
    transaction. The old version is kept, marked superseded: packages encoded under it
    are refused from now on, naming the new version; what it already holds stays."""
    _checked_terms(spec)
    with hub.sessions() as session, session.begin():
        old = _supersedable(session, supersedes, spec.id)
        old_parties = set(
            session.execute(
                select(AgreementParty.organisation).where(AgreementParty.agreement_id == old.id)
            ).scalars()
        )
        _insert(session, spec, supersedes=old.id)
        old.superseded_by = spec.id
        old.superseded_at = clock.now()
        new_parties = {p.organisation for p in spec.parties}
        audit.append(
            session,
            actor=actor,
            action="agreement.amended",
            subject=spec.id,
            details={
                "supersedes": old.id,
                "key_fingerprint": spec.key_fingerprint,
                "encoding": spec.encoding.as_dict(),
                "parties": sorted(new_parties),
                "parties_added": sorted(new_parties - old_parties),
                "parties_removed": sorted(old_parties - new_parties),
                "terms_changed": old.document != spec.document,
            },
        )
    return AmendResult(spec.id, supersedes, sorted(new_parties - old_parties))


@dataclass(frozen=True)
class AmendResult:
    agreement_id: str
    supersedes: str
    parties_added: list[str]


@dataclass(frozen=True)
class RotateResult:
    agreement_id: str
    old_fingerprint: str
    new_fingerprint: str
    retired: list[str]


def rotate_key(
    hub: Hub, agreement_id: str, fingerprint: str, *, actor: str = "cli"
) -> RotateResult:
    """Move an agreement to a new linkage key (by its fingerprint).

    From now on packages encoded with the old key are refused. Current submissions under
    the old key are retired (their encodings cannot link with the new key's): each party
    re-encodes its prepared data with the new key and submits again.
    """
    if not FINGERPRINT_RE.match(fingerprint):
        raise UserError(
            "--fingerprint must be 32 hex digits; get it with `boldhub keys fingerprint KEYFILE`"
        )
    with hub.sessions() as session, session.begin():
        agreement = session.get(Agreement, agreement_id)
        if agreement is None:
            raise HubStateError(f"agreement {agreement_id!r} is not registered at this hub")
        if agreement.superseded_by is not None:
            raise UserError(
                f"agreement {agreement_id} was superseded by {agreement.superseded_by}; "
                "rotate the key of the version in force"
            )
        old = agreement.key_fingerprint
        if old == fingerprint:
            raise UserError(f"agreement {agreement_id} already uses key {fingerprint[:8]}...")
        agreement.key_fingerprint = fingerprint
        agreement.key_rotated_at = clock.now()
        retired = []
        for sub in session.execute(
            select(Submission).where(Submission.status == "current")
        ).scalars():
            under = Manifest.from_stored(sub.manifest).agreement_id
            if under == agreement_id and sub.key_fingerprint == old:
                sub.status = "retired"
                retired.append(sub.id)
        audit.append(
            session,
            actor=actor,
            action="agreement.key_rotated",
            subject=agreement_id,
            details={"old_fingerprint": old, "new_fingerprint": fingerprint, "retired": retired},
        )
    return RotateResult(agreement_id, old, fingerprint, retired)


def describe(hub: Hub, agreement_id: str) -> dict[str, Any]:
    """The registered terms of an agreement (no secrets: there are none at the hub)."""
    with hub.sessions() as session:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None:
            raise HubStateError(f"agreement {agreement_id!r} is not registered at this hub")
        parties = session.execute(
            select(AgreementParty)
            .where(AgreementParty.agreement_id == agreement_id)
            .order_by(AgreementParty.organisation)
        ).scalars()
        return {
            "id": agreement.id,
            "key_fingerprint": agreement.key_fingerprint,
            "encoding": agreement.encoding,
            "supersedes": agreement.supersedes,
            "superseded_by": agreement.superseded_by,
            "parties": [
                {
                    "organisation": p.organisation,
                    "signing_key_id": p.signing_key_id,
                    "datasets": p.datasets,
                }
                for p in parties
            ],
        }


def expectations(hub: Hub) -> Expect:
    """What ingest checks a manifest against: its agreement and its signer's key."""

    def expect(manifest: Manifest) -> Expectations:
        aid, org = manifest.agreement_id, manifest.organisation
        if not aid:
            raise PackageError(
                "agreement check failed: the manifest names no agreement; encode the data again "
                "under the agreement file the hub registered"
            )
        with hub.sessions() as session:
            agreement = session.get(Agreement, aid)
            if agreement is None:
                raise PackageError(
                    f"agreement check failed: agreement {aid!r} is not registered at this hub; "
                    "ask the hub to register it first"
                )
            if agreement.superseded_by is not None:
                raise PackageError(
                    f"agreement check failed: agreement {aid} was superseded by agreement "
                    f"{agreement.superseded_by}; packages under {aid} are no longer accepted. "
                    f"Encode again with the file of agreement {agreement.superseded_by} "
                    "(ask the hub's team for it) and submit that package"
                )
            row = session.get(AgreementParty, (aid, org))
            try:
                party = admit(aid, None if row is None else row.party(), org, manifest.dataset)
            except NotAdmitted as exc:
                raise PackageError(f"{exc.check} check failed: {exc}") from None
            return Expectations(
                agreement_id=aid,
                public_key=parse_public_key(party.signing_key),
                key_fingerprint=agreement.key_fingerprint,
                encoding=dict(agreement.encoding),
            )

    return expect
