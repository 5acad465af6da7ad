"""The same linkage on Splink's Spark backend (local[2]) as on DuckDB, full and incremental."""

from __future__ import annotations

from pathlib import Path

import pytest

from boldhub.linkage.evaluate import pairwise_scores
from boldhub.linkage.full import link
from boldhub.linkage.links import person_keys
from boldhub.linkage.run import LinkOptions, PreviousRun, run
from boldhub.privacy.agreement import LinkageTerms
from tests.support.linkage import build_linkage_world, split_inputs

# About 80 seconds on two cores, most of it Spark's start-up and EM iterations.
pytestmark = [pytest.mark.spark, pytest.mark.slow]

pytest.importorskip("pyspark", reason="the 'spark' extra is not installed")


def test_spark_backend_links_like_duckdb(tmp_path: Path) -> None:
    world = build_linkage_world(tmp_path, persons=300, seed=5)
    scores = {}
    for backend in ("duckdb", "spark"):
        result = link(world.inputs, threshold=0.7, backend=backend, spark_master="local[2]")
        predicted = person_keys(result.links)
        assert set(predicted) == set(world.truth)
        scores[backend] = pairwise_scores(predicted, world.truth)
    assert scores["duckdb"].f1 >= 0.9
    assert scores["spark"].f1 >= 0.9
    assert abs(scores["spark"].f1 - scores["duckdb"].f1) <= 0.02


def test_an_incremental_run_on_spark_gives_the_person_keys_duckdb_gives(tmp_path: Path) -> None:
    world = build_linkage_world(tmp_path, persons=300, seed=5)
    old, new = split_inputs(world.inputs, tmp_path, 0.8)
    base = link(old, threshold=0.7)
    inputs = {f"a{i}": x for i, x in enumerate(old)} | {f"b{i}": x for i, x in enumerate(new)}
    previous = PreviousRun(
        links=base.links,
        inputs=frozenset(f"a{i}" for i in range(len(old))),
        model_json=base.model_json,
        threshold=0.7,
        terms=LinkageTerms(),
    )
    results = {}
    for backend in ("duckdb", "spark"):
        # No compiled scoring: both runs go through Splink, each on its own engine.
        options = LinkOptions(
            threshold=0.7,
            backend=backend,  # type: ignore[arg-type]
            spark_master="local[2]",
            compiled_max_records=0,
            key_seed=7,
        )
        results[backend] = run(inputs, terms=LinkageTerms(), options=options, previous=previous)
    duck, spark = results["duckdb"], results["spark"]
    assert duck.mode == spark.mode == "incremental"
    assert duck.scorer == spark.scorer == "splink"
    assert duck.new_records == spark.new_records > 0
    assert person_keys(spark.links) == person_keys(duck.links)
    assert spark.changes == duck.changes
    assert spark.pairs_scored == duck.pairs_scored
    assert pairwise_scores(person_keys(spark.links), world.truth).f1 >= 0.9
