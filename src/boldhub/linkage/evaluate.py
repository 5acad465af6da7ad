"""Pairwise precision, recall and F1 of a clustering against known truth.

Counted without listing pairs: the pairs two clusterings agree on are the pairs inside
each cell of their contingency table, so the cost is linear in the number of records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class PairwiseScores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def _pairs(counts: Counter[Hashable]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pairwise_scores(predicted: Mapping[K, Hashable], truth: Mapping[K, Hashable]) -> PairwiseScores:
    """predicted and truth map each record to its cluster; both must cover the same records."""
    if set(predicted) != set(truth):
        missing = len(set(truth) - set(predicted))
        extra = len(set(predicted) - set(truth))
        raise ValueError(f"clusterings cover different records ({missing} missing, {extra} extra)")
    pred_pairs = _pairs(Counter(predicted.values()))
    true_pairs = _pairs(Counter(truth.values()))
    correct = _pairs(Counter((predicted[r], truth[r]) for r in truth))
    precision = correct / pred_pairs if pred_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(precision, recall, f1, true_pairs, pred_pairs, correct)


@dataclass(frozen=True)
class GroupRecall:
    """Recall over the true pairs that hold at least one record of a group."""

    group: str
    records: int
    true_pairs: int
    recall: float


def group_recall(
    predicted: Mapping[K, Hashable], truth: Mapping[K, Hashable], group: str, members: set[K]
) -> GroupRecall:
    """Pairwise recall over the true pairs touching ``members``: every true (and correct)
    pair less those with both records outside the group, so that no pair is listed."""
    outside = [r for r in truth if r not in members]
    true_all = _pairs(Counter(truth.values()))
    correct_all = _pairs(Counter((predicted[r], truth[r]) for r in truth))
    true_out = _pairs(Counter(truth[r] for r in outside))
    correct_out = _pairs(Counter((predicted[r], truth[r]) for r in outside))
    pairs = true_all - true_out
    recall = (correct_all - correct_out) / pairs if pairs else 1.0
    return GroupRecall(group, len(members), pairs, recall)
