"""Agreements at the hub: register one, rotate its linkage key, and tell ingest what a
package under it must satisfy.

The hub holds each agreement's key *fingerprint* and encoding parameters, and each
party's Ed25519 public key; never a linkage key. Registration and key rotation are
audited in the same transaction as the change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boldhub import clock
from boldhub.agreements import enforce
from boldhub.agreements.enforce import Refused, Terms, terms_of
from boldhub.agreements.load import canonical_bytes, signed_message
from boldhub.errors import HubStateError, NotAdmitted, PackageError, SchemaError, UserError
from boldhub.hub import audit, organisations
from boldhub.hub.store import Hub
from boldhub.hub.store.models import Submission
from boldhub.hub.store.trust import Agreement, AgreementParty, AgreementSignature
from boldhub.privacy.agreement import FINGERPRINT_RE, AgreementSpec, linkage_terms
from boldhub.privacy.package import Expect, Expectations, Manifest, VerifiedPackage
from boldhub.privacy.signing import key_id, parse_public_key, verify
from boldhub.schemas import get_dataset


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
    transaction. The old version is linked to it and stays in force until every party has
    signed the new one (``_replaced``); from then on packages encoded under it are
    refused, naming the new version, and what it already holds stays."""
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
            if _replaced(session, agreement):
                version = terms_of(agreement.document).version
                raise PackageError(
                    f"agreement check failed: agreement {aid} version {version}, clause "
                    f"supersedes: {aid} was superseded by agreement "
                    f"{agreement.superseded_by}; packages under {aid} are no longer accepted. "
                    f"Encode again with the file of agreement {agreement.superseded_by} "
                    "(ask the hub's team for it) and submit that package"
                )
            # An unknown dataset is named as such before any term is asked about it.
            get_dataset(manifest.dataset)
            try:
                terms = require_active(session, agreement)
                party = enforce.admit_party(terms, org, manifest.dataset)
            except NotAdmitted as exc:
                raise PackageError(f"{exc.check} check failed: {exc}") from None
            return Expectations(
                agreement_id=aid,
                public_key=parse_public_key(party.signing_key),
                key_fingerprint=agreement.key_fingerprint,
                encoding=dict(agreement.encoding),
            )

    return expect


# ---- lifecycle: draft, signed by every party, active, expired / revoked / superseded ----


def document_sha256(document: dict[str, Any]) -> str:
    """The SHA-256 of the canonical bytes every party signs."""
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


@dataclass(frozen=True)
class Status:
    """Where an agreement is in its lifecycle, and what it still needs to start."""

    agreement_id: str
    version: int
    word: str  # draft, signed, active, expired, revoked or superseded
    signed: list[str]
    missing: list[str]
    reason: str

    @property
    def active(self) -> bool:
        return self.word == "active"


def _signed_on(session: Session, agreement: Agreement) -> dict[str, datetime]:
    """When each party signed this exact version: a signature of an earlier text of the
    same id does not count."""
    sha = document_sha256(agreement.document)
    rows = session.execute(
        select(AgreementSignature).where(AgreementSignature.agreement_id == agreement.id)
    ).scalars()
    return {r.organisation: r.signed_at for r in rows if r.document_sha256 == sha}


def signed_on(hub: Hub, agreement_id: str) -> dict[str, datetime]:
    with hub.sessions() as session:
        return _signed_on(session, _get(session, agreement_id))


def _status(session: Session, agreement: Agreement) -> Status:
    terms = terms_of(agreement.document)
    signed = sorted(_signed_on(session, agreement))
    missing = sorted({p.organisation for p in terms.parties} - set(signed))
    today = clock.today()

    def status(word: str, reason: str) -> Status:
        return Status(agreement.id, terms.version, word, signed, missing, reason)

    if agreement.revoked_at is not None:
        return status("revoked", f"revoked on {agreement.revoked_at.date().isoformat()}")
    if _replaced(session, agreement):
        return status("superseded", f"superseded by agreement {agreement.superseded_by}")
    if missing:
        return status("draft", f"waiting for the signatures of {', '.join(missing)}")
    if terms.start is not None and today < terms.start:
        return status("signed", f"signed by every party; starts on {terms.start.isoformat()}")
    if terms.expiry is not None and today > terms.expiry:
        return status("expired", f"expired on {terms.expiry.isoformat()}")
    return status("active", "signed by every party and in force")


def _replaced(session: Session, agreement: Agreement) -> bool:
    """Whether an amendment has taken this version's place: only once every party has
    signed the new version. Until then the old one stays in force, so that registering
    an amendment alone never halts sharing that every party agreed to."""
    if agreement.superseded_by is None:
        return False
    successor = session.get(Agreement, agreement.superseded_by)
    return successor is not None and not _status(session, successor).missing


def status(hub: Hub, agreement_id: str) -> Status:
    with hub.sessions() as session:
        return _status(session, _get(session, agreement_id))


def statuses(hub: Hub) -> list[Status]:
    with hub.sessions() as session:
        rows = session.execute(select(Agreement).order_by(Agreement.id)).scalars()
        return [_status(session, row) for row in rows]


def _get(session: Session, agreement_id: str) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise HubStateError(
            f"agreement {agreement_id!r} is not registered at this hub; register it with "
            "`boldhub agreement register FILE`"
        )
    return agreement


_CLAUSE_OF = {
    "draft": "signatures",
    "signed": "dates.start",
    "expired": "dates.expiry",
    "revoked": "revocation",
    "superseded": "supersedes",
}


def require_active(session: Session, agreement: Agreement) -> Terms:
    """The agreement's terms, when it is active; Refused naming why it is not. Nothing is
    accepted, linked or released outside an active agreement."""
    terms = terms_of(agreement.document)
    found = _status(session, agreement)
    if not found.active:
        raise Refused(
            terms,
            _CLAUSE_OF[found.word],
            f"the agreement is {found.word} ({found.reason}); nothing is accepted, linked or "
            "released under it until it is active",
        )
    return terms


def active_terms(hub: Hub, agreement_id: str) -> Terms:
    with hub.sessions() as session:
        return require_active(session, _get(session, agreement_id))


@dataclass(frozen=True)
class SignResult:
    agreement_id: str
    organisation: str
    signer: str
    status: Status


def sign(
    hub: Hub, agreement_id: str, organisation: str, signature: str, *, actor: str = "cli"
) -> SignResult:
    """Record ``organisation``'s sign-off: ``signature`` (a signature file's text, from
    ``boldhub agreement sign``) must be over this version's canonical bytes, by the party's
    DPO key or its registered organisation key. Audited with the change."""
    with hub.sessions() as session, session.begin():
        agreement = _get(session, agreement_id)
        terms = terms_of(agreement.document)
        party = terms.party(organisation)
        if party is None:
            raise UserError(f"{organisation} is not a party to agreement {agreement_id}")
        before = _status(session, agreement)
        if before.word in ("revoked", "superseded"):
            raise UserError(
                f"agreement {agreement_id} is {before.word}; it can no longer be signed"
            )
        data = signed_message(agreement.document)
        # The DPO's own key when the agreement names one; only otherwise the
        # organisation's registered key (the one that also signs its packages).
        who, public = (
            ("dpo", party.dpo_key) if party.dpo_key else ("organisation", party.signing_key)
        )
        signer = who if verify(parse_public_key(public), data, signature) else None
        if signer is None:
            raise UserError(
                f"this is not a signature of this version of agreement {agreement_id} (version "
                f"{terms.version}) by {organisation}'s {'DPO' if party.dpo_key else 'registered'} key; "
                "download the "
                "agreement the hub registered, sign that file with `boldhub agreement sign FILE "
                "--key KEYFILE --organisation ORG`, and give all three lines it prints"
            )
        sha = document_sha256(agreement.document)
        row = session.get(AgreementSignature, (agreement_id, organisation))
        if row is None:
            row = AgreementSignature(agreement_id=agreement_id, organisation=organisation)
            session.add(row)
        row.signer, row.key_id = signer, key_id(parse_public_key(public))
        row.document_sha256, row.signature, row.signed_at = sha, signature, clock.now()
        session.flush()
        after = _status(session, agreement)
        audit.append(
            session,
            actor=actor,
            action="agreement.signed",
            subject=agreement_id,
            organisation=organisation,
            details={
                "version": terms.version,
                "document_sha256": sha,
                "signer": signer,
                "key_id": row.key_id,
                "status": after.word,
                "missing": after.missing,
            },
        )
    return SignResult(agreement_id, organisation, signer, after)


def revoke(hub: Hub, agreement_id: str, reason: str, *, actor: str = "cli") -> Status:
    """End an agreement before its expiry: nothing more is accepted, linked or released."""
    if not reason.strip():
        raise UserError("say why the agreement is revoked: --reason TEXT")
    with hub.sessions() as session, session.begin():
        agreement = _get(session, agreement_id)
        if agreement.revoked_at is not None:
            raise UserError(f"agreement {agreement_id} is already revoked")
        agreement.revoked_at, agreement.revoked_reason = clock.now(), reason.strip()
        audit.append(
            session,
            actor=actor,
            action="agreement.revoked",
            subject=agreement_id,
            details={"reason": reason.strip()},
        )
        session.flush()
        return _status(session, agreement)


def admit_contents(hub: Hub, package: VerifiedPackage) -> None:
    """What a verified package holds, against its agreement: only the fields the party's
    supply lists, and no record its consent rule leaves out. PackageError naming the
    clause; called before anything of the package is stored."""
    m = package.manifest
    with hub.sessions() as session:
        terms = terms_of(_get(session, m.agreement_id).document)
    try:
        party = enforce.admit_party(terms, m.organisation, m.dataset)
        enforce.admit_linkable(terms, m.source)
        # An attribute sent empty carries nothing: the council empties the ones its
        # supply does not list.
        attributes = package.attributes
        carried = [
            c
            for c in attributes.column_names[1:]
            if attributes.column(c).null_count < attributes.num_rows
        ]
        enforce.admit_fields(terms, party, m.dataset, enforce.carried_fields(m.dataset, carried))
        rule = enforce.consent_rule(terms, m.dataset)
        if rule is not None:
            column = rule[1]
            values = (
                package.attributes.column(column).to_pylist()
                if column in package.attributes.column_names
                else [None] * package.attributes.num_rows
            )
            enforce.admit_consent(terms, m.dataset, values)
    except NotAdmitted as exc:
        raise PackageError(f"{exc.check} check failed: {exc}") from None
