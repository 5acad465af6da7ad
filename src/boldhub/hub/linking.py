"""Run linkage over the hub's current submissions, and export its links to the operator."""

from __future__ import annotations

import functools
import json
import logging
import secrets
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from boldhub import clock
from boldhub.config import Settings, get_settings
from boldhub.errors import HubStateError, UserError
from boldhub.hub import audit
from boldhub.hub.ingest import current_submissions
from boldhub.hub.store import ATTRIBUTES_DIR, ENCODINGS_DIR, RUNS_DIR, Hub
from boldhub.hub.store.models import LinkageRun, Submission
from boldhub.hub.store.trust import Agreement
from boldhub.linkage import model_report, quality
from boldhub.linkage.incremental import KeyChanges, carry_keys, link_incremental
from boldhub.linkage.model import ModelMismatch
from boldhub.linkage.run import LinkInput, LinkResult, Step, link
from boldhub.safecsv import write_csv

log = logging.getLogger("boldhub.linking")

LINKS_FILE = "links.parquet"
MODEL_FILE = "model.json"
MODEL_HTML = "model.html"
MODELS_DIR = "models"


def run_linkage(
    hub: Hub, *, actor: str = "cli", on_step: Step | None = None, full: bool = False
) -> tuple[str, LinkResult]:
    """Link the current submissions. When the latest run covered a subset of them (only
    new submissions since), link just the new records into its persons (incremental);
    otherwise re-link everything with the agreement's latest saved model (training one
    when there is none, or when it no longer fits the model's comparisons), carrying
    person keys over from the latest run. ``full`` re-trains and re-links everything.
    Merges and splits of person keys go into the run's summary and the audit log."""
    subs = current_submissions(hub)
    if not subs:
        raise HubStateError("the hub holds no submissions to link; ingest packages first")
    settings = get_settings()
    inputs = {s.id: LinkInput(s.source, hub.path(ENCODINGS_DIR, f"{s.id}.parquet")) for s in subs}
    rules = _linkage_rules(hub, subs)
    previous = _previous_run(hub)
    base: dict[str, Any] = {}
    started = clock.now()
    changes: KeyChanges | None = None
    if (
        previous is not None
        and not full
        and not rules["one_to_one_sources"]
        # Runs before stable keys (no "rules" in their summary) hold a model over another
        # filter representation: extend only runs of this version.
        and previous.summary.get("rules") == rules
        and _can_extend(previous, set(inputs), settings)
    ):
        step = on_step or (lambda _name: None)
        step("linking new records into known persons")
        old_ids = set(previous.submissions)
        model_json = json.loads(hub.path(RUNS_DIR, previous.id, MODEL_FILE).read_text())
        inc = link_incremental(
            pq.read_table(links_path(hub, previous.id)),
            [inputs[i] for i in sorted(old_ids)],
            [inputs[i] for i in sorted(set(inputs) - old_ids)],
            model_json,
            threshold=settings.linkage_threshold,
            memory_limit=settings.duckdb_memory_limit,
            compiled_max_records=settings.linkage_compiled_max_records,
        )
        result = LinkResult(
            links=inc.links,
            records=inc.records,
            persons=inc.persons,
            pairs_scored=inc.pairs_scored,
            seconds=inc.seconds,
            model_json=model_json,
            pair_stats=inc.pair_stats,
            scorer=inc.scorer,
        )
        changes = inc.changes
        base = {
            "mode": "incremental",
            "base_run": previous.id,
            "new_records": inc.new_records,
            "model_version": previous.summary.get("model_version"),
        }
    else:
        saved_model = None if full else _latest_model(hub, _agreement_of(subs))
        run = functools.partial(
            link,
            list(inputs.values()),
            threshold=settings.linkage_threshold,
            one_to_one_threshold=settings.linkage_threshold_one_to_one,
            memory_limit=settings.duckdb_memory_limit,
            on_step=on_step,
            backend=settings.linkage_backend,
            spark_master=settings.spark_master,
            compiled_max_records=settings.linkage_compiled_max_records,
            allowed_pairs=_pairs(rules["allowed_source_pairs"]),
            one_to_one=rules["one_to_one_sources"],
        )
        base = {"mode": "full"}
        try:
            result = run(trained=saved_model[1]) if saved_model else run()
        except ModelMismatch as exc:
            log.info("saved model does not fit; training", extra={"reason": str(exc)})
            saved_model = None
            result = run()
        if saved_model:
            base["model_version"] = saved_model[0]
        base["trained"] = saved_model is None
        if previous is not None and links_path(hub, previous.id).exists():
            result.links, changes = carry_keys(
                result.links, pq.read_table(links_path(hub, previous.id))
            )
            base["base_run"] = previous.id
    key_changes = (changes or KeyChanges()).summary()
    if base.get("trained"):
        base["model_version"] = _next_model_version(hub, _agreement_of(subs))
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    final = hub.path(RUNS_DIR, run_id)
    tmp = hub.path(RUNS_DIR, f".{run_id}.partial")
    saved: list[Path] = []
    tmp.mkdir(parents=True)
    try:
        pq.write_table(result.links, tmp / LINKS_FILE, compression="zstd")
        (tmp / MODEL_FILE).write_text(json.dumps(result.model_json, indent=2))
        (tmp / MODEL_HTML).write_text(model_report.render(result.model_json, run_id))
        if base.get("trained"):
            _save_model(hub, base["model_version"], result.model_json, saved)
        quality.write_report(
            tmp,
            quality.build_report(
                run_id=run_id,
                mode=base["mode"],
                threshold=settings.linkage_threshold,
                records=result.records,
                persons=result.persons,
                estimates=quality.model_estimates(result.pair_stats)
                if result.pair_stats is not None
                else {},
                rates=quality.match_rates(result.links, _attributes(hub, [s.id for s in subs])),
                key_changes=key_changes,
            ),
        )
        with hub.sessions() as session, session.begin():
            session.add(
                LinkageRun(
                    id=run_id,
                    started_at=started,
                    finished_at=clock.now(),
                    records=result.records,
                    persons=result.persons,
                    threshold=settings.linkage_threshold,
                    submissions={s.id: s.source for s in subs},
                    summary={
                        **base,
                        "backend": "duckdb"
                        if base["mode"] == "incremental"
                        else settings.linkage_backend,
                        "pairs_scored": result.pairs_scored,
                        "scorer": result.scorer,
                        "seconds": result.seconds,
                        "key_changes": key_changes,
                        "rules": rules,
                    },
                )
            )
            audit.append(
                session,
                actor=actor,
                action="linkage.run",
                subject=run_id,
                details={
                    "mode": base["mode"],
                    "base_run": base.get("base_run"),
                    "submissions": sorted(s.id for s in subs),
                    "records": result.records,
                    "persons": result.persons,
                    "merges": key_changes["merges"],
                    "splits": key_changes["splits"],
                    "new_persons": key_changes["new_persons"],
                },
            )
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        for folder in saved:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return run_id, result


def _agreement_of(subs: list[Submission]) -> str:
    return sorted({str(s.manifest.get("agreement_id")) for s in subs})[0]


def _newest_version(hub: Hub, agreement_id: str) -> int:
    """The highest N of the agreement's saved models ``v<N>`` (0: none saved)."""
    folder = hub.path(MODELS_DIR, agreement_id)
    return max((int(p.name[1:]) for p in folder.glob("v*") if p.name[1:].isdigit()), default=0)


def _latest_model(hub: Hub, agreement_id: str) -> tuple[str, dict[str, Any]] | None:
    """The agreement's newest saved model as (version, model JSON), or None."""
    newest = _newest_version(hub, agreement_id)
    if not newest:
        return None
    version = f"{agreement_id}/v{newest}"
    return version, json.loads(hub.path(MODELS_DIR, version, MODEL_FILE).read_text())


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


def _attributes(hub: Hub, submission_ids: list[str]) -> pa.Table | None:
    """Record key and the quality report's attributes (age band, sex, ethnicity) of every
    current record; an attribute a submission lacks (a dataset without ethnicity, a
    package from before sex was sent) is null there."""
    columns = ["record_key", *quality.ATTRIBUTE_GROUPS]
    schema = pa.schema([(c, pa.string()) for c in columns])
    tables = []
    for sid in submission_ids:
        path = hub.path(ATTRIBUTES_DIR, f"{sid}.parquet")
        if not path.exists():
            continue
        names = pq.read_schema(path).names
        t = pq.read_table(path, columns=[c for c in columns if c in names])
        for c in columns:
            if c not in t.column_names:
                t = t.append_column(c, pa.nulls(t.num_rows, pa.string()))
        tables.append(t.select(columns).cast(schema))
    return pa.concat_tables(tables) if tables else None


_NO_RULES: dict[str, Any] = {"allowed_source_pairs": None, "one_to_one_sources": []}


def _linkage_rules(hub: Hub, subs: list[Submission]) -> dict[str, Any]:
    """The agreement's linkage terms: ``linkage.allowed_source_pairs`` (pairs of datasets
    or sources that may be linked; absent: all) and ``linkage.one_to_one_sources``
    (sources holding one record per person). The current submissions' agreements must
    agree on them."""
    found: list[dict[str, Any]] = []
    with hub.sessions() as session:
        for aid in sorted({str(s.manifest.get("agreement_id")) for s in subs}):
            agreement = session.get(Agreement, aid)
            terms = (agreement.document.get("linkage") if agreement else None) or {}
            pairs = terms.get("allowed_source_pairs")
            found.append(
                {
                    "allowed_source_pairs": sorted(sorted(map(str, p)) for p in pairs)
                    if pairs is not None
                    else None,
                    "one_to_one_sources": sorted(map(str, terms.get("one_to_one_sources", []))),
                }
            )
    if any(f != found[0] for f in found):
        raise HubStateError(
            "the current submissions come under agreements with different linkage terms "
            "(allowed_source_pairs, one_to_one_sources); link under one agreement at a time"
        )
    return found[0] if found else dict(_NO_RULES)


def _pairs(pairs: list[list[str]] | None) -> frozenset[tuple[str, str]] | None:
    if pairs is None:
        return None
    return frozenset((p[0], p[1]) for p in pairs if len(p) == 2)


def _previous_run(hub: Hub) -> LinkageRun | None:
    with hub.sessions() as session:
        run: LinkageRun | None = session.execute(
            select(LinkageRun).order_by(LinkageRun.finished_at.desc()).limit(1)
        ).scalar_one_or_none()
    return run


def _can_extend(previous: LinkageRun, current: set[str], settings: Settings) -> bool:
    """Incremental when the latest run's submissions are all still current, there are new
    ones, and nothing about the model's use changed (DuckDB, same threshold)."""
    old = set(previous.submissions)
    return (
        settings.linkage_backend == "duckdb"
        and old < current
        and previous.threshold == settings.linkage_threshold
    )


def add_truth_to_quality_report(
    hub: Hub, run_id: str, precision: float, recall: float, f1: float
) -> None:
    """On synthetic data the caller knows the truth: add true P/R/F1 to a run's report."""
    folder = hub.path(RUNS_DIR, run_id)
    path = folder / quality.QUALITY_JSON
    report = json.loads(path.read_text())
    report["truth"] = {"precision": precision, "recall": recall, "f1": f1}
    quality.write_report(folder, report)


def latest_run(hub: Hub) -> LinkageRun:
    with hub.sessions() as session:
        run = session.execute(
            select(LinkageRun).order_by(LinkageRun.finished_at.desc()).limit(1)
        ).scalar_one_or_none()
    if run is None:
        raise HubStateError("the hub has no linkage run yet; run `boldhub link --home ...` first")
    return run


def links_path(hub: Hub, run_id: str) -> Path:
    return hub.path(RUNS_DIR, run_id, LINKS_FILE)


def export_links(hub: Hub, out: Path, *, actor: str = "cli") -> tuple[str, int]:
    """Write (record_key, source, person_key, match_probability) of the latest run."""
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UserError(f"--out {out} must end in .csv or .parquet")
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give a file name ending in .csv or .parquet")
    run = latest_run(hub)
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
