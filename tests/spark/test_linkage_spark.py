"""The same linkage on Splink's Spark backend (local[2]) as on DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from boldhub.linkage.evaluate import pairwise_scores
from boldhub.linkage.run import link, person_keys
from tests.support.linkage import build_linkage_world

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
