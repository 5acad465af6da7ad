"""BOLD Hub on encodings against clear-text Splink, on each error profile of the synthetic
exports, in one run on one machine.

    .venv/bin/python -m benchmarks.linkage_errors [--persons 43000] [--profiles clean default hard]

For each profile (docs/synth.md), ``boldhub synth`` writes the exports of ``--persons``
people in 3 council areas (seed 42; 43,000 people give over 100,000 records), and every
record with its source and true person becomes one row of a labelled CSV: exactly what a
council data officer would hand ``boldhub evaluate``. Both sides then run as that command
runs them (``boldhub.evaluation.evaluate``): BOLD Hub standardises, encodes under a
throwaway key and links the encodings, each source one input; Splink links the same
standardised values in clear with its own comparisons (``NameComparison`` with term
frequencies, ``DateOfBirthComparison``, ``PostcodeComparison``, exact sex, NHS and NI
numbers), blocked on date of birth, surname with the first initial, postcode with the
surname's initial, day-month with both initials, NHS and NI numbers, trained the same
unsupervised way. Both cluster at the default threshold, 0.7, chosen on the demo's data
before these profiles existed, so nothing here was tuned on the data it reports.

It prints, per profile, F1, precision, recall and seconds of both, and recall by group
(age band, sex, no date of birth, no postcode, letters outside A-Z, more than two name
parts), and writes them as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from boldhub.evaluation import evaluate
from boldhub.schemas.datasets import DATASETS
from boldhub.synth.exports import generate

FIELDS = ("forename", "surname", "other_names", "dob", "sex", "postcode", "nhs_number", "ni_number")


def labelled(folder: Path, persons: int, councils: int, seed: int, profile: str) -> Path:
    """The profile's exports as one labelled CSV (identifiers, source, person_id)."""
    summary = generate(
        folder / "exports", persons=persons, councils=councils, seed=seed, profile=profile
    )
    with summary.truth.open(newline="", encoding="utf-8") as fh:
        owner = {(r["source"], r["source_row_id"]): r["person_id"] for r in csv.DictReader(fh)}
    out = folder / f"labelled-{profile}.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*FIELDS, "source", "person_id"])
        for source, path in sorted(summary.files.items()):
            dataset = DATASETS[source.split(":")[0]]
            headers = dataset.identifier_headers
            with path.open(newline="", encoding="utf-8") as ex:
                for row in csv.DictReader(ex):
                    writer.writerow(
                        [
                            *(row.get(headers[f], "") if f in headers else "" for f in FIELDS),
                            source,
                            owner[(source, row[dataset.row_id_header])],
                        ]
                    )
    return out


def run_profile(profile: str, persons: int, councils: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"boldhub-errors-{profile}-") as tmp:
        t0 = time.perf_counter()
        path = labelled(Path(tmp), persons, councils, seed, profile)
        made = time.perf_counter() - t0
        result = evaluate(path, "person_id", Path(tmp) / "persons.csv", threshold=0.7)
    sides = {}
    for name, side in (("boldhub", result.boldhub), ("splink", result.splink)):
        s = side.scores
        sides[name] = {
            "f1": s.f1,
            "precision": s.precision,
            "recall": s.recall,
            "seconds": round(side.seconds, 1),
            "true_pairs": s.true_pairs,
            "predicted_pairs": s.predicted_pairs,
        }
    groups = [
        {
            "group": ours.group,
            "rows": ours.records,
            "true_pairs": ours.true_pairs,
            "boldhub": ours.recall,
            "splink": theirs.recall,
        }
        for ours, theirs in result.groups
    ]
    return {
        "profile": profile,
        "rows": result.rows,
        "ignored": result.ignored,
        "labelled_csv_seconds": round(made, 1),
        **sides,
        "groups": groups,
        "group_lines": result.group_lines(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=43_000)
    parser.add_argument("--councils", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profiles", nargs="+", default=["clean", "default", "hard"])
    parser.add_argument("--out", type=Path, default=Path("out/linkage-errors.json"))
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    results = []
    for profile in args.profiles:
        r = run_profile(profile, args.persons, args.councils, args.seed)
        results.append(r)
        b, s = r["boldhub"], r["splink"]
        print(
            f"{profile}: rows={r['rows']} boldhub f1={b['f1']:.4f} (P {b['precision']:.4f}, "
            f"R {b['recall']:.4f}) {b['seconds']:.1f} s; splink f1={s['f1']:.4f} "
            f"(P {s['precision']:.4f}, R {s['recall']:.4f}) {s['seconds']:.1f} s",
            flush=True,
        )
        for line in r["group_lines"]:
            print(f"  {line}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
