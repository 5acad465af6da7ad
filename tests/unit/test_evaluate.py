from __future__ import annotations

import pytest

from boldhub.linkage.evaluate import pairwise_scores


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
