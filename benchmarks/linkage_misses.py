"""Which true pairs BOLD Hub misses on an error profile, by what their two records share.

    .venv/bin/python -m benchmarks.linkage_misses [--persons 14000] [--profile hard]

The profile's exports (``boldhub synth``, 3 council areas, seed 42) become the labelled
CSV of benchmarks/linkage_errors.py, which BOLD Hub links as ``boldhub evaluate`` does
(encoded under a throwaway key, threshold 0.7). Every true pair the linkage leaves in two
persons is counted by whether its two records' date of birth and postcode agree, differ
or are missing on one side, and whether their names agree (standardised letters only).
This is the evidence the linkage issue works from: which scope could have compared the
pair's names (docs/encoding.md).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from benchmarks.linkage_errors import labelled
from boldhub.evaluation import read_labelled, run_boldhub


def _letters(value: str | None) -> str:
    return "".join(c for c in (value or "").upper() if c.isalpha())


def _state(a: str, b: str) -> str:
    if not a or not b:
        return "missing"
    return "agree" if a == b else "differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=14_000)
    parser.add_argument("--profile", default="hard")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="boldhub-misses-") as tmp:
        data = read_labelled(
            labelled(Path(tmp), args.persons, 3, args.seed, args.profile), "person_id"
        )
        persons, _ = run_boldhub(data, threshold=0.7, workdir=Path(tmp))
    cols = data.columns
    by_person: dict[str, list[int]] = defaultdict(list)
    for row, person in enumerate(data.truth):
        by_person[str(person)].append(row)
    missed: Counter[tuple[str, str, str]] = Counter()
    true_pairs = 0
    for rows in by_person.values():
        for i, j in itertools.combinations(rows, 2):
            true_pairs += 1
            if persons[i] == persons[j]:
                continue
            names = [(_letters(cols["forename"][r]), _letters(cols["surname"][r])) for r in (i, j)]
            if all(len(x) > 1 for x in names[0]) and names[0] == names[1]:
                name = "full name agrees"
            elif len(names[0][1]) > 1 and names[0][1] == names[1][1]:
                name = "surname agrees"
            else:
                name = "names differ"
            dob = _state(cols["dob"][i] or "", cols["dob"][j] or "")
            pc = _state(_letters(cols["postcode"][i]), _letters(cols["postcode"][j]))
            missed[(f"date of birth {dob}", f"postcode {pc}", name)] += 1
    total = sum(missed.values())
    print(
        f"{args.profile}, {args.persons} persons: {len(data)} records, {true_pairs} true pairs, "
        f"{total} missed (recall {1 - total / true_pairs:.4f})"
    )
    for (dob, pc, name), count in missed.most_common():
        print(f"  {count:6d}  {dob:<26} {pc:<18} {name}")


if __name__ == "__main__":
    main()
