"""The whole-record decoding attack (benchmarks/privacy/whole_record.py) on a small
synthetic population: its structural step recovers the date classes without the key,
and its votes re-identify people from the unhardened and the default encodings."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from benchmarks.privacy import febrl
from benchmarks.privacy.whole_record import (
    COLUMNS,
    attack,
    build_columns,
    claims,
    encoded_classes,
    plaintext_values,
)

from boldhub.privacy.encoding import UNHARDENED, Encoder, EncodingParams
from boldhub.privacy.keys import LinkageKey

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


def _encode(data: febrl.Febrl, params: EncodingParams) -> pa.Table:
    key = LinkageKey(bytes(range(32)))
    keys = [f"{i:032x}" for i in range(len(data.ids))]
    return Encoder(key, params, seed=1).encode_rows(keys, data.columns)


def test_date_classes_come_from_the_part_tokens_alone() -> None:
    # 2,000 people over ten years: every year-month token repeats, so the graphs connect.
    people = _people(2000, 1, "p", (1980, 1989))
    classes = encoded_classes(_encode(people, EncodingParams()))
    for part, cut in (("year", slice(0, 4)), ("month", slice(5, 7)), ("day", slice(8, 10))):
        truth = [d[cut] for d in people.columns["dob"] if d]
        # Each class holds one value (no two values merged) and each value is one class:
        # 10 years, 12 months, 28 days recovered exactly.
        pairs = set(zip(classes[part].tolist(), truth, strict=True))
        assert len(pairs) == len({c for c, _ in pairs}) == len(set(truth))


@pytest.mark.parametrize("params", [UNHARDENED, EncodingParams()], ids=["unhardened", "default"])
def test_the_attack_reidentifies_people_without_the_key(params: EncodingParams) -> None:
    encoded = _people(600, 2, "p")
    distractors = _people(300, 3, "d")
    population = febrl.Febrl(
        encoded.ids + distractors.ids,
        encoded.person + distractors.person,
        {c: encoded.columns[c] + distractors.columns[c] for c in encoded.columns},
    )
    table = _encode(encoded, params)
    columns = build_columns(encoded_classes(table), plaintext_values(population), params, COLUMNS)
    ranking = attack(columns, table.num_rows, len(population.ids))
    right = ranking.top[:, 0] == np.arange(600)
    claimed = claims(ranking)
    # The encoding's deterministic columns alone name most people (see docs/encoding.md).
    assert right.mean() > 0.8
    assert claimed.sum() > 0 and (right & claimed).sum() / claimed.sum() > 0.9
