"""A saved model scored with NumPy (linkage/compiled.py) gives Splink's pairs, weights and
probabilities, and the same persons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from splink import Linker

from boldhub.errors import NotCompilable
from boldhub.linkage import compiled, dice, model
from boldhub.linkage.backends import open_backend
from boldhub.linkage.full import add_filter_pairs, link
from boldhub.linkage.quality import PAIR_FLOOR
from boldhub.linkage.records import load_records
from tests.support.linkage import LinkageWorld, build_linkage_world, split_inputs


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> LinkageWorld:
    return build_linkage_world(tmp_path_factory.mktemp("compiled"), persons=400, seed=7)


@pytest.fixture(scope="module")
def trained(world: LinkageWorld) -> dict[str, Any]:
    return link(world.inputs, threshold=0.7).model_json


def _splink_predictions(
    table: pa.Table, settings: dict[str, Any], candidates: pa.Table, allowed: Any
) -> pa.Table:
    engine = open_backend("duckdb")
    try:
        linker = Linker(engine.register(table), settings, log_level=None, validate_settings=False)
        add_filter_pairs(linker, engine, candidates, allowed)
        predictions = linker.inference.predict(threshold_match_probability=PAIR_FLOOR)
        return engine.fetch(
            "SELECT record_key_l, record_key_r, match_weight, match_probability "
            f"FROM {predictions.physical_name}"
        )
    finally:
        engine.close()


def _by_pair(table: pa.Table) -> dict[tuple[str, str], tuple[float, float]]:
    cols = [table.column(c).to_pylist() for c in ("record_key_l", "record_key_r")]
    vals = [table.column(c).to_pylist() for c in ("match_weight", "match_probability")]
    return {(a, b): (w, p) for a, b, w, p in zip(cols[0], cols[1], vals[0], vals[1], strict=True)}


@pytest.mark.parametrize("terms", ["all pairs", "two sources only"])
def test_predictions_equal_splinks(
    world: LinkageWorld, trained: dict[str, Any], terms: str
) -> None:
    sources = sorted({i.source for i in world.inputs})
    allowed = None if terms == "all pairs" else frozenset({(sources[0], sources[1])})
    table, words = load_records(world.inputs)
    candidates = dice.filter_candidates(table, words, model.FILTER_BLOCKING_DICE)
    settings = model.with_parameters(model.settings_dict(words, "duckdb", allowed), trained)
    # Levels no training reached take Splink's default m and u: the case is covered.
    assert any(
        lvl.get("m_probability") is None
        for c in settings["comparisons"]
        for lvl in c["comparison_levels"]
        if not lvl.get("is_null_level")
    )
    allowed_sql = model.source_pairs_sql(allowed) if allowed is not None else "TRUE"
    ours = _by_pair(compiled.predict(settings, table, candidates, allowed_sql, PAIR_FLOOR))
    theirs = _by_pair(_splink_predictions(table, settings, candidates, allowed))
    assert len(theirs) > 100
    assert set(ours) == set(theirs)
    for pair, (weight, probability) in theirs.items():
        assert ours[pair][0] == pytest.approx(weight, abs=1e-9)
        assert ours[pair][1] == pytest.approx(probability, abs=1e-12)


def test_the_run_links_as_splinks_pipeline(world: LinkageWorld, trained: dict[str, Any]) -> None:
    sources = sorted({i.source for i in world.inputs})
    terms: dict[str, Any] = {
        "allowed_pairs": frozenset({(sources[0], sources[1]), (sources[1], sources[2])}),
        "one_to_one": [sources[0]],
        "one_to_one_threshold": 0.05,
    }
    fast = link(world.inputs, threshold=0.7, trained=trained, **terms)
    slow = link(world.inputs, threshold=0.7, trained=trained, compiled_max_records=0, **terms)
    assert fast.pairs_scored == slow.pairs_scored and fast.filter_pairs == slow.filter_pairs

    def grouped(result: Any) -> set[frozenset[str]]:
        persons: dict[str, set[str]] = {}
        for r in result.links.to_pylist():
            persons.setdefault(r["person_key"], set()).add(r["record_key"])
        return {frozenset(v) for v in persons.values()}

    assert grouped(fast) == grouped(slow)
    probs = {r["record_key"]: r["match_probability"] for r in slow.links.to_pylist()}
    for r in fast.links.to_pylist():
        if probs[r["record_key"]] is None:
            assert r["match_probability"] is None
        else:
            assert r["match_probability"] == pytest.approx(probs[r["record_key"]], abs=1e-12)
    assert fast.pair_stats is not None and slow.pair_stats is not None
    key = [("weight", "ascending")]
    a, b = fast.pair_stats.sort_by(key).to_pylist(), slow.pair_stats.sort_by(key).to_pylist()
    assert [(r["weight"], r["pairs"], r["links"]) for r in a] == [
        (r["weight"], r["pairs"], r["links"]) for r in b
    ]
    assert "train" not in fast.seconds
    assert (fast.scorer, slow.scorer) == ("numpy", "splink")


def test_sql_it_cannot_evaluate_sends_the_run_through_splink(
    world: LinkageWorld, trained: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = "l.dob_tok = r.dob_tok AND jaro_winkler_similarity(l.source, r.source) > 0.5"
    monkeypatch.setattr(
        model, "PREDICTION_BLOCKING_RULES", (*model.PREDICTION_BLOCKING_RULES, rule)
    )
    # The settings are built once per process from the module's rules: rebuild them with
    # the extra rule now, and without it after the test.
    model._settings_json.cache_clear()
    monkeypatch.setattr(model, "_settings_json", model._settings_json.__wrapped__)
    table, words = load_records(world.inputs)
    settings = model.with_parameters(model.settings_dict(words), trained)
    with pytest.raises(NotCompilable, match=r"(?i)cannot evaluate.*jaro"):
        compiled.predict(settings, table, None, "TRUE", PAIR_FLOOR)
    result = link(world.inputs, threshold=0.7, trained=trained)
    splink = link(world.inputs, threshold=0.7, trained=trained, compiled_max_records=0)
    assert result.pairs_scored == splink.pairs_scored > 0
    assert result.scorer == "splink"


def test_three_valued_logic_as_in_sql(tmp_path: Path) -> None:
    del tmp_path
    table = pa.table(
        {
            "record_key": ["a", "b", "c"],
            "source": ["s", "s", "s"],
            "x": ["1", None, "1"],
            "y": [1, 2, None],
        }
    )
    records = compiled.Records(table, {"record_key", "source", "x", "y"})
    pairs = compiled.Pairs(records, np.array([0, 0, 1]), np.array([2, 1, 2]))
    # (a, c): x equal; (a, b) and (b, c): one x is NULL, so = and NOT = are both NULL.
    assert pairs.condition("x_l = x_r").tolist() == [True, False, False]
    assert pairs.condition("NOT (x_l = x_r)").tolist() == [False, False, False]
    assert pairs.condition("x_l = x_r OR x_l IS NULL").tolist() == [True, False, True]
    assert pairs.condition("NOT (x_l = x_r AND y_l = y_r)").tolist() == [False, True, False]
    assert pairs.condition("y_l + y_r >= 3").tolist() == [False, True, False]
    # Text is held as ids: an order or a number compared with it is refused, not guessed.
    with pytest.raises(NotCompilable):
        pairs.condition("x_l < x_r")
    with pytest.raises(NotCompilable):
        pairs.condition("x_l = 1")


def test_too_many_pairs_for_arrays_go_through_splink(
    world: LinkageWorld, trained: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled, "MAX_PAIRS", 10)
    table, words = load_records(world.inputs)
    settings = model.with_parameters(model.settings_dict(words), trained)
    with pytest.raises(NotCompilable, match="candidate pairs"):
        compiled.predict(settings, table, None, "TRUE", PAIR_FLOOR)
    result = link(world.inputs, threshold=0.7, trained=trained)
    assert result.pairs_scored > 10 and result.scorer == "splink"


def test_an_incremental_run_scores_as_splinks(tmp_path: Path, world: LinkageWorld) -> None:
    """New records linked into known persons: the compiled scorer gives the incremental
    run Splink's pairs (predict_between and predict_within), links and key changes."""
    from boldhub.linkage.incremental import link_incremental

    old, new = split_inputs(world.inputs, tmp_path, 0.85)
    base = link(old, threshold=0.7)
    args = (base.links, old, new, base.model_json)
    fast = link_incremental(*args, threshold=0.7)
    slow = link_incremental(*args, threshold=0.7, compiled_max_records=0)
    assert (fast.scorer, slow.scorer) == ("numpy", "splink")
    assert fast.pairs_scored == slow.pairs_scored > 0
    assert fast.changes.summary() == slow.changes.summary()
    assert fast.changes.new_persons > 0

    def grouped(links: pa.Table) -> set[frozenset[str]]:
        persons: dict[str, set[str]] = {}
        for r in links.to_pylist():
            persons.setdefault(r["person_key"], set()).add(r["record_key"])
        return {frozenset(v) for v in persons.values()}

    assert grouped(fast.links) == grouped(slow.links)
    # Known persons keep their keys either way.
    before = dict(
        zip(*[base.links.column(c).to_pylist() for c in ("record_key", "person_key")], strict=True)
    )
    for links in (fast.links, slow.links):
        after = dict(
            zip(*[links.column(c).to_pylist() for c in ("record_key", "person_key")], strict=True)
        )
        merged = {k for m in fast.changes.merges for k in m["from"]}
        assert all(after[r] == k for r, k in before.items() if k not in merged)
