from __future__ import annotations

import itertools
from collections.abc import Hashable

import pytest

from boldhub.linkage.evaluate import group_recall, pairwise_scores


def test_perfect_clustering() -> None:
    truth = {1: "a", 2: "a", 3: "b"}
    s = pairwise_scores({1: "x", 2: "x", 3: "y"}, truth)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_one_wrong_merge_and_one_missed_link() -> None:
    truth = {1: "a", 2: "a", 3: "a", 4: "b"}
    predicted = {1: "x", 2: "x", 3: "y", 4: "y"}  # pairs: (1,2) right, (3,4) wrong
    s = pairwise_scores(predicted, truth)
    assert s.correct_pairs == 1 and s.predicted_pairs == 2 and s.true_pairs == 3
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(1 / 3)


def test_different_records_is_an_error() -> None:
    with pytest.raises(ValueError):
        pairwise_scores({1: "a"}, {2: "a"})


def test_group_recall_counts_the_true_pairs_touching_the_group() -> None:
    # Person a: records 1, 2, 3; person b: 4, 5. Linked: (1, 2) and (4, 5); 3 missed.
    truth = {1: "a", 2: "a", 3: "a", 4: "b", 5: "b"}
    predicted = {1: "x", 2: "x", 3: "y", 4: "z", 5: "z"}
    g = group_recall(predicted, truth, "no date of birth", {3})
    # The true pairs touching 3, (1, 3) and (2, 3), are both missed.
    assert (g.records, g.true_pairs, g.recall) == (1, 2, 0.0)
    g = group_recall(predicted, truth, "sex F", {1, 4})
    assert g.true_pairs == 3 and g.recall == pytest.approx(2 / 3)  # (1,2) (1,3) (4,5)


def test_group_recall_matches_listing_the_pairs() -> None:
    truth: dict[int, Hashable] = {i: i % 7 for i in range(60)}
    predicted: dict[int, Hashable] = {i: (i % 7, i % 3 == 0) for i in range(60)}
    members: set[int] = set(range(0, 60, 4))
    pairs = [(a, b) for a, b in itertools.combinations(truth, 2) if truth[a] == truth[b]]
    touching = [(a, b) for a, b in pairs if a in members or b in members]
    linked = [(a, b) for a, b in touching if predicted[a] == predicted[b]]
    g = group_recall(predicted, truth, "group", members)
    assert g.true_pairs == len(touching)
    assert g.recall == pytest.approx(len(linked) / len(touching))
