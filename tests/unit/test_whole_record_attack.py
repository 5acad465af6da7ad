"""The whole-record decoding attack (benchmarks/privacy/whole_record.py) on a small
synthetic population: its structural step recovers v4's date classes without the key,
its votes re-identify people from the unhardened and v4 encodings, and from the current
scheme (v5) they re-identify nobody."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
from benchmarks.privacy import febrl, legacy_v4
from benchmarks.privacy.whole_record import (
    V5_VIEW,
    View,
    attack,
    attributes_of,
    build_columns,
    claims,
    encoded_classes,
    v4_view,
)

from boldhub.privacy.encoding import Encoder
from boldhub.privacy.keys import LinkageKey
from boldhub.privacy.prf import ThrowawayPRF

FORENAMES = [f"{a}{b}" for a in ("JO", "AN", "MA", "EL", "SA", "TO") for b in ("HN", "NA", "RY")]
SURNAMES = [f"{a}{b}" for a in ("SMI", "JON", "BRO", "TAY", "WIL") for b in ("TH", "ES", "WN")]


def _people(n: int, seed: int, prefix: str, years: tuple[int, int] = (1940, 2000)) -> febrl.Febrl:
    rng = random.Random(seed)
    cols: dict[str, list[str | None]] = {
        "forename": [],
        "surname": [],
        "dob": [],
        "postcode": [],
        "nhs_number": [],
    }
    for _ in range(n):
        # Skewed names (the first of a list is the most common), as real names are.
        cols["forename"].append(FORENAMES[min(int(rng.expovariate(0.15)), len(FORENAMES) - 1)])
        cols["surname"].append(SURNAMES[min(int(rng.expovariate(0.15)), len(SURNAMES) - 1)])
        y, m, d = rng.randint(*years), rng.randint(1, 12), rng.randint(1, 28)
        cols["dob"].append(f"{y}-{m:02d}-{d:02d}")
        cols["postcode"].append(f"{rng.randint(20, 40)} {rng.randint(10, 99)}")
        cols["nhs_number"].append(str(rng.randint(10**8, 10**9)))
    ids = [f"{prefix}{i}" for i in range(n)]
    return febrl.Febrl(ids, ids, cols)


def _encode(data: febrl.Febrl, variant: str) -> tuple[pa.Table, View]:
    keys = [f"{i:032x}" for i in range(len(data.ids))]
    if variant == "v5":
        table = Encoder(ThrowawayPRF(bytes(32))).encode_rows(keys, data.columns)
        # The hub joins each record's clear attributes (age band) to its encodings.
        for name, values in attributes_of(data).items():
            table = table.append_column(name, pa.array(values, pa.string()))
        return table, V5_VIEW
    params = legacy_v4.UNHARDENED if variant == "unhardened" else legacy_v4.EncodingParams()
    encoder = legacy_v4.Encoder(LinkageKey(bytes(range(32))), params, seed=1)
    return encoder.encode_rows(keys, data.columns), v4_view(params)


def test_date_classes_come_from_the_part_tokens_alone() -> None:
    # 2,000 people over ten years: every year-month token repeats, so the graphs connect.
    people = _people(2000, 1, "p", (1980, 1989))
    classes = encoded_classes(_encode(people, "v4")[0])
    for part, cut in (("year", slice(0, 4)), ("month", slice(5, 7)), ("day", slice(8, 10))):
        truth = [d[cut] for d in people.columns["dob"] if d]
        # Each class holds one value (no two values merged) and each value is one class:
        # 10 years, 12 months, 28 days recovered exactly.
        pairs = set(zip(classes[part].tolist(), truth, strict=True))
        assert len(pairs) == len({c for c, _ in pairs}) == len(set(truth))


ENCODED = _people(600, 2, "p")
_DISTRACTORS = _people(300, 3, "d")
POPULATION = febrl.Febrl(
    ENCODED.ids + _DISTRACTORS.ids,
    ENCODED.person + _DISTRACTORS.person,
    {c: ENCODED.columns[c] + _DISTRACTORS.columns[c] for c in ENCODED.columns},
)


def _run(
    variant: str,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    table, view = _encode(ENCODED, variant)
    classes = view.classes(table)
    use = [c for c in view.columns if c in classes]
    columns = build_columns(classes, view.plaintext(POPULATION), view, use)
    ranking = attack(columns, table.num_rows, len(POPULATION.ids), nested_columns=view.nested)
    right = ranking.top[:, 0] == np.arange(600)
    in5 = (ranking.top == np.arange(600)[:, None]).any(axis=1)
    return right, claims(ranking), in5


@pytest.mark.parametrize("variant", ["unhardened", "v4"])
def test_the_attack_reidentifies_people_from_the_earlier_encodings(variant: str) -> None:
    right, claimed, _ = _run(variant)
    # The encoding's deterministic columns alone name most people (see docs/encoding.md).
    assert right.mean() > 0.8
    assert claimed.sum() > 0 and (right & claimed).sum() / claimed.sum() > 0.9


def test_the_same_attack_finds_nobody_in_the_current_scheme() -> None:
    right, claimed, in5 = _run("v5")
    # The same people, population and attack: nothing is named, and the five best
    # candidates hold the right person no more often than the clear age band alone
    # gives by chance (five among the population's people of that band).
    bands = attributes_of(POPULATION)["age_band"]
    size = Counter(bands)
    chance = np.mean([min(1.0, 5 / size[b]) for b in bands[:600]])
    assert (right & claimed).sum() == 0
    assert right.mean() < 0.01
    assert in5.mean() < 1.5 * chance + 0.005
