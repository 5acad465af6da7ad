"""The whole-record attack's ``rows`` subset and sparse columns, which the pooled corpus
(benchmarks/privacy/pooled.py) needs: on a small synthetic set, the subset of every row
is the full run, a subset scores only its rows against the whole store's classes, and a
column held sparse ranks as the dense one does."""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pytest
from benchmarks.privacy import febrl, legacy_v4
from benchmarks.privacy import whole_record as wr

from boldhub.privacy.keys import LinkageKey

from .test_whole_record_attack import _people


def _store() -> tuple[febrl.Febrl, febrl.Febrl]:
    """400 people, each recorded twice (a pooled store), and a population of them plus 200
    distractors."""
    people = _people(400, 2, "p")
    twice = febrl.Febrl(
        [f"{i}-{k}" for k in (0, 1) for i in people.ids],
        people.person + people.person,
        {c: v + v for c, v in people.columns.items()},
    )
    extra = _people(200, 3, "d")
    population = febrl.Febrl(
        people.ids + extra.ids,
        people.person + extra.person,
        {c: people.columns[c] + extra.columns[c] for c in people.columns},
    )
    return twice, population


@functools.cache
def _encoded() -> tuple[pa.Table, febrl.Febrl]:
    store, population = _store()
    keys = [f"{i:032x}" for i in range(len(store.ids))]
    table = legacy_v4.Encoder(LinkageKey(bytes(range(32))), legacy_v4.UNHARDENED, seed=1)
    return table.encode_rows(keys, store.columns), population


def _ranking(rows: wr.Ints | None) -> wr.Ranking:
    encodings, population = _encoded()
    view = wr.v4_view(legacy_v4.UNHARDENED)
    columns = wr.build_columns(
        view.classes(encodings), view.plaintext(population), view, view.columns
    )
    return wr.attack(
        columns, encodings.num_rows, len(population.ids), nested_columns=view.nested, rows=rows
    )


def test_every_row_as_a_subset_is_the_full_run() -> None:
    full, subset = _ranking(None), _ranking(np.arange(800))
    assert np.array_equal(full.top, subset.top)
    assert np.array_equal(full.posterior, subset.posterior)
    assert np.array_equal(full.decoy_best, subset.decoy_best)


def test_a_subset_scores_its_rows_against_the_whole_stores_classes() -> None:
    # Only the first copy of 200 people is scored: each one's class partner (the second
    # copy) is outside the subset, yet the classes are the whole store's, so the records
    # are still named.
    rows = np.arange(0, 200)
    ranking = _ranking(rows)
    assert ranking.top.shape == (200, 5)
    right = ranking.top[:, 0] == rows  # the population lists the 400 people first
    assert right.mean() > 0.8


def test_sparse_columns_rank_as_dense_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    dense = _ranking(None)
    monkeypatch.setattr(wr, "DENSE_CELLS", 0)
    sparse = _ranking(None)
    # The same attack to rounding (sums in another order): the same first candidates.
    assert (dense.top[:, 0] == sparse.top[:, 0]).mean() > 0.99
    assert np.allclose(dense.posterior[:, 0], sparse.posterior[:, 0], atol=1e-3)
