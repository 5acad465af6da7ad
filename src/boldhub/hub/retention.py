"""Retention: delete from every store what is past its agreement's retention period.

An agreement in the new format (``schema_version: 2``) has retention terms
(``agreements.model.Retention``): days to keep encodings, attributes, link maps and
releases. Older agreements have none, and nothing of theirs is deleted; the run says so.

What counts from when:

- A **submission** (its row, its encodings, its attributes and the hub's copy of its
  manifest and signature) goes as one unit, when the first of its encodings and attributes
  periods ends, counted from ``Submission.received_at``. The pages, linkage and releases
  read the row and both files together, so a row whose file is gone would break them;
  keeping nothing longer than its period means the unit goes at the earlier date.
- A **linkage run** (its row and ``HOME/runs/<run>/``: link map, model copy, quality
  report) goes when its agreement's link-maps period ends, counted from the run's finish,
  or when any submission it linked goes, whichever is first: its link map holds the
  record keys of every input, so it cannot outlive the earliest-expiring one. A run whose
  input is already missing goes at once.
- A **release** (``HOME/reports/<release>/`` and its row and checkers' decisions) goes when
  the releases period ends, counted from its publication (the newest ``reports.released``
  audit entry for it), or for a draft never approved, from its drafting. A release holds
  disclosure-controlled counts only, so it keeps its own period after its run went.
- An agreement's **saved models** (``HOME/models/<agreement>/``: trained m and u
  probabilities, no records) go once nothing else of the agreement is left at the hub.

DuckDB holds nothing at the hub between commands: linkage and indicators use in-memory
connections whose scratch folders are removed on close, so there is no DuckDB file to
delete. The audit trail is kept: it holds ids, codes and counts, never an identifier.

Order: the rows are deleted and the deletion record (``retention.deleted``) appended in
one transaction; the files are deleted after it commits. A file whose row is gone is
harmless (nothing reads it) and is finished on the next run, which looks for the files
that earlier deletion records name; a row whose file is gone would break every page and
command that reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from boldhub import clock
from boldhub.agreements.model import SCHEMA_VERSION, Retention
from boldhub.errors import PackageError
from boldhub.hub import audit
from boldhub.hub.linking import RunSummary
from boldhub.hub.releases import REPORTS_DIR
from boldhub.hub.store import (
    ATTRIBUTES_DIR,
    ENCODINGS_DIR,
    MANIFESTS_DIR,
    MODELS_DIR,
    RUNS_DIR,
    Hub,
)
from boldhub.hub.store.models import (
    AuditEvent,
    LinkageRun,
    OutputRelease,
    ReleaseDecision,
    Submission,
)
from boldhub.hub.store.trust import Agreement
from boldhub.privacy.package import Manifest

log = logging.getLogger("boldhub.retention")

ACTION = "retention.deleted"

Kind = Literal[
    "encodings",
    "attributes",
    "manifests",
    "submissions",
    "link_maps",
    "linkage_runs",
    "releases",
    "models",
]
KINDS: tuple[Kind, ...] = (
    "encodings",
    "attributes",
    "manifests",
    "submissions",
    "link_maps",
    "linkage_runs",
    "releases",
    "models",
)
ROW_KINDS: frozenset[Kind] = frozenset({"submissions", "linkage_runs"})

# Ids become file names below: anything else (a hand-edited audit record, a stray folder)
# is never turned into a path.
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Item:
    """One thing to delete: ``id`` is a submission's id (encodings, attributes, manifests,
    submissions), a run's (link maps, linkage runs, releases) or an agreement's (models)."""

    kind: Kind
    id: str
    agreement: str | None
    due: datetime
    # Named by an earlier deletion record whose file deletion did not finish.
    leftover: bool = False


@dataclass(frozen=True)
class Plan:
    """What is due at ``now``, and the agreements whose data is kept for want of terms."""

    now: datetime
    items: tuple[Item, ...]
    notes: tuple[str, ...] = ()

    def of_kind(self, kind: Kind) -> list[Item]:
        return [i for i in self.items if i.kind == kind]

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS}

    def agreements(self) -> list[str]:
        return sorted({i.agreement for i in self.items if i.agreement is not None})


@dataclass(frozen=True)
class Result:
    plan: Plan
    dry_run: bool
    # The deletion record's sequence number; None when nothing was deleted.
    audit_seq: int | None = None
    # Files that could not be removed now; the next run finds and removes them.
    files_left: int = 0


@dataclass
class _State:
    """What the database holds, read once."""

    terms: dict[str, Retention | None]
    submissions: list[Submission]
    runs: list[LinkageRun]
    published: dict[str, tuple[datetime, str | None]]
    # kind -> id -> when an earlier deletion record named it
    recorded: dict[str, dict[str, datetime]]
    notes: list[str] = field(default_factory=list)


def plan(hub: Hub) -> Plan:
    """Everything past its retention period now (``clock.now()``), with its due date."""
    now = clock.now()
    with hub.sessions() as session:
        state = _read(session)
    sub_agreement = {s.id: _agreement_of_submission(s) for s in state.submissions}
    sub_due: dict[str, datetime | None] = {}
    for sub in state.submissions:
        terms = state.terms.get(sub_agreement[sub.id] or "")
        sub_due[sub.id] = (
            clock.utc(sub.received_at)
            + timedelta(days=min(terms.encodings_days, terms.attributes_days))
            if terms is not None
            else None
        )
    items: list[Item] = []
    for sub in state.submissions:
        due = sub_due[sub.id]
        if due is not None and due <= now:
            items.extend(_submission_items(hub, sub.id, sub_agreement[sub.id], due))
    for run in state.runs:
        agreement = _agreement_of_run(run, sub_agreement)
        due = _run_due(run, state.terms.get(agreement or ""), sub_due, now)
        if due is not None and due <= now:
            items.extend(_run_items(hub, run.id, agreement, due))
    items.extend(_release_items(hub, state, now))
    items.extend(_model_items(hub, state, sub_agreement, items, now))
    items.extend(_leftovers(hub, state, items))
    return Plan(now, tuple(sorted(items, key=_order)), tuple(state.notes))


def run(hub: Hub, *, dry_run: bool = False, actor: str = "cli") -> Result:
    """Delete what :func:`plan` finds, with one ``retention.deleted`` audit record;
    ``dry_run`` only plans."""
    found = plan(hub)
    if dry_run or not found.items:
        return Result(found, dry_run)
    subs = [i.id for i in found.of_kind("submissions")]
    runs = [i.id for i in found.of_kind("linkage_runs")]
    with hub.sessions() as session, session.begin():
        if subs:
            # A replaced submission names its replacement (superseded_by), which may go
            # first (another agreement version's terms) or in the same delete: the
            # reference goes first, so the foreign key never refuses.
            session.execute(
                update(Submission)
                .where(Submission.superseded_by.in_(subs))
                .values(superseded_by=None)
            )
            session.execute(delete(Submission).where(Submission.id.in_(subs)))
        if runs:
            session.execute(delete(LinkageRun).where(LinkageRun.id.in_(runs)))
        releases = [i.id for i in found.of_kind("releases")]
        if releases:
            session.execute(delete(ReleaseDecision).where(ReleaseDecision.release_id.in_(releases)))
            session.execute(delete(OutputRelease).where(OutputRelease.id.in_(releases)))
        entry = audit.append(
            session, actor=actor, action=ACTION, subject="retention", details=_details(found)
        )
        seq = entry.seq
    return Result(found, False, seq, _remove_files(hub, found.items))


# ---- reading the hub -----------------------------------------------------------------


def _read(session: Session) -> _State:
    state = _State(
        terms={},
        submissions=list(session.execute(select(Submission)).scalars()),
        # A running run is never due: its files are still being written.
        runs=list(
            session.execute(select(LinkageRun).where(LinkageRun.state != "running")).scalars()
        ),
        published={},
        recorded=defaultdict(dict),
    )
    for agreement in session.execute(select(Agreement).order_by(Agreement.id)).scalars():
        terms, note = _terms(agreement.id, agreement.document)
        state.terms[agreement.id] = terms
        if note:
            state.notes.append(note)
    events = session.execute(
        select(AuditEvent)
        .where(AuditEvent.action.in_(["reports.released", ACTION]))
        .order_by(AuditEvent.seq)
    ).scalars()
    # A draft never approved counts from its drafting; an approval below replaces that.
    for release in session.execute(select(OutputRelease)).scalars():
        state.published[release.id] = (clock.utc(release.drafted_at), release.agreement_id)
    for event in events:
        at = clock.utc(datetime.fromisoformat(event.at))
        if event.action == ACTION:
            for kind, ids in (event.details.get("deleted") or {}).items():
                state.recorded[kind].update(dict.fromkeys(map(str, ids), at))
        else:
            # A release of the same run again replaces the files: the newest counts.
            named = event.details.get("agreement")
            state.published[event.subject] = (at, named if isinstance(named, str) else None)
    return state


def _terms(agreement_id: str, document: dict[str, Any]) -> tuple[Retention | None, str | None]:
    if document.get("schema_version") != SCHEMA_VERSION:
        return None, (
            f"agreement {agreement_id} has no retention terms; nothing of it is deleted: "
            "migrate it with `boldhub agreement migrate`"
        )
    try:
        return Retention.model_validate(document.get("retention")), None
    except ValidationError:
        # Registration checks the document, so this is a hand-edited row: keeping the
        # data is the mistake that can be put right later.
        return None, (
            f"agreement {agreement_id} has retention terms the hub cannot read; nothing of "
            "it is deleted: register a corrected version with `boldhub agreement amend`"
        )


def _agreement_of_submission(sub: Submission) -> str | None:
    try:
        return Manifest.from_stored(sub.manifest).agreement_id
    except PackageError:
        return None


def _agreement_of_run(run: LinkageRun, sub_agreement: dict[str, str | None]) -> str | None:
    """The run's summary names it; runs from before runs were scoped to one agreement
    are known by their submissions' (as ``linking.agreement_of_run`` reads them)."""
    named = RunSummary.of(run).agreement
    if named is not None:
        return named
    found = sorted({a for s in run.submissions if (a := sub_agreement.get(s)) is not None})
    return found[0] if found else None


def _run_due(
    run: LinkageRun,
    terms: Retention | None,
    sub_due: dict[str, datetime | None],
    now: datetime,
) -> datetime | None:
    candidates = []
    if terms is not None:
        ended = run.finished_at or run.started_at
        candidates.append(clock.utc(ended) + timedelta(days=terms.link_maps_days))
    for sid in run.submissions:
        if sid not in sub_due:
            # Its input is gone already, so its link map holds records the hub no longer
            # has any reason to keep.
            candidates.append(now)
        elif (due := sub_due[sid]) is not None:
            candidates.append(due)
    return min(candidates) if candidates else None


# ---- what goes -----------------------------------------------------------------------


def _paths(hub: Hub, kind: Kind, item_id: str) -> list[Path]:
    """The files and folders of one item; rows have none."""
    if not _SAFE_ID.match(item_id):
        return []
    match kind:
        case "encodings":
            return [hub.path(ENCODINGS_DIR, f"{item_id}.parquet")]
        case "attributes":
            return [hub.path(ATTRIBUTES_DIR, f"{item_id}.parquet")]
        case "manifests":
            return [hub.path(MANIFESTS_DIR, f"{item_id}{ext}") for ext in (".json", ".sig")]
        case "link_maps":
            return [hub.path(RUNS_DIR, item_id)]
        case "releases":
            return [hub.path(REPORTS_DIR, item_id)]
        case "models":
            return [hub.path(MODELS_DIR, item_id)]
        case _:
            return []


def _present(hub: Hub, kind: Kind, item_id: str) -> bool:
    return any(p.exists() for p in _paths(hub, kind, item_id))


def _submission_items(hub: Hub, sid: str, agreement: str | None, due: datetime) -> list[Item]:
    files: tuple[Kind, ...] = ("encodings", "attributes", "manifests")
    found = [Item(k, sid, agreement, due) for k in files if _present(hub, k, sid)]
    return [*found, Item("submissions", sid, agreement, due)]


def _run_items(hub: Hub, run_id: str, agreement: str | None, due: datetime) -> list[Item]:
    found = (
        [Item("link_maps", run_id, agreement, due)] if _present(hub, "link_maps", run_id) else []
    )
    return [*found, Item("linkage_runs", run_id, agreement, due)]


def _release_items(hub: Hub, state: _State, now: datetime) -> Iterable[Item]:
    folder = hub.path(REPORTS_DIR)
    if not folder.is_dir():
        return
    runs = {r.id: r for r in state.runs}
    for release in sorted(folder.iterdir()):
        # Dot-names are releases being written (``.<run>.partial``).
        if not release.is_dir() or release.name.startswith(".") or not _SAFE_ID.match(release.name):
            continue
        if release.name not in state.published:
            note = "a release has no publication record on the audit trail; it is kept"
            if release.name not in state.recorded["releases"] and note not in state.notes:
                state.notes.append(note)
            continue
        published, agreement = state.published[release.name]
        if agreement is None and release.name in runs:
            agreement = RunSummary.of(runs[release.name]).agreement
        terms = state.terms.get(agreement or "")
        if terms is None:
            continue
        due = published + timedelta(days=terms.releases_days)
        if due <= now:
            yield Item("releases", release.name, agreement, due)


def _model_items(
    hub: Hub,
    state: _State,
    sub_agreement: dict[str, str | None],
    planned: list[Item],
    now: datetime,
) -> Iterable[Item]:
    """An agreement's saved models, once none of its submissions or runs is left."""
    going = {(i.kind, i.id) for i in planned}
    kept: set[str | None] = {
        sub_agreement[s.id] for s in state.submissions if ("submissions", s.id) not in going
    }
    kept |= {
        _agreement_of_run(r, sub_agreement)
        for r in state.runs
        if ("linkage_runs", r.id) not in going
    }
    for agreement, terms in state.terms.items():
        if terms is None or agreement in kept or not _present(hub, "models", agreement):
            continue
        dues = [i.due for i in planned if i.agreement == agreement]
        yield Item("models", agreement, agreement, max(dues, default=now))


def _leftovers(hub: Hub, state: _State, planned: list[Item]) -> Iterable[Item]:
    """Files an earlier deletion record names that are still there (its file deletion
    was interrupted after the commit)."""
    going = {(i.kind, i.id) for i in planned}
    rows = {s.id for s in state.submissions} | {r.id for r in state.runs}
    for kind in KINDS:
        if kind in ROW_KINDS:
            continue
        for item_id, recorded_at in sorted(state.recorded.get(kind, {}).items()):
            # A submission's or run's id names it alone; an agreement's models may be new.
            if (kind, item_id) in going or (kind != "models" and item_id in rows):
                continue
            if kind == "models" and item_id in state.terms:
                continue
            if _present(hub, kind, item_id):
                yield Item(kind, item_id, None, recorded_at, leftover=True)


def _order(item: Item) -> tuple[int, str, str]:
    return KINDS.index(item.kind), item.agreement or "", item.id


def _details(found: Plan) -> dict[str, Any]:
    """The deletion record: ids of submissions, runs and agreements, kinds and counts,
    never an identifier."""
    by_agreement: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in found.items:
        by_agreement[item.agreement or "(earlier run)"][item.kind] += 1
    return {
        "deleted": {k: [i.id for i in found.of_kind(k)] for k in KINDS if found.of_kind(k)},
        "counts": {k: n for k, n in found.counts().items() if n},
        "agreements": {a: dict(kinds) for a, kinds in sorted(by_agreement.items())},
        "leftovers": sum(1 for i in found.items if i.leftover),
    }


def _remove_files(hub: Hub, items: Iterable[Item]) -> int:
    failed = 0
    for item in items:
        for path in _paths(hub, item.kind, item.id):
            try:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
            except OSError as exc:
                failed += 1
                log.warning(
                    "retention could not delete a file; the next run retries",
                    extra={"kind": item.kind, "id": item.id, "error": exc.__class__.__name__},
                )
    return failed


# ---- the daily job inside `boldhub serve` --------------------------------------------

FIRST_RUN_AFTER = timedelta(minutes=1)


def daily_job(
    hub: Hub, every_hours: float, *, first_after: timedelta = FIRST_RUN_AFTER
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan for the hub's app that runs retention every ``every_hours`` (0: never),
    the first time ``first_after`` the service started."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if every_hours <= 0:
            yield
            return
        task = asyncio.create_task(_repeat(hub, timedelta(hours=every_hours), first_after))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


async def _repeat(hub: Hub, every: timedelta, first_after: timedelta) -> None:
    await asyncio.sleep(first_after.total_seconds())
    while True:
        await run_once_logged(hub)
        await asyncio.sleep(every.total_seconds())


async def run_once_logged(hub: Hub) -> Result | None:
    """One run in a worker thread, so requests are not held up; a failure is logged by
    its class only (a message could quote data) and the job carries on."""
    try:
        result = await asyncio.to_thread(run, hub, actor="retention-job")
    except Exception as exc:
        log.error("retention run failed", extra={"error": exc.__class__.__name__})
        return None
    log.info(
        "retention run",
        extra={
            "deleted": result.plan.counts(),
            "audit_seq": result.audit_seq,
            "files_left": result.files_left,
            "agreements_without_terms": len(result.plan.notes),
        },
    )
    return result
