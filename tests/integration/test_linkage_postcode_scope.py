"""Pairs whose dates of birth differ or are missing link through the postcode scope:
one postcode and the same initials, and then the full name (docs/linkage.md)."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from benchmarks.linkage_errors import labelled

from boldhub.evaluation import read_labelled
from boldhub.linkage.full import link
from boldhub.linkage.links import person_keys
from boldhub.linkage.records import LinkInput
from boldhub.privacy.encoding import Encoder, EncodingParams, compact_name
from boldhub.privacy.prf import ThrowawayPRF


@pytest.fixture(scope="module")
def hard_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], list[str]]:
    tmp: Path = tmp_path_factory.mktemp("hard")
    data = read_labelled(labelled(tmp, 4000, 2, 42, "hard"), "person_id")
    encoder = Encoder(ThrowawayPRF(b"\x07" * 32), EncodingParams())
    inputs = []
    for source in sorted(set(data.sources)):
        rows = [i for i, s in enumerate(data.sources) if s == source]
        columns = {f: [v[i] for i in rows] for f, v in data.columns.items()}
        table = encoder.encode_rows([f"{i:032x}" for i in rows], columns)
        path = tmp / f"{len(inputs)}.parquet"
        pq.write_table(table, path)
        inputs.append(LinkInput(source, path))
    result = link(inputs, threshold=0.7)
    person = person_keys(result.links)
    return data, result.model_json, [person[f"{i:032x}"] for i in range(len(data))]


def _levels(model_json: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    (comparison,) = [c for c in model_json["comparisons"] if c["output_column_name"] == name]
    return {lvl["label_for_charts"]: lvl for lvl in comparison["comparison_levels"]}


def test_full_name_is_trained_and_the_postcode_scope_weighs_as_a_postcode(
    hard_run: tuple[Any, dict[str, Any], list[str]],
) -> None:
    _, model_json, _ = hard_run
    full = _levels(model_json, "full_name")
    same = full["same full name, dates of birth differ"]
    # Splink used to leave full_name out of every EM session (it read the training
    # rule's column), so it had no m and weighed nothing.
    assert isinstance(same["m_probability"], float)
    assert math.log2(same["m_probability"] / same["u_probability"]) > 5
    postcode = _levels(model_json, "postcode")
    scope = postcode["same postcode and initials, other date of birth"]
    exact = postcode["exact postcode"]
    assert scope["m_probability"] == exact["m_probability"]
    # u over all pairs, not over pairs of one birthday: much rarer.
    assert scope["u_probability"] < exact["u_probability"] / 20


def test_a_missing_date_of_birth_links_at_one_postcode_with_one_name(
    hard_run: tuple[Any, dict[str, Any], list[str]],
) -> None:
    data, _, persons = hard_run
    cols = data.columns

    def full(i: int) -> str:
        return (
            compact_name(cols["forename"][i] or "") + "|" + compact_name(cols["surname"][i] or "")
        )

    by_person: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(data.truth):
        by_person[p].append(i)
    linked = pairs = 0
    for rows in by_person.values():
        for i, j in itertools.combinations(rows, 2):
            one_missing = bool(cols["dob"][i]) != bool(cols["dob"][j])
            same_place = cols["postcode"][i] and cols["postcode"][i] == cols["postcode"][j]
            names = full(i) == full(j) and "" not in full(i).split("|")
            if one_missing and same_place and names:
                pairs += 1
                linked += persons[i] == persons[j]
    assert pairs >= 30
    # Before the postcode scope weighed as a postcode, 43 of 285 such pairs were linked.
    assert linked / pairs >= 0.85
