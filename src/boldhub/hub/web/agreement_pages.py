"""Agreements on the hub's pages: each party's list and sign-off, the wizard that drafts a
new agreement, and the public transparency register.

A party's DPO signs on their own machine (`boldhub agreement sign`) over the exact file
the hub registered, downloaded here, and pastes the signature: the private key never
reaches the hub. Other organisations' agreements read as absent, like their submissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData

from boldhub.agreements import wizard
from boldhub.agreements.catalogue import catalogue
from boldhub.agreements.draft import usual_dataset
from boldhub.agreements.enforce import terms_of
from boldhub.agreements.load import dump_yaml
from boldhub.agreements.model import AgreementDoc
from boldhub.agreements.render import agreement_html, listed
from boldhub.errors import Denied, UserError
from boldhub.hub import agreements
from boldhub.hub.accounts import Principal
from boldhub.hub.api.deps import HubDep, MaybeUser
from boldhub.hub.service import organisations
from boldhub.hub.store import Hub
from boldhub.hub.store.models import AuditEvent
from boldhub.hub.store.trust import Agreement
from boldhub.hub.web.render import check_csrf, render, to_sign_in
from boldhub.hub.web.wording import long_date, sentence
from boldhub.privacy.agreement import parse_agreement
from boldhub.schemas import DATASETS
from boldhub.schemas.organisations import get_organisation

router = APIRouter(include_in_schema=False)
# Other parties a wizard form may carry: enough for any agreement, few enough to read.
MAX_ROWS = 20

# Words once in force: the public register lists these (a draft was never in force).
ONCE_IN_FORCE = ("active", "expired", "revoked", "superseded")
TAGS = {"active": "green", "draft": "yellow", "signed": "", "expired": "grey"}
ROLE_WORDS = {
    "controller": "Controller",
    "joint_controller": "Joint controller",
    "processor": "Processor",
}
LOCK_WORDS = {
    "no_immigration_enforcement": "Not used for immigration enforcement",
    "no_benefit_fraud_detection": "Not used to detect benefit fraud",
    "no_individual_risk_scoring": "Not used to score any individual's risk",
    "no_record_level_release": "No record about a person is released: statistics only",
}
RETENTION_WORDS = (
    ("encodings_days", "Keyed encodings of identifiers"),
    ("attributes_days", "Non-identifying facts of each record"),
    ("link_maps_days", "Which records were linked"),
    ("releases_days", "Released statistics"),
)


# ---- what a page shows of an agreement ---------------------------------------------------


def _names(hub: Hub) -> dict[str, str]:
    return {o.code: o.name for o in organisations(hub)}


def _name(code: str, names: dict[str, str]) -> str:
    if code in names:
        return names[code]
    try:
        return get_organisation(code).name
    except UserError:
        return code


def _years(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return "1 year" if years == 1 else f"{years} years"
    return f"{days} days"


@dataclass(frozen=True)
class Basis:
    words: str
    title: str
    citation: str


@dataclass(frozen=True)
class PartyFacts:
    code: str
    name: str
    role: str
    supplies: list[tuple[str, str]]  # (dataset title, its fields)
    bases: list[Basis]
    law: str


@dataclass(frozen=True)
class Facts:
    """An agreement's key facts in plain words; an older agreement (no schema_version)
    holds only its parties, so the rest is empty."""

    title: str
    version: int
    full: bool
    purpose: str = ""
    benefits: list[str] = field(default_factory=list)
    parties: list[PartyFacts] = field(default_factory=list)
    dates: list[tuple[str, str]] = field(default_factory=list)
    retention: list[tuple[str, str]] = field(default_factory=list)
    locks: list[str] = field(default_factory=list)


def _bases(basis: dict[str, Any]) -> list[Basis]:
    cat = catalogue()
    out = []
    for key, words in wizard.BASIS_WORDS:
        entry = cat.get(str(basis.get(key) or ""))
        if entry is not None:
            out.append(Basis(words, entry.title, entry.citation))
    return out


def facts(document: dict[str, Any], names: dict[str, str]) -> Facts:
    terms = terms_of(document)
    title = str(document.get("title") or document["id"])
    if terms.legacy:
        parties = [
            PartyFacts(p.organisation, _name(p.organisation, names), "", [], [], "")
            for p in terms.parties
        ]
        return Facts(title, terms.version, False, parties=parties)
    party_facts = []
    for p in document["parties"]:
        basis = p.get("lawful_basis") or {}
        supplies = [
            (
                DATASETS[s["dataset"]].title if s["dataset"] in DATASETS else s["dataset"],
                ", ".join(s["fields"]),
            )
            for s in p.get("supplies", [])
        ]
        party_facts.append(
            PartyFacts(
                p["organisation"],
                _name(p["organisation"], names),
                ROLE_WORDS.get(p["role"], p["role"]),
                supplies,
                _bases(basis),
                str(basis.get("law") or ""),
            )
        )
    dates = document["dates"]
    retention = document["retention"]
    return Facts(
        title,
        terms.version,
        True,
        purpose=document["purpose"],
        benefits=list(document["benefits"]),
        parties=party_facts,
        dates=[
            ("Starts", long_date(date.fromisoformat(dates["start"]))),
            ("Reviewed", long_date(date.fromisoformat(dates["review"]))),
            ("Ends", long_date(date.fromisoformat(dates["expiry"]))),
        ],
        retention=[(words, _years(int(retention[key]))) for key, words in RETENTION_WORDS],
        locks=[
            LOCK_WORDS.get(lock, sentence(lock.replace("_", " "))) for lock in terms.purpose_locks
        ],
    )


def status_words(status: agreements.Status, names: dict[str, str]) -> str:
    """Where the agreement stands, naming the organisations still to sign."""
    if status.word == "draft":
        return "Waiting for the signatures of " + listed(
            sorted(_name(code, names) for code in status.missing)
        )
    return sentence(status.reason)


@dataclass(frozen=True)
class Listed:
    id: str
    title: str
    version: int
    word: str
    tag: str
    words: str


def _party_codes(document: dict[str, Any]) -> list[str]:
    return [str(p.get("organisation")) for p in document.get("parties", [])]


def _may_see(user: Principal, document: dict[str, Any]) -> bool:
    # The hub's own team runs the registry; everyone else sees their own agreements only.
    return user.org_kind == "hub" or user.organisation in _party_codes(document)


def _documents(hub: Hub) -> dict[str, dict[str, Any]]:
    with hub.sessions() as session:
        return {a.id: a.document for a in session.execute(select(Agreement)).scalars()}


@router.get("/agreements")
def agreements_page(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    documents = _documents(hub)
    names = _names(hub)
    rows = [
        Listed(
            s.agreement_id,
            str(documents[s.agreement_id].get("title") or s.agreement_id),
            s.version,
            s.word,
            TAGS.get(s.word, "grey"),
            status_words(s, names),
        )
        for s in agreements.statuses(hub)
        if _may_see(user, documents[s.agreement_id])
    ]
    return render(
        request,
        "agreement_list.html",
        user,
        rows=rows,
        can_draft=_may_draft(user),
        organisation=_name(user.organisation, names),
    )


# ---- one agreement, and signing it -------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    code: str
    name: str
    when: str  # empty: not signed yet


def _found(hub: Hub, user: Principal, agreement_id: str) -> dict[str, Any] | None:
    with hub.sessions() as session:
        row = session.get(Agreement, agreement_id)
        document = None if row is None else row.document
    if document is None or not _may_see(user, document):
        return None
    return document


def yaml_name(agreement_id: str) -> str:
    return f"{agreement_id}.yaml"


def _detail(
    request: Request,
    hub: Hub,
    user: Principal,
    agreement_id: str,
    document: dict[str, Any],
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    message: str = "",
) -> HTMLResponse:
    names = _names(hub)
    found = agreements.status(hub, agreement_id)
    when = {org: at.date() for org, at in agreements.signed_on(hub, agreement_id).items()}
    parties = _party_codes(document)
    mine = user.organisation in parties
    signable = found.word not in ("revoked", "superseded")
    return render(
        request,
        "agreement.html",
        user,
        status,
        agreement_id=agreement_id,
        facts=facts(document, names),
        state=found,
        tag=TAGS.get(found.word, "grey"),
        words=status_words(found, names),
        signed=[
            Signed(code, _name(code, names), long_date(when[code]) if code in when else "")
            for code in parties
        ],
        can_sign=mine and user.role == "dpo" and signable and user.organisation not in when,
        mine_signed=long_date(when[user.organisation]) if user.organisation in when else "",
        is_party=mine,
        sha256=agreements.document_sha256(document),
        file_name=yaml_name(agreement_id),
        has_document=not terms_of(document).legacy,
        message=message,
        errors=errors or [],
    )


def _not_found(request: Request, user: Principal) -> HTMLResponse:
    return render(request, "not_found.html", user, 404, what="agreement at this address")


@router.get("/agreements/new")
def wizard_page(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    _require_drafter(user)
    answers = wizard.initial()
    if user.org_kind != "hub":
        # A party's DPO drafts for their own organisation; the hub's team for anyone.
        answers["organisation"] = user.organisation
        answers["datasets"] = [usual_dataset(user.organisation)]
    return _wizard_view(request, user, answers, rows=2)


@router.get("/agreements/{agreement_id}")
def agreement_page(
    request: Request,
    agreement_id: str,
    hub: HubDep,
    user: MaybeUser,
    done: str = "",
) -> Response:
    if user is None:
        return to_sign_in(request)
    document = _found(hub, user, agreement_id)
    if document is None:
        return _not_found(request, user)
    # Only fixed texts, chosen by a short code: the address cannot put words on the page.
    messages = {
        "signed": "Your signature is recorded against this exact version.",
        "registered": "The agreement is registered. It stays a draft until every party's "
        "data protection officer signs it here.",
    }
    return _detail(request, hub, user, agreement_id, document, message=messages.get(done, ""))


@router.get("/agreements/{agreement_id}/agreement.yaml")
def agreement_file(request: Request, agreement_id: str, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    document = _found(hub, user, agreement_id)
    if document is None:
        return _not_found(request, user)
    # The registered data written out again: signing this file signs the same canonical
    # bytes the hub checks, whatever the layout of the file first registered.
    return Response(
        dump_yaml(document),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{yaml_name(agreement_id)}"'},
    )


@router.get("/agreements/{agreement_id}/document")
def agreement_document(
    request: Request, agreement_id: str, hub: HubDep, user: MaybeUser
) -> Response:
    if user is None:
        return to_sign_in(request)
    document = _found(hub, user, agreement_id)
    if document is None or terms_of(document).legacy:
        return _not_found(request, user)
    try:
        doc = AgreementDoc.model_validate(document)
    except ValidationError:
        return _not_found(request, user)
    found = agreements.status(hub, agreement_id)
    return HTMLResponse(
        agreement_html(
            doc, status={"status": found.word, "signed": found.signed, "missing": found.missing}
        )
    )


@router.post("/agreements/{agreement_id}/sign")
async def sign_agreement(
    request: Request, agreement_id: str, hub: HubDep, user: MaybeUser
) -> Response:
    if user is None:
        return to_sign_in(request)
    form = await request.form()
    check_csrf(request, _field(form, "csrf_token"))
    document = _found(hub, user, agreement_id)
    if document is None or user.organisation not in _party_codes(document):
        return _not_found(request, user)
    if user.role != "dpo":
        raise Denied(
            "Only your organisation's data protection officer can sign an agreement for it. "
            "Ask them to sign it here."
        )
    # Browsers send a textarea's lines with CRLF; the signature file has LF lines.
    text = "\n".join(line.strip() for line in _field(form, "signature").splitlines()).strip()
    error = ""
    if not text:
        error = "Paste the signature that boldhub agreement sign printed"
    else:
        try:
            agreements.sign(hub, agreement_id, user.organisation, text + "\n", actor=user.actor)
        except UserError as exc:
            error = sentence(str(exc))
    if error:
        return _detail(
            request, hub, user, agreement_id, document, 400, errors=[("signature", error)]
        )
    return RedirectResponse(f"/agreements/{agreement_id}?done=signed", status_code=303)


# ---- the wizard --------------------------------------------------------------------------


def _may_draft(user: Principal) -> bool:
    return user.role in ("dpo", "admin")


def _require_drafter(user: Principal) -> None:
    if not _may_draft(user):
        raise Denied(
            "Only a data protection officer or an admin can draft an agreement here. Ask "
            "your organisation's data protection officer."
        )


def _may_register(user: Principal) -> bool:
    return user.org_kind == "hub" and user.role == "admin"


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _answers_from(form: FormData) -> tuple[dict[str, Any], int]:
    """A posted wizard form as raw answers, and how many party rows it showed."""
    raw: dict[str, Any] = {q.key: _field(form, q.key) for q in wizard.QUESTIONS}
    raw["datasets"] = [v for v in form.getlist("datasets") if isinstance(v, str)]
    shown = _field(form, "rows")
    rows = int(shown) if shown.isdigit() else 0
    rows = max(1, min(rows, MAX_ROWS))
    raw["parties"] = [
        {part: _field(form, wizard.party_key(i, part)) for part, _ in wizard.PARTY_PARTS}
        for i in range(1, rows + 1)
    ]
    return raw, rows


def _wizard_view(
    request: Request,
    user: Principal,
    answers: dict[str, Any],
    rows: int,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    result: wizard.Result | None = None,
) -> HTMLResponse:
    parties = list(answers.get("parties") or [])
    blank = {part: "" for part, _ in wizard.PARTY_PARTS}
    parties += [dict(blank) for _ in range(max(rows, len(parties) + 1) - len(parties))]
    return render(
        request,
        "agreement_new.html",
        user,
        status,
        questions=wizard.QUESTIONS,
        answers=answers,
        parties=parties,
        party_parts=wizard.PARTY_PARTS,
        datasets=wizard.DATASET_CHOICES,
        result=result,
        can_register=_may_register(user),
        errors=errors or [],
    )


@router.post("/agreements/new")
async def wizard_submit(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    if user is None:
        return to_sign_in(request)
    form = await request.form()
    check_csrf(request, _field(form, "csrf_token"))
    _require_drafter(user)
    raw, rows = _answers_from(form)
    action = _field(form, "action")
    if action == "add-party":
        return _wizard_view(request, user, wizard.normalise(raw), min(rows + 1, MAX_ROWS))
    result = wizard.run(raw, "agreement.yaml")
    if not result.ok or result.document is None:
        return _wizard_view(request, user, result.answers, rows, 400, result.problems, result)
    if action == "download":
        return Response(
            result.yaml,
            media_type="application/yaml; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{yaml_name(result.answers["id"])}"'
            },
        )
    if action == "register" and _may_register(user):
        try:
            agreements.register(hub, parse_agreement(result.document), actor=user.actor)
        except UserError as exc:
            errors = [("id", sentence(str(exc)))]
            return _wizard_view(request, user, result.answers, rows, 400, errors, result)
        return RedirectResponse(
            f"/agreements/{result.answers['id']}?done=registered", status_code=303
        )
    return _wizard_view(request, user, result.answers, rows, result=result)


# ---- the public register ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    facts: Facts
    word: str
    tag: str
    words: str
    releases: list[tuple[str, str]]  # (run, date)


def _releases(hub: Hub) -> dict[str, list[tuple[str, str]]]:
    """Each agreement's releases, newest first: the run and the day, nothing else."""
    out: dict[str, list[tuple[str, str]]] = {}
    with hub.sessions() as session:
        events = session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == "reports.released")
            .order_by(AuditEvent.seq.desc())
        ).scalars()
        for e in events:
            agreement = (e.details or {}).get("agreement")
            if isinstance(agreement, str):
                day = long_date(date.fromisoformat(e.at[:10]))
                out.setdefault(agreement, []).append((e.subject, day))
    return out


@router.get("/register")
def register_page(request: Request, hub: HubDep, user: MaybeUser) -> Response:
    documents = _documents(hub)
    names = _names(hub)
    releases = _releases(hub)
    entries = [
        Entry(
            facts(documents[s.agreement_id], names),
            s.word,
            TAGS.get(s.word, "grey"),
            status_words(s, names),
            releases.get(s.agreement_id, []),
        )
        for s in agreements.statuses(hub)
        # Only what every party signed was ever in force; a revoked draft never was.
        if s.word in ONCE_IN_FORCE and not s.missing
    ]
    return render(request, "register.html", user, entries=entries)
