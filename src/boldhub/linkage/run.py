"""The one entry point for a linkage run: full or incremental, decided here.

The hub hands over what it holds (the current inputs by id, the agreement's linkage terms,
the previous run and the agreement's saved model); this module decides how to link and
returns one LinkResult:

* **incremental** when the previous run's inputs are all still current, there are new
  ones, and nothing about the model's use changed (same threshold, same terms, no
  one-to-one sources, whose persons are re-formed from every link): only the new records
  are scored, against everything (incremental.py);
* otherwise **full**, with the saved model when there is one that fits (training.py when
  not, or when ``full`` asks to re-train), then person keys carried over from the previous
  run (keys.carry_keys).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from boldhub.errors import ModelMismatch, UserError
from boldhub.linkage.backends import BackendName
from boldhub.linkage.full import link
from boldhub.linkage.incremental import link_incremental
from boldhub.linkage.keys import carry_keys
from boldhub.linkage.links import LinkResult, Step
from boldhub.linkage.records import LinkInput
from boldhub.privacy.agreement import LinkageTerms

log = logging.getLogger("boldhub.linkage")


@dataclass(frozen=True)
class LinkOptions:
    """How to run: the hub's settings, passed down (config.Settings names each)."""

    threshold: float
    one_to_one_threshold: float | None = None
    memory_limit: str = "2.5GB"
    temp_limit: str = "20GB"
    backend: BackendName = "duckdb"
    spark_master: str = "local[*]"
    compiled_max_records: int = 100_000
    # Seeds Splink's random sampling when training.
    seed: int = 1
    # Seeds the person keys (tests, the demo); None: the operating system's generator.
    key_seed: int | None = None


@dataclass(frozen=True)
class PreviousRun:
    """What a new run needs of the latest one."""

    links: pa.Table
    inputs: frozenset[str]
    model_json: dict[str, Any]
    threshold: float
    # None for a run from before terms were recorded: its model is not extended.
    terms: LinkageTerms | None


@dataclass(frozen=True)
class Plan:
    """What a run will do, decided before any record is read."""

    mode: str
    new_inputs: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


def plan(
    inputs: Mapping[str, LinkInput],
    terms: LinkageTerms,
    options: LinkOptions,
    previous: PreviousRun | None,
    *,
    full: bool = False,
) -> Plan:
    """Incremental when only new inputs arrived and nothing about the model's use changed;
    otherwise full, with the reasons."""
    reasons = []
    if previous is None:
        reasons.append("no previous run")
    else:
        if full:
            reasons.append("a full run was asked for")
        if terms.one_to_one_sources:
            reasons.append("one-to-one sources are re-formed from every link")
        if previous.terms != terms:
            reasons.append("the linkage terms changed")
        if not previous.inputs < set(inputs):
            reasons.append("inputs were replaced or removed, or none is new")
        if previous.threshold != options.threshold:
            reasons.append("the threshold changed")
    if reasons:
        return Plan("full", reasons=tuple(reasons))
    assert previous is not None
    return Plan("incremental", new_inputs=tuple(sorted(set(inputs) - previous.inputs)))


def run(
    inputs: Mapping[str, LinkInput],
    *,
    terms: LinkageTerms,
    options: LinkOptions,
    previous: PreviousRun | None = None,
    saved_model: dict[str, Any] | None = None,
    full: bool = False,
    on_step: Step | None = None,
) -> LinkResult:
    """Link ``inputs`` (by id; a full run reads them in this order) as ``plan`` decides.
    ``saved_model`` is the agreement's latest trained model, reused by a full run unless
    ``full`` or it no longer fits."""
    try:
        return _run(inputs, terms, options, previous, saved_model, full, on_step)
    except Exception as exc:
        if _out_of_room(exc):
            raise UserError(
                "the linkage run needed more room than it may use: memory up to "
                f"{options.memory_limit} (BOLDHUB_DUCKDB_MEMORY_LIMIT) and scratch disk up "
                f"to {options.temp_limit} (BOLDHUB_DUCKDB_TEMP_LIMIT); raise them, with the "
                "disk space to match, and run again"
            ) from None
        raise


def _out_of_room(exc: BaseException) -> bool:
    """DuckDB's "out of memory" (it could not spill within its scratch limit), however
    Splink wrapped it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, duckdb.OutOfMemoryException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _run(
    inputs: Mapping[str, LinkInput],
    terms: LinkageTerms,
    options: LinkOptions,
    previous: PreviousRun | None,
    saved_model: dict[str, Any] | None,
    full: bool,
    on_step: Step | None,
) -> LinkResult:
    chosen = plan(inputs, terms, options, previous, full=full)
    rng = None if options.key_seed is None else np.random.default_rng(options.key_seed)
    if chosen.mode == "incremental":
        assert previous is not None
        (on_step or (lambda _name: None))("linking new records into known persons")
        try:
            return _incremental(inputs, chosen, terms, options, previous, rng)
        except ModelMismatch as exc:
            log.info("previous model does not fit; linking in full", extra={"reason": str(exc)})
    if previous is not None:
        # An operator who expected an incremental run can see in the log why it was not.
        log.info("linking in full", extra={"reasons": list(chosen.reasons)})
    result = _full(
        list(inputs.values()), terms, options, None if full else saved_model, on_step, rng
    )
    if previous is not None:
        result.links, result.changes = carry_keys(result.links, previous.links)
    return result


def _incremental(
    inputs: Mapping[str, LinkInput],
    chosen: Plan,
    terms: LinkageTerms,
    options: LinkOptions,
    previous: PreviousRun,
    rng: np.random.Generator | None,
) -> LinkResult:
    return link_incremental(
        previous.links,
        [inputs[i] for i in sorted(previous.inputs)],
        [inputs[i] for i in chosen.new_inputs],
        previous.model_json,
        threshold=options.threshold,
        memory_limit=options.memory_limit,
        temp_limit=options.temp_limit,
        backend=options.backend,
        spark_master=options.spark_master,
        compiled_max_records=options.compiled_max_records,
        allowed_pairs=terms.allowed_source_pairs,
        rng=rng,
    )


def _full(
    inputs: list[LinkInput],
    terms: LinkageTerms,
    options: LinkOptions,
    saved_model: dict[str, Any] | None,
    on_step: Step | None,
    rng: np.random.Generator | None,
) -> LinkResult:
    def attempt(trained: dict[str, Any] | None) -> LinkResult:
        return link(
            inputs,
            threshold=options.threshold,
            one_to_one_threshold=options.one_to_one_threshold,
            memory_limit=options.memory_limit,
            temp_limit=options.temp_limit,
            seed=options.seed,
            on_step=on_step,
            backend=options.backend,
            spark_master=options.spark_master,
            compiled_max_records=options.compiled_max_records,
            allowed_pairs=terms.allowed_source_pairs,
            one_to_one=terms.one_to_one_sources,
            trained=trained,
            rng=rng,
        )

    if saved_model is None:
        return attempt(None)
    try:
        return attempt(saved_model)
    except ModelMismatch as exc:
        log.info("saved model does not fit; training", extra={"reason": str(exc)})
        return attempt(None)
