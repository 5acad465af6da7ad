"""Pairs whose dates of birth differ or are missing link through the postcode scope:
one postcode and the same initials, and then the full name (docs/linkage.md)."""

from __future__ import annotations

import itertools
import math
import random
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


def test_borrowed_parameters_hold_on_a_small_input_whose_names_never_vary(tmp_path: Path) -> None:
    """A small clean input: EM gives the exact names an m of 1 and the postcode scope has
    too few pairs to count. number_names must not turn a changed name into a veto, a name
    not known under the number must weigh nothing, and full_name keeps its prior."""
    rng = random.Random(3)
    forenames = [f"{a}{b}" for a in ("AL", "BE", "CA", "DO", "EL") for b in ("AN", "ICE", "RL")]
    surnames = [f"{a}{b}" for a in ("SM", "JO", "BR", "WI") for b in ("ITH", "NES", "OWN")]
    rows: list[dict[str, str | None]] = []
    for p in range(400):
        dob = f"{1950 + rng.randrange(50)}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}"
        person = {
            "forename": rng.choice(forenames),
            "surname": rng.choice(surnames),
            "dob": dob,
            "sex": "F",
            "postcode": f"B{rng.randrange(20)} {rng.randrange(9)}AA",
            "nhs_number": f"4{p:09d}" if rng.random() < 0.6 else None,
        }
        rows += [person] * rng.choice([1, 2, 2, 3])
    fields = ("forename", "surname", "other_names", "dob", "sex", "postcode", "nhs_number")
    table = Encoder(ThrowawayPRF(b"\x07" * 32), EncodingParams()).encode_rows(
        [f"{i:032x}" for i in range(len(rows))], {f: [r.get(f) for r in rows] for f in fields}
    )
    pq.write_table(table, tmp_path / "small.parquet")
    model_json = link([LinkInput("x:1", tmp_path / "small.parquet")], threshold=0.7).model_json

    def weight(level: dict[str, Any]) -> float:
        return math.log2(level["m_probability"] / level["u_probability"])

    names = _levels(model_json, "number_names")
    assert weight(names["a name not known on a side"]) == 0
    # m of an exact name is held at 0.99: "else" is strong evidence, not -997 bits.
    assert -20 < weight(names["All other comparisons"]) < 0
    assert weight(names["one name agrees"]) > 0
    full = _levels(model_json, "full_name")
    # Before, random sampling set it from a handful of pairs: 0.25.
    assert full["same full name, dates of birth differ"]["u_probability"] < 0.01
