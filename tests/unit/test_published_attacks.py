"""Pattern mining as published (benchmarks.privacy.published) on a small synthetic set:
it recovers names from unhardened filters and nothing from scheme v5's."""

from __future__ import annotations

import numpy as np
from benchmarks.privacy import febrl
from benchmarks.privacy.published import encode, pattern_mining, score, truth_for

SYLLABLES = ["AN", "MA", "RI", "EL", "TO", "SA", "KI", "RO", "BE", "DU", "NE", "LI", "MO", "JA"]


def _names(rng: np.random.Generator, count: int) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        name = "".join(rng.choice(SYLLABLES, int(rng.integers(2, 4))))
        if name not in out:
            out.append(name)
    return out


def _people(n: int, seed: int) -> febrl.Febrl:
    rng = np.random.default_rng(seed)
    fns, sns = _names(rng, 150), _names(rng, 150)
    # Zipf-like frequencies, as in real name lists: the frequency is what is mined.
    w = 1 / np.arange(1, 151) ** 0.8
    fn = rng.choice(fns, n, p=w / w.sum())
    sn = rng.choice(sns, n, p=w / w.sum())
    dob = [
        f"{rng.integers(1940, 2000)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
        for _ in range(n)
    ]
    cols: dict[str, list[str | None]] = {
        "forename": [str(x) for x in fn],
        "surname": [str(x) for x in sn],
        "dob": list(dob),
        "postcode": [None] * n,
        "nhs_number": [None] * n,
    }
    return febrl.Febrl([f"rec-{i}-org" for i in range(n)], [str(i) for i in range(n)], cols)


def test_pattern_mining_recovers_unhardened_names_and_not_v5() -> None:
    people = _people(1200, seed=1)
    rates: dict[str, tuple[int, dict[str, float | int]]] = {}
    for label in ("unhardened", "default"):
        encodings = encode(label, people)
        claims, top5, mined = pattern_mining(encodings, people)
        rates[label] = (sum(mined.values()), score(truth_for(people, people), claims, top5))
    grams, unhardened = rates["unhardened"]
    assert grams >= 10
    assert float(unhardened["reidentified"]) >= 0.4
    assert float(unhardened["precision"]) >= 0.8
    grams_v5, v5 = rates["default"]
    assert grams_v5 == 0
    assert float(v5["reidentified"]) <= 0.02
