"""The whole-record attack (benchmarks/privacy/whole_record.py) on a pooled synthetic
corpus: at least 100,000 records from several parties and quarters.

    .venv/bin/python -m benchmarks.privacy.pooled [--out out/privacy-pooled.json]

The corpus: the project's synthetic exports (``boldhub.synth.exports.generate``): one
homelessness export per council and the three national ones (probation, treatment,
victims), each prepared as its provider would (``boldhub.council.prepare``), and every
accepted record pooled into one store, as the hub holds it. Each record's person is the
synthetic truth (``truth.csv``). The store is encoded whole under each variant; the
attacker sees all of it, so every class and frequency is the whole store's.

The attacker's plaintext population: the clean identity (from the synthetic population
itself, ``build_population``: true forename, the surname and postcode in force at the end
of the period, date of birth, NHS number) of a share of the store's people (25%, 50%,
100%), plus distractors: every person of a second synthetic population (another seed).

Scoring every record of the store against every person is too slow on one core, so the
attack scores (and votes with) a fixed random sample of the store: the records of randomly
drawn people until ``--sample`` records (``--sample-by record`` draws records instead). A
person's other records are the ones that confirm the small classes of v5 (one date of
birth, one postcode), so sampling whole people keeps the votes the full attack would see
in those classes; votes from the records left out are missing from the larger classes.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.privacy import febrl
from benchmarks.privacy.whole_record import (
    CLAIM_POSTERIOR,
    OVERLAPS,
    ROUNDS,
    VARIANTS,
    Ints,
    Outcome,
    _concat,
    _subset,
    encode_variant,
    line,
    run_one,
)
from boldhub.council.prepare import PREPARED_FILE, prepare
from boldhub.schemas.organisations import COUNCILS
from boldhub.synth.exports import generate
from boldhub.synth.population import END, Person, build_population

PERSONS = 45_000
COUNCILS_N = 5
SEED = 2024
DISTRACTOR_PERSONS = 10_000
DISTRACTOR_SEED = 2025
SAMPLE = 5_000
SAMPLE_SEED = 17
IDENTIFIERS = ("forename", "surname", "dob", "sex", "postcode", "nhs_number")
# The date each dataset's record is of: what places it in a quarter.
EVENT_DATES = ("application_date", "sentence_date", "start_date", "referral_date")


@dataclass(frozen=True)
class Corpus:
    data: febrl.Febrl  # every pooled record: ids "source|row id", person the truth
    source: list[str]  # per record, its export (dataset:organisation)
    quarter: list[str]  # per record, the quarter of its event ("2021Q3")


def _quarter(text: str | None) -> str:
    if not text:
        return "unknown"
    return f"{text[:4]}Q{(int(text[5:7]) - 1) // 3 + 1}"


def build_corpus(folder: Path, persons: int, councils: int, seed: int) -> Corpus:
    """Generate, prepare and pool the synthetic exports (cached in ``folder``)."""
    pooled = folder / f"pooled-{persons}-{councils}-{seed}.parquet"
    if not pooled.exists():
        summary = generate(folder / "exports", persons=persons, councils=councils, seed=seed)
        truth: dict[tuple[str, str], str] = {}
        with summary.truth.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                truth[(row["source"], row["source_row_id"])] = row["person_id"]
        parts = []
        for source, export in summary.files.items():
            dataset, org = source.split(":", 1)
            out = folder / "prepared" / org / dataset
            prepare(export, dataset, out, org)
            table = pq.read_table(out / PREPARED_FILE)
            event = next(c for c in EVENT_DATES if c in table.column_names)
            rows = table.column("source_row_id").to_pylist()
            parts.append(
                pa.table(
                    {
                        "source": [source] * len(rows),
                        "row_id": rows,
                        "person": [truth[(source, r)] for r in rows],
                        **{c: table.column(c) for c in IDENTIFIERS},
                        "event_date": table.column(event),
                    }
                )
            )
        pq.write_table(pa.concat_tables(parts), pooled)
    table = pq.read_table(pooled)
    col = {name: table.column(name).to_pylist() for name in table.column_names}
    ids = [f"{s}|{r}" for s, r in zip(col["source"], col["row_id"], strict=True)]
    data = febrl.Febrl(ids, col["person"], {c: col[c] for c in IDENTIFIERS})
    return Corpus(data, col["source"], [_quarter(d) for d in col["event_date"]])


def _clean(p: Person, prefix: str = "") -> dict[str, str | None]:
    """A person's clean identity, as a department's own copy would hold it: the names,
    surname and postcode in force at the end of the period, the true date of birth and
    NHS number."""
    return {
        "id": prefix + p.person_id,
        "forename": p.forename.upper(),
        "surname": p.surname_at(END).upper(),
        "dob": p.dob.isoformat(),
        "postcode": p.address_at(END).postcode,
        "nhs_number": p.nhs_number or None,
        "sex": p.sex,
    }


def clean_people(persons: int, councils: int, seed: int, prefix: str = "") -> febrl.Febrl:
    people = [
        _clean(p, prefix) for p in build_population(persons, COUNCILS[:councils], seed).persons
    ]
    ids = [str(p["id"]) for p in people]
    return febrl.Febrl(ids, ids, {c: [p[c] for p in people] for c in IDENTIFIERS})


def population_for(
    truth: febrl.Febrl, store_people: list[str], extra: febrl.Febrl, overlap: float, seed: int = 13
) -> febrl.Febrl:
    """The clean identities of a random ``overlap`` share of the store's people, and the
    distractors."""
    rng = np.random.default_rng(seed)
    chosen = set(rng.permutation(store_people)[: round(overlap * len(store_people))].tolist())
    rows = [i for i, p in enumerate(truth.person) if p in chosen]
    return _concat([_subset(truth, rows), extra])


def sample_rows(corpus: Corpus, size: int, by: str, seed: int = SAMPLE_SEED) -> Ints:
    """A fixed random sample of the store's records: whole people's records until
    ``size`` records (``by="person"``), or ``size`` records (``by="record"``)."""
    rng = np.random.default_rng(seed)
    n = len(corpus.data.ids)
    if by == "record":
        return np.sort(rng.permutation(n)[:size]).astype(np.int64)
    rows_of: dict[str, list[int]] = {}
    for i, p in enumerate(corpus.data.person):
        rows_of.setdefault(p, []).append(i)
    people = sorted(rows_of)
    chosen: list[int] = []
    for k in rng.permutation(len(people)).tolist():
        if len(chosen) >= size:
            break
        chosen.extend(rows_of[people[k]])
    return np.sort(np.array(chosen, dtype=np.int64))


def describe(corpus: Corpus, rows: Ints) -> dict[str, Any]:
    per_source: dict[str, int] = {}
    for s in corpus.source:
        per_source[s] = per_source.get(s, 0) + 1
    quarters = sorted(set(corpus.quarter))
    return {
        "records": len(corpus.data.ids),
        "people": len(set(corpus.data.person)),
        "parties": len(per_source),
        "records_per_party": per_source,
        "quarters": len(quarters),
        "first_quarter": quarters[0],
        "last_quarter": quarters[-1],
        "sample_records": len(rows),
        "sample_people": len({corpus.data.person[i] for i in rows.tolist()}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/privacy-pooled.json"))
    parser.add_argument("--folder", type=Path, default=Path("out/pooled-corpus"))
    parser.add_argument("--persons", type=int, default=PERSONS)
    parser.add_argument("--councils", type=int, default=COUNCILS_N)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--distractors", type=int, default=DISTRACTOR_PERSONS)
    parser.add_argument("--sample", type=int, default=SAMPLE)
    parser.add_argument("--sample-by", choices=("person", "record"), default="person")
    parser.add_argument("--only", choices=tuple(VARIANTS), default=None)
    parser.add_argument("--overlaps", type=float, nargs="+", default=list(OVERLAPS))
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    t0 = time.perf_counter()
    corpus = build_corpus(args.folder, args.persons, args.councils, args.seed)
    rows = sample_rows(corpus, args.sample, args.sample_by)
    about = describe(corpus, rows)
    print(f"corpus: {json.dumps(about)} ({time.perf_counter() - t0:.0f} s)", flush=True)
    truth = clean_people(args.persons, args.councils, args.seed)
    extra = clean_people(args.distractors, args.councils, DISTRACTOR_SEED, prefix="D-")
    store_people = sorted(set(corpus.data.person))
    print(f"populations ready ({time.perf_counter() - t0:.0f} s)", flush=True)
    results: list[Outcome] = []
    for label in VARIANTS:
        if args.only and label != args.only:
            continue
        t1 = time.perf_counter()
        encodings, view = encode_variant(label, corpus.data)
        print(f"{label}: encoded in {time.perf_counter() - t1:.0f} s", flush=True)
        for overlap in args.overlaps:
            population = population_for(truth, store_people, extra, overlap)
            o = run_one(
                label,
                view,
                encodings,
                corpus.data,
                population,
                overlap,
                rows=rows,
                one_per_person=False,
            )
            results.append(o)
            print(line(o), flush=True)
    summary = {
        "attack": "whole-record",
        "corpus": about,
        "persons": args.persons,
        "councils": args.councils,
        "seed": args.seed,
        "distractors": len(extra.ids),
        "distractor_seed": DISTRACTOR_SEED,
        "sample_by": args.sample_by,
        "sample_seed": SAMPLE_SEED,
        "claim_posterior": CLAIM_POSTERIOR,
        "rounds": ROUNDS,
        "results": [o.as_dict() for o in results],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"results: {args.out} ({summary['seconds']:.0f} s in all)")


if __name__ == "__main__":
    main()
