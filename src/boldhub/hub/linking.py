"""Run linkage over the hub's current submissions, and export its links to the operator.

The hub gathers what a run needs (the current submissions' encodings, the agreement's
linkage terms, the latest run and the agreement's saved model) and hands it to
``linkage.run``, which decides between a full and an incremental run. The hub then keeps
what came back: the run's files, its summary row, the saved model, the audit entry.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from boldhub import clock
from boldhub.config import Settings
from boldhub.errors import HubStateError, UserError
from boldhub.hub import audit, run_state
from boldhub.hub.agreements import active_terms, require_active
from boldhub.hub.ingest import current_submissions
from boldhub.hub.store import ENCODINGS_DIR, MODELS_DIR, RUNS_DIR, Hub
from boldhub.hub.store.models import LinkageRun, Submission
from boldhub.hub.store.trust import Agreement
from boldhub.linkage import model_report, quality
from boldhub.linkage.links import LinkResult, Step
from boldhub.linkage.records import LinkInput
from boldhub.linkage.run import LinkOptions, PreviousRun
from boldhub.linkage.run import run as link_run
from boldhub.outcomes import linkage_quality
from boldhub.privacy.agreement import LinkageTerms, linkage_terms
from boldhub.privacy.package import Manifest
from boldhub.safecsv import write_csv

log = logging.getLogger("boldhub.linking")

LINKS_FILE = "links.parquet"
MODEL_FILE = "model.json"
MODEL_HTML = "model.html"


@dataclass(frozen=True)
class SavedModel:
    """A model an agreement's run trained, kept as ``HOME/models/<agreement>/v<N>/``."""

    version: str  # "<agreement>/v<N>"
    model_json: dict[str, Any]  # Splink's settings JSON with the trained parameters


class RunSummary(BaseModel):
    """What a run's row keeps about how it ran (LinkageRun.summary). Rows written before
    a field existed lack it, so every field has a default; absent fields are not stored."""

    model_config = ConfigDict(extra="ignore")

    # The agreement whose submissions the run linked; None in runs from before runs were
    # scoped to one agreement (agreement_of_run reads it from their submissions).
    agreement: str | None = None
    mode: Literal["full", "incremental"] = "full"
    base_run: str | None = None
    new_records: int | None = None
    model_version: str | None = None
    trained: bool | None = None
    backend: str | None = None
    pairs_scored: int | None = None
    scorer: str | None = None
    seconds: dict[str, float] = {}
    key_changes: dict[str, Any] = {}
    # The linkage terms the run used (LinkageTerms.summary); None before they were recorded.
    rules: dict[str, Any] | None = None

    @classmethod
    def of(cls, run: LinkageRun) -> RunSummary:
        return cls.model_validate(run.summary or {})

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def options_from(settings: Settings) -> LinkOptions:
    return LinkOptions(
        threshold=settings.linkage_threshold,
        one_to_one_threshold=settings.linkage_threshold_one_to_one,
        memory_limit=settings.duckdb_memory_limit,
        temp_limit=settings.duckdb_temp_limit,
        backend=settings.linkage_backend,
        spark_master=settings.spark_master,
        compiled_max_records=settings.linkage_compiled_max_records,
    )


def run_linkage(
    hub: Hub,
    *,
    actor: str = "cli",
    on_step: Step | None = None,
    options: LinkOptions,
    full: bool = False,
    agreement: str | None = None,
) -> tuple[str, LinkResult]:
    """Link the current submissions of one agreement (``agreement``; may be left out when
    every current submission comes under one). linkage.run decides: incremental when only
    new submissions arrived since the agreement's latest run, otherwise full with the
    agreement's saved model; ``full`` re-trains and re-links everything. Merges and splits
    of person keys go into the run's summary and the audit log."""
    agreement_id, subs = submissions_to_link(hub, agreement)
    terms = _linkage_terms(hub, agreement_id)
    run_id = clock.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    run_state.begin(
        hub,
        run_id,
        agreement=agreement_id,
        submissions={s.id: s.source for s in subs},
        threshold=options.threshold,
        actor=actor,
    )
    try:
        result = _link(hub, run_id, agreement_id, subs, terms, options, full, on_step, actor)
    except BaseException as exc:
        run_state.fail(hub, run_id, exc, actor=actor)
        raise
    return run_id, result


def _link(
    hub: Hub,
    run_id: str,
    agreement_id: str,
    subs: list[Submission],
    terms: LinkageTerms,
    options: LinkOptions,
    full: bool,
    on_step: Step | None,
    actor: str,
) -> LinkResult:
    previous_row = _previous_run(hub, agreement_id)
    previous = _previous(hub, previous_row)
    saved = _latest_model(hub, agreement_id)
    result = link_run(
        {s.id: LinkInput(s.source, hub.path(ENCODINGS_DIR, f"{s.id}.parquet")) for s in subs},
        terms=terms,
        options=options,
        previous=previous,
        saved_model=saved.model_json if saved else None,
        full=full,
        on_step=on_step,
    )
    summary = RunSummary(
        agreement=agreement_id,
        mode=result.mode,
        base_run=previous_row.id if previous is not None and previous_row else None,
        new_records=result.new_records if result.mode == "incremental" else None,
        trained=result.trained if result.mode == "full" else None,
        backend=options.backend,
        pairs_scored=result.pairs_scored,
        scorer=result.scorer,
        seconds=result.seconds,
        key_changes=result.changes.summary(),
        rules=terms.summary(),
    )
    if result.mode == "incremental" and previous_row is not None:
        summary.model_version = RunSummary.of(previous_row).model_version
    elif result.trained:
        summary.model_version = _next_model_version(hub, agreement_id)
    elif saved:
        summary.model_version = saved.version
    _keep(hub, run_id, result, summary, actor)
    return result


def _keep(hub: Hub, run_id: str, result: LinkResult, summary: RunSummary, actor: str) -> None:
    """The run's files (links, model, quality report), the saved model when this run
    trained one, the run's row marked done and its audit entry: all kept, or none."""
    final = hub.path(RUNS_DIR, run_id)
    tmp = hub.path(RUNS_DIR, f".{run_id}.partial")
    saved: list[Path] = []
    tmp.mkdir(parents=True)
    try:
        pq.write_table(result.links, tmp / LINKS_FILE, compression="zstd")
        (tmp / MODEL_FILE).write_text(json.dumps(result.model_json, indent=2))
        (tmp / MODEL_HTML).write_text(model_report.render(result.model_json, run_id))
        if result.trained and summary.model_version:
            _save_model(hub, summary.model_version, result.model_json, saved)
        with hub.sessions() as session, session.begin():
            run = session.get(LinkageRun, run_id, with_for_update=True)
            if run is None or run.state != "running":
                # Marked failed meanwhile (its worker was taken for dead): not kept.
                raise HubStateError(f"linkage run {run_id} was stopped before it finished")
            _write_quality(tmp, run, summary, result)
            run.state = "done"
            run.finished_at = clock.now()
            run.records = result.records
            run.persons = result.persons
            run.summary = summary.stored()
            audit.append(
                session,
                actor=actor,
                action="linkage.run",
                subject=run_id,
                details={
                    "mode": summary.mode,
                    "base_run": summary.base_run,
                    "submissions": sorted(run.submissions),
                    "records": result.records,
                    "persons": result.persons,
                    "merges": summary.key_changes["merges"],
                    "splits": summary.key_changes["splits"],
                    "new_persons": summary.key_changes["new_persons"],
                },
            )
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        for folder in saved:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _write_quality(folder: Path, run: LinkageRun, summary: RunSummary, result: LinkResult) -> None:
    linkage_quality.write_report(
        folder,
        linkage_quality.build_report(
            run_id=run.id,
            mode=summary.mode,
            threshold=run.threshold,
            records=result.records,
            persons=result.persons,
            estimates=quality.model_estimates(result.pair_stats)
            if result.pair_stats is not None
            else {},
            # Rates by group need attributes: the analysis side adds them (hub/analysis.py).
            rates={},
            key_changes=summary.key_changes,
        ),
    )


def _previous(hub: Hub, run: LinkageRun | None) -> PreviousRun | None:
    """The latest run as linkage.run needs it; None when there is none (or its links are
    gone)."""
    if run is None or not links_path(hub, run.id).exists():
        return None
    summary = RunSummary.of(run)
    return PreviousRun(
        links=pq.read_table(links_path(hub, run.id)),
        inputs=frozenset(run.submissions),
        model_json=json.loads(hub.path(RUNS_DIR, run.id, MODEL_FILE).read_text()),
        threshold=run.threshold,
        # Runs before stable keys (no "rules" in their summary) hold a model over another
        # filter representation: such a run is never extended.
        terms=linkage_terms({"linkage": summary.rules}) if summary.rules is not None else None,
    )


def _newest_version(hub: Hub, agreement_id: str) -> int:
    """The highest N of the agreement's saved models ``v<N>`` (0: none saved)."""
    folder = hub.path(MODELS_DIR, agreement_id)
    return max((int(p.name[1:]) for p in folder.glob("v*") if p.name[1:].isdigit()), default=0)


def _latest_model(hub: Hub, agreement_id: str) -> SavedModel | None:
    """The agreement's newest model that a finished run trained, or None. A model folder
    no done run names (its run died before recording itself) is never used."""
    trained = [
        summary.model_version
        for summary in (RunSummary.of(r) for r in runs(hub))
        # The version names its agreement (runs from before runs were scoped lack one).
        if summary.trained
        and summary.model_version
        and summary.model_version.rsplit("/v", 1)[0] == agreement_id
    ]
    versions = [v for v in trained if hub.path(MODELS_DIR, v, MODEL_FILE).is_file()]
    if not versions:
        return None
    version = max(versions, key=lambda v: int(v.rsplit("/v", 1)[1]))
    return SavedModel(version, json.loads(hub.path(MODELS_DIR, version, MODEL_FILE).read_text()))


def _next_model_version(hub: Hub, agreement_id: str) -> str:
    """Models are versioned per agreement: ``<agreement>/v<N>``, one per training run."""
    return f"{agreement_id}/v{_newest_version(hub, agreement_id) + 1}"


def _save_model(hub: Hub, version: str, model_json: dict[str, Any], saved: list[Path]) -> None:
    """HOME/models/<agreement>/v<N>/model.json and model.html (m, u and match weights)."""
    folder = hub.path(MODELS_DIR, version)
    folder.mkdir(parents=True, exist_ok=False)
    saved.append(folder)
    (folder / MODEL_FILE).write_text(json.dumps(model_json, indent=2))
    (folder / MODEL_HTML).write_text(model_report.render(model_json, version))


def _linkage_terms(hub: Hub, agreement_id: str) -> LinkageTerms:
    """The agreement's linkage terms (privacy.agreement.linkage_terms), once the
    agreement is known to be active: nothing is linked outside an active agreement."""
    with hub.sessions() as session:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None:
            return LinkageTerms()
        require_active(session, agreement)
        return linkage_terms(agreement.document)


def submissions_to_link(hub: Hub, agreement: str | None) -> tuple[str, list[Submission]]:
    """The agreement a run links and its current submissions: a run never mixes the
    submissions of two agreements, since a party to one has no agreement for the other's
    data."""
    groups: dict[str, list[Submission]] = {}
    for sub in current_submissions(hub):
        groups.setdefault(_manifest(sub).agreement_id, []).append(sub)
    if not groups:
        raise HubStateError("the hub holds no submissions to link; ingest packages first")
    if agreement is None:
        if len(groups) > 1:
            raise HubStateError(
                f"the current submissions come under {len(groups)} agreements "
                f"({', '.join(sorted(groups))}); link them one agreement at a time "
                "(boldhub link --agreement ID)"
            )
        return next(iter(groups.items()))
    if agreement not in groups:
        have = ", ".join(sorted(groups))
        raise HubStateError(
            f"no current submission comes under agreement {agreement}; the agreements "
            f"with current submissions are: {have}"
        )
    return agreement, groups[agreement]


def _manifest(sub: Submission) -> Manifest:
    return Manifest.from_stored(sub.manifest)


def _previous_run(hub: Hub, agreement_id: str) -> LinkageRun | None:
    """The agreement's latest run."""
    for run in runs(hub):
        if agreement_of_run(hub, run) == agreement_id:
            return run
    return None


def runs(hub: Hub) -> list[LinkageRun]:
    """Every finished linkage run, newest first: only these have links, a model and a
    report to read (``attempts`` lists the running and failed ones too)."""
    with hub.sessions() as session:
        return list(
            session.execute(
                select(LinkageRun)
                .where(LinkageRun.state == "done")
                .order_by(LinkageRun.finished_at.desc())
            ).scalars()
        )


def attempts(hub: Hub, limit: int = 20) -> list[LinkageRun]:
    """The latest runs in any state (running, failed or done), newest first."""
    with hub.sessions() as session:
        return list(
            session.execute(
                select(LinkageRun).order_by(LinkageRun.started_at.desc()).limit(limit)
            ).scalars()
        )


def agreement_of_run(hub: Hub, run: LinkageRun) -> str | None:
    """The agreement a run linked: its summary says so; for a run from before runs were
    scoped, the agreement its submissions' manifests name (the first, had they mixed)."""
    named = RunSummary.of(run).agreement
    if named is not None:
        return named
    with hub.sessions() as session:
        subs = session.execute(
            select(Submission).where(Submission.id.in_(list(run.submissions)))
        ).scalars()
        found = sorted({_manifest(s).agreement_id for s in subs})
    return found[0] if found else None


def add_truth_to_quality_report(
    hub: Hub, run_id: str, precision: float, recall: float, f1: float
) -> None:
    """On synthetic data the caller knows the truth: add true P/R/F1 to a run's report."""
    folder = hub.path(RUNS_DIR, run_id)
    path = folder / linkage_quality.QUALITY_JSON
    report = json.loads(path.read_text())
    report["truth"] = {"precision": precision, "recall": recall, "f1": f1}
    linkage_quality.write_report(folder, report)


def get_run(hub: Hub, run_id: str) -> LinkageRun:
    with hub.sessions() as session:
        run = session.get(LinkageRun, run_id)
    if run is None:
        raise HubStateError(f"the hub has no linkage run {run_id}")
    if run.state != "done":
        raise HubStateError(
            f"linkage run {run_id} {'is still running' if run.state == 'running' else 'failed'}"
            "; only a finished run's results can be used"
        )
    return run


def run_summary(hub: Hub, run_id: str) -> RunSummary:
    return RunSummary.of(get_run(hub, run_id))


def latest_run(hub: Hub, agreement: str | None = None) -> LinkageRun:
    """The latest run of ``agreement``; left out, the latest run when every run so far
    linked one agreement, else a refusal asking which."""
    found = runs(hub)
    if not found:
        raise HubStateError("the hub has no linkage run yet; run `boldhub link --home ...` first")
    by_agreement: dict[str | None, LinkageRun] = {}
    for run in found:
        by_agreement.setdefault(agreement_of_run(hub, run), run)
    if agreement is not None:
        if agreement not in by_agreement:
            raise HubStateError(
                f"the hub has no linkage run of agreement {agreement}; run "
                f"`boldhub link --agreement {agreement}` first"
            )
        return by_agreement[agreement]
    if len(by_agreement) > 1:
        names = ", ".join(sorted(str(a) for a in by_agreement))
        raise HubStateError(
            f"the hub has linkage runs of {len(by_agreement)} agreements ({names}); "
            "say which with --agreement ID"
        )
    return found[0]


def links_path(hub: Hub, run_id: str) -> Path:
    return hub.path(RUNS_DIR, run_id, LINKS_FILE)


def export_links(
    hub: Hub, out: Path, *, actor: str = "cli", agreement: str | None = None
) -> tuple[str, int]:
    """Write (record_key, source, person_key, match_probability) of the agreement's
    latest run."""
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UserError(f"--out {out} must end in .csv or .parquet")
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give a file name ending in .csv or .parquet")
    run = latest_run(hub, agreement)
    under = agreement_of_run(hub, run)
    if under is not None:
        # An export leaves the hub: only under an agreement in force.
        active_terms(hub, under)
    table = pq.read_table(links_path(hub, run.id))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    try:
        if out.suffix.lower() == ".parquet":
            pq.write_table(table, tmp)
        else:
            # record keys and person keys are hex; escaping still applies to every cell
            # so that no CSV the project writes can carry a formula.
            write_csv(
                tmp,
                table.column_names,
                zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True),
            )
        with hub.sessions() as session, session.begin():
            audit.append(
                session,
                actor=actor,
                action="links.exported",
                subject=run.id,
                details={"rows": table.num_rows, "file": out.name},
            )
            tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return run.id, table.num_rows
