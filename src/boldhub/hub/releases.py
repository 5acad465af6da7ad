"""Output releases: drafted from a linkage run, checked by two output checkers, then seen.

A run's outcome tables are drafted into ``HOME/reports/<release>/`` (all or nothing) and
stay invisible to the parties until two different output checkers of the hub's team have
approved them. The person who started the run may not check its outputs, nor may one
person give both approvals; one rejection ends the draft, and its reason is shown on the
release's page. Every draft, decision and release goes on the audit trail; the
``reports.released`` entry is the publication that retention counts from.

Only aggregates are ever drafted: the release builder reads links and attributes and
writes protected tables (``outcomes.disclosure``). Nothing here returns a record.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from boldhub import clock
from boldhub.agreements.enforce import admit_release
from boldhub.errors import Denied, HubStateError, UserError
from boldhub.hub import audit
from boldhub.hub.accounts import Principal
from boldhub.hub.agreements import active_terms
from boldhub.hub.ingest import current_submissions
from boldhub.hub.linking import agreement_of_run, get_run, latest_run, links_path
from boldhub.hub.store import ATTRIBUTES_DIR, Hub
from boldhub.hub.store.models import (
    AuditEvent,
    OutputRelease,
    ReleaseDecision,
    Submission,
    User,
)
from boldhub.hub.store.trust import Agreement
from boldhub.outcomes.dashboard import PreviousRelease, ReleaseContext, read_rows
from boldhub.outcomes.disclosure import ROUNDING_BASE, THRESHOLD
from boldhub.outcomes.release import build_release, render_dashboards
from boldhub.outcomes.tidy import AttributeInput
from boldhub.schemas import get_organisation

REPORTS_DIR = "reports"
APPROVALS_NEEDED = 2
CHECKER_ROLES = frozenset({"output_checker", "admin"})


@dataclass(frozen=True)
class ReleaseView:
    """A release as the pages and commands show it."""

    id: str
    run_id: str
    agreement_id: str | None
    status: str
    drafted_at: datetime
    decided_at: datetime | None
    summary: dict[str, object]
    decisions: tuple[tuple[str, str, str], ...]  # (checker, approve|reject, comment)
    run_started_by: str
    drafted_by: str

    def may_not_check(self, actor: str) -> bool:
        """Whoever started the run or drafted the release checks neither."""
        return actor in (self.run_started_by, self.drafted_by)

    @property
    def approvals(self) -> int:
        return sum(1 for _, d, _ in self.decisions if d == "approve")

    @property
    def rejection(self) -> str | None:
        return next((c for _, d, c in self.decisions if d == "reject"), None)


def folder_of(hub: Hub, release_id: str) -> Path:
    return hub.path(REPORTS_DIR, release_id)


def draft_release(
    hub: Hub,
    *,
    actor: str,
    agreement: str | None = None,
    run_id: str | None = None,
) -> ReleaseView:
    """Draft the release of run ``run_id`` (default: ``agreement``'s latest run). Nobody
    but the hub's team sees it until it is approved (:func:`decide`)."""
    run = get_run(hub, run_id) if run_id is not None else latest_run(hub, agreement)
    agreement_id = agreement_of_run(hub, run)
    # Asked before anything is computed: a release outside an active agreement is refused
    # naming the clause.
    terms = active_terms(hub, agreement_id) if agreement_id is not None else None
    threshold = max(THRESHOLD, terms.threshold) if terms is not None else THRESHOLD
    subs = [s for s in current_submissions(hub) if s.id in run.submissions]
    if not any(s.dataset == "homelessness" for s in subs):
        raise HubStateError("the linkage run holds no homelessness submissions to report on")
    attrs = [AttributeInput(s.source, hub.path(ATTRIBUTES_DIR, f"{s.id}.parquet")) for s in subs]
    with hub.sessions() as session:
        started_by = session.execute(
            select(AuditEvent.actor)
            .where(AuditEvent.action == "linkage.run", AuditEvent.subject == run.id)
            .order_by(AuditEvent.seq.desc())
        ).scalar()
        n = len(
            session.execute(select(OutputRelease.id).where(OutputRelease.run_id == run.id)).all()
        )
        agreement_row = session.get(Agreement, agreement_id) if agreement_id else None
        title = _agreement_title(agreement_row)
        version = _version(agreement_row)
    release_id = f"{run.id}.r{n + 1}"
    shared = _shared(subs)
    context = ReleaseContext(
        run_id=run.id,
        generated=clock.now().strftime("%-d %B %Y"),
        agreement_id=agreement_id,
        agreement_version=version,
        agreement_title=title,
        shared=shared,
        threshold=threshold,
        base=ROUNDING_BASE,
        approved_by=(),
    )
    final = folder_of(hub, release_id)
    tmp = hub.path(REPORTS_DIR, f".{release_id}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        built = build_release(
            links_path(hub, run.id),
            attrs,
            tmp,
            context,
            threshold=threshold,
            previous=lambda area: previous_releases(hub, area, before=release_id),
        )
        if terms is not None:
            admit_release(terms, built.indicators, threshold, built.areas)
        now = clock.now()
        with hub.sessions() as session, session.begin():
            session.add(
                OutputRelease(
                    id=release_id,
                    run_id=run.id,
                    agreement_id=agreement_id,
                    status="draft",
                    run_started_by=started_by or "unknown",
                    drafted_by=actor,
                    drafted_at=now,
                    decided_at=None,
                    summary=built.summary,
                )
            )
            audit.append(
                session,
                actor=actor,
                action="release.drafted",
                subject=release_id,
                details={
                    "run": run.id,
                    "agreement": agreement_id,
                    "areas": list(built.areas),
                    "suppressed": built.summary["suppressed"],
                },
            )
            session.flush()
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return get_release(hub, release_id)


def decide(
    hub: Hub, release_id: str, checker: Principal, decision: str, comment: str
) -> ReleaseView:
    """An output checker's decision on a draft. The second approval releases it."""
    if decision not in ("approve", "reject"):
        raise UserError("a decision is approve or reject")
    comment = comment.strip()
    if decision == "reject" and not comment:
        raise UserError("say why the draft is rejected: the comment is what its author reads")
    if len(comment) > 2000:
        raise UserError("a comment is at most 2,000 characters")
    if checker.org_kind != "hub" or checker.role not in CHECKER_ROLES:
        raise Denied("only the hub's output checkers may approve or reject a release")
    with hub.sessions() as session, session.begin():
        row = session.get(OutputRelease, release_id, with_for_update=True)
        if row is None:
            raise UserError(f"no release {release_id}; `boldhub release list` shows them")
        if row.status != "draft":
            raise UserError(f"release {release_id} is {row.status}; only a draft can be decided")
        if checker.actor in (row.run_started_by, row.drafted_by):  # as may_not_check
            raise Denied(
                "whoever started the linkage run or drafted its release may not check its "
                "outputs: ask another output checker"
            )
        if session.get(ReleaseDecision, (release_id, checker.actor)) is not None:
            raise Denied(
                "you have already decided on this release: the second approval must come "
                "from another output checker"
            )
        now = clock.now()
        session.add(
            ReleaseDecision(
                release_id=release_id,
                checker=checker.actor,
                decision=decision,
                comment=comment,
                decided_at=now,
            )
        )
        session.flush()
        audit.append(
            session,
            actor=checker.actor,
            action=f"release.{'approved' if decision == 'approve' else 'rejected'}",
            subject=release_id,
            details={"comment": comment, "run": row.run_id},
        )
        approvals = session.execute(
            select(ReleaseDecision.checker).where(
                ReleaseDecision.release_id == release_id, ReleaseDecision.decision == "approve"
            )
        ).all()
        released = decision == "approve" and len(approvals) >= APPROVALS_NEEDED
        if decision == "reject":
            row.status, row.decided_at = "rejected", now
        elif released:
            row.status, row.decided_at = "approved", now
            audit.append(
                session,
                actor=checker.actor,
                action="reports.released",
                subject=release_id,
                details={
                    "agreement": row.agreement_id,
                    "run": row.run_id,
                    "areas": list(row.summary.get("areas", [])),
                },
            )
    if released:
        _name_checkers(hub, release_id)
    return get_release(hub, release_id)


def _name_checkers(hub: Hub, release_id: str) -> None:
    """Render the dashboards again, naming who approved them (the figures come from the
    same CSV files, so nothing else changes)."""
    view = get_release(hub, release_id)
    folder = folder_of(hub, release_id)
    context = _context_of(hub, view)
    render_dashboards(
        folder,
        context,
        previous=lambda area: previous_releases(hub, area, before=release_id),
    )


def _context_of(hub: Hub, view: ReleaseView) -> ReleaseContext:
    names = []
    with hub.sessions() as session:
        for checker, decision, _ in view.decisions:
            if decision != "approve":
                continue
            user_id = checker.removeprefix("user:")
            user = session.get(User, int(user_id)) if user_id.isdigit() else None
            names.append(user.name if user is not None else checker)
        agreement = session.get(Agreement, view.agreement_id) if view.agreement_id else None
        title = _agreement_title(agreement)
        version = _version(agreement)
        run = get_run(hub, view.run_id)
    shared = _shared([s for s in current_submissions(hub) if s.id in run.submissions])
    threshold = view.summary.get("threshold", THRESHOLD)
    return ReleaseContext(
        run_id=view.run_id,
        generated=view.drafted_at.strftime("%-d %B %Y"),
        agreement_id=view.agreement_id,
        agreement_version=version,
        agreement_title=title,
        shared=shared,
        threshold=threshold if isinstance(threshold, int) else THRESHOLD,
        base=ROUNDING_BASE,
        approved_by=tuple(names),
    )


def _shared(subs: Sequence[Submission]) -> tuple[tuple[str, str, str], ...]:
    """What went into the run, as the release's page says it: (code, name, dataset)."""
    return tuple(
        sorted({(s.organisation, get_organisation(s.organisation).name, s.dataset) for s in subs})
    )


def _agreement_title(agreement: Agreement | None) -> str | None:
    if agreement is None:
        return None
    title = agreement.document.get("title")
    return title if isinstance(title, str) else agreement.id


def _version(agreement: Agreement | None) -> int | None:
    version = agreement.document.get("version") if agreement is not None else None
    return version if isinstance(version, int) else None


def get_release(hub: Hub, release_id: str) -> ReleaseView:
    with hub.sessions() as session:
        row = session.get(OutputRelease, release_id)
        if row is None:
            raise UserError(f"no release {release_id}; `boldhub release list` shows them")
        decisions = session.execute(
            select(ReleaseDecision)
            .where(ReleaseDecision.release_id == release_id)
            .order_by(ReleaseDecision.decided_at)
        ).scalars()
        return ReleaseView(
            row.id,
            row.run_id,
            row.agreement_id,
            row.status,
            row.drafted_at,
            row.decided_at,
            dict(row.summary),
            tuple((d.checker, d.decision, d.comment) for d in decisions),
            row.run_started_by,
            row.drafted_by,
        )


def releases(hub: Hub) -> list[ReleaseView]:
    """Every release, newest first."""
    with hub.sessions() as session:
        ids = session.execute(
            select(OutputRelease.id).order_by(OutputRelease.drafted_at.desc(), OutputRelease.id)
        ).scalars()
        found = list(ids)
    return [get_release(hub, i) for i in found]


def latest_approved(hub: Hub) -> tuple[str, Path] | None:
    """The newest approved release whose files are still kept (retention may have gone
    through older ones): the one every party sees."""
    for view in releases(hub):
        folder = folder_of(hub, view.id)
        if view.status == "approved" and folder.is_dir():
            return view.id, folder
    return None


def previous_releases(hub: Hub, area: str, *, before: str) -> Sequence[PreviousRelease]:
    """The approved releases drafted before ``before``, newest first, with ``area``'s rows."""
    out = []
    for view in releases(hub):
        if view.status != "approved" or view.id >= before:
            continue
        path = folder_of(hub, view.id) / f"{area}.csv"
        if path.is_file():
            label = f"released {view.decided_at:%-d %B %Y}" if view.decided_at else view.id
            out.append(PreviousRelease(view.id, label, read_rows(path)))
    return out


def copy_release(folder: Path, out: Path) -> None:
    """The operator's copy of a release's files."""
    out.mkdir(parents=True, exist_ok=True)
    for item in folder.iterdir():
        if item.is_file():
            shutil.copy2(item, out / item.name)
