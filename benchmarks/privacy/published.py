"""Two published attacks on Bloom-filter PPRL, run on the hub's encodings as stored.

    python -m benchmarks.privacy.published [--quick] [--only VARIANT] [--out PATH]

Threat model as in benchmarks/privacy/whole_record.py: the attacker holds file B's
encodings (FEBRL4, 5,000 records) exactly as the hub stores them and a plaintext
population: file A's records of a share (the overlap) of the same people, plus 6,500
distractors (the original records of FEBRL1-3). It knows the scheme, not the key.
Each attack runs on three encodings: "unhardened" (the v4 code without salt or buckets,
the calibration), "v4" (the previous scheme, benchmarks/privacy/legacy_v4.py) and
"default" (scheme v5, src/boldhub/privacy/encoding.py, secrets from a direct PRF).

1. **Pattern mining** (Christen, Ranbaduge, Vatsalan, Schnell, IEEE TKDE 2019; Christen
   et al., PAKDD 2018). No identical filters and no anchors: over ALL filters of a name
   field, the most frequent plaintext q-gram's bit positions are found by frequent
   itemset mining (Apriori, library ``efficient-apriori``) over the filter columns, with
   the minimum support matched to that q-gram's relative frequency in the plaintext
   names. The filters are then split into those holding the mined pattern and the
   others (the plaintext names likewise, by the q-gram), and each partition is mined in
   turn for its own most frequent q-gram, conditional on the q-grams above it (the
   partition tree of the 2018 paper). Every filter is then decoded into the q-grams whose
   mined positions it holds (and those it lacks). Mined patterns whose pair
   co-occurrences in the filters deviate from their q-grams' in the plaintext are dropped
   (``_coherent``). Second phase (TKDE 2019): the filters re-identified so far (exactly
   one plaintext name agrees with every identified q-gram and explains the filter's other
   bits) give the positions of their names' unidentified q-grams (set in nearly all
   re-identified filters of the q-gram, less identified q-grams' positions every such
   name shares; kept when held by about the q-gram's share of all filters), repeated
   while it finds more. Re-identification against the population: each plaintext person
   scores minus the identified q-grams of its forename and surname that disagree with
   the filter, minus a tenth of the gap between the filter's unexplained bits and what
   the name's unidentified q-grams would set; the five best full names are the candidates
   and a unique best within one disagreement is a claim.
2. **Graph matching** (Vidanage, Ranbaduge, Christen, Schnell, CIKM 2020). Encoded graph:
   B's records, an edge for every pair the hub compares (sharing ``salt_tok``,
   ``pc_tok`` or ``nhs_tok``; for v4 and unhardened also every pair whose mean filter
   Dice is at least 0.5), weighted by the mean of the forename and surname Dice as the
   hub computes them (``1 - popcount(a ^ b) / (pop_a + pop_b)``). Plaintext graph: the
   population's records, an edge for every pair sharing the date-of-birth scope, the
   postcode or the number (and, where the hub also compares by Dice, pairs whose
   predicted Dice is at least 0.5), weighted by the mean bigram Dice of the names.
   Similarity regression: the attacker encodes a sample of its own population with its
   own key under the same scheme and fits (per edge kind: same date-of-birth scope or
   not) a cubic regression of encoded on plaintext similarity, applied to the plaintext
   edge weights. Node features: degrees at several thresholds, a histogram of edge
   weights, the strongest edge, neighbours' mean and maximum degree (counts scaled by the
   two graphs' sizes). Features standardised per graph, nodes matched one to one greedily
   by cosine similarity (scipy is not installed here; the paper allows greedy or
   Hungarian); every match is a claim, the five most similar nodes are the candidates.

Deviations from the papers (see also the parameters of ``MiningParams``):

* Pattern mining: Apriori (``efficient-apriori`` 2.0.6, installed for this) runs on at
  most 60 candidate columns per partition, columns whose filters nearly coincide
  grouped into one item, and columns co-frequent with more than 12 others dropped (else
  Apriori enumerates 2^k subsets); a q-gram is mined only when at least 5% frequent in
  its partition and 5% more frequent than the next one; a pattern found in a partition
  is kept only when all filters hold it about as often as the plaintext holds the q-gram
  (0.8-1.25 times): a check on the attacker's own data, without which most patterns
  mined deep in the tree were wrong. Even so, on FEBRL4 unhardened about a third of the
  first-phase patterns carry the wrong q-gram label (checked against the encoder's
  positions in development only), and the co-occurrence check (not in the paper) drops
  only some of them; the second phase inherits the errors, so it adds few right q-grams.
  The number of positions per q-gram is the median mined pattern length, not read from
  the parameters.
* Graph matching: greedy one-to-one matching (no scipy here) over each encoded node's 50
  most similar plaintext nodes; the regression is a cubic fit per edge kind instead of
  the paper's learned regressors; edges by Dice >= 0.5 are kept where the hub compares
  by Dice (v4, unhardened: there ``salt_tok`` is one value, so every pair is compared).

Reported per (attack, encoding, overlap): ``present`` (B records with both names whose
person is in the population), ``reidentified`` (share of them whose claimed forename AND
surname are right: equal to the person's names in the population, or to the record's
own), ``precision`` (right claims over claims), ``narrowed5`` (the right names among the
five candidates), ``seconds``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from efficient_apriori import (  # type: ignore[import-untyped]
    itemsets_from_transactions as itemsets,
)

from benchmarks.privacy import febrl, legacy_v4
from benchmarks.privacy.whole_record import (
    _subset,
    distractors,
    encode_variant,
    population_for,
)
from boldhub.privacy.encoding import Encoder, compact_name, salt_of
from boldhub.privacy.keys import LinkageKey
from boldhub.privacy.prf import ThrowawayPRF

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]
Bits = npt.NDArray[np.bool_]

ATTACKER_KEY = bytes(range(100, 132))  # the attacker's own key, for its regression
VARIANTS = ("unhardened", "v4", "default")
OVERLAPS = (0.25, 0.5, 1.0)


# -- data ---------------------------------------------------------------------------------
# Loading, distractors and the benchmark-key encodings are whole_record.py's.


def encode(label: str, data: febrl.Febrl) -> pa.Table:
    """``data`` encoded as the hub would store it under the variant ``label`` (the
    benchmark key)."""
    return encode_variant(label, data)[0]


def _attacker_encode(label: str, data: febrl.Febrl) -> pa.Table:
    """``data`` encoded under the variant ``label`` with the attacker's own key (for its
    similarity regression): whole_record.encode_variant is fixed to the benchmark key."""
    keys = [f"{i:032x}" for i in range(len(data.ids))]
    if label == "default":
        return Encoder(ThrowawayPRF(ATTACKER_KEY)).encode_rows(keys, data.columns)
    params = legacy_v4.UNHARDENED if label == "unhardened" else legacy_v4.EncodingParams()
    encoder = legacy_v4.Encoder(LinkageKey(ATTACKER_KEY), params, seed=7)
    return encoder.encode_rows(keys, data.columns)


def names_of(data: febrl.Febrl, field: str) -> list[str]:
    return [compact_name(v) if v else "" for v in data.columns[field]]


def bigrams(name: str) -> set[str]:
    padded = f"_{name}_"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def filter_bits(column: pa.ChunkedArray | pa.Array) -> tuple[Bits, Bits]:
    """Unpacked filters (n x bits) and which records have one."""
    values = column.to_pylist()
    present = np.array([v is not None for v in values], dtype=np.bool_)
    width = next((len(v) for v in values if v is not None), 64)
    raw = b"".join(v if v is not None else bytes(width) for v in values)
    packed = np.frombuffer(raw, dtype=np.uint8).reshape(len(values), width)
    return np.unpackbits(packed, axis=1).astype(np.bool_), present


@dataclass(frozen=True)
class Truth:
    """Per encoded record: the names counted as right, and whether it is present."""

    right: list[set[tuple[str, str]]]
    present: Bits


def truth_for(encoded: febrl.Febrl, population: febrl.Febrl) -> Truth:
    pop_names = dict(
        zip(
            population.person,
            zip(names_of(population, "forename"), names_of(population, "surname"), strict=True),
            strict=False,
        )
    )
    fn, sn = names_of(encoded, "forename"), names_of(encoded, "surname")
    right: list[set[tuple[str, str]]] = []
    present = np.zeros(len(fn), dtype=np.bool_)
    for i, person in enumerate(encoded.person):
        own = (fn[i], sn[i])
        there = pop_names.get(person)
        right.append({own} | ({there} if there else set()))
        present[i] = bool(fn[i] and sn[i] and there is not None)
    return Truth(right, present)


def score(
    truth: Truth, claims: list[tuple[str, str] | None], top5: list[list[tuple[str, str]]]
) -> dict[str, float | int]:
    right = np.array([c is not None and c in r for c, r in zip(claims, truth.right, strict=True)])
    claimed = np.array([c is not None for c in claims])
    in5 = np.array([bool(set(t) & r) for t, r in zip(top5, truth.right, strict=True)])
    present = int(truth.present.sum())
    correct = int((right & truth.present).sum())
    return {
        "present": present,
        "claims": int(claimed.sum()),
        "reidentified": round(correct / present, 4) if present else 0.0,
        "precision": round(int(right.sum()) / int(claimed.sum()), 4) if claimed.any() else 1.0,
        "narrowed5": round(int((in5 & truth.present).sum()) / present, 4) if present else 0.0,
    }


# -- 1. pattern mining ----------------------------------------------------------------------


@dataclass
class MiningParams:
    min_freq: float = 0.05  # a partition's top q-gram must be at least this frequent
    min_rows: int = 40  # partitions smaller than this are not mined
    tolerance: float = 0.1  # minimum support = (1 - tolerance) * the q-gram's frequency
    max_candidates: int = 60  # columns passed to Apriori (the most frequent ones)
    min_positions: int = 4  # a pattern shorter than this is noise
    max_positions: int = 20  # longer than this is several q-grams (the specs set 10-15)
    gap: float = 1.05  # the q-gram must be this much more frequent than the next one
    max_length: int = 12  # Apriori's longest itemset (of column groups)
    similar: float = 0.7  # columns grouped into one item at this Jaccard of their rows
    max_grams: int = 80  # q-grams identified per field at most
    tries: int = 2  # q-grams tried per partition before giving up on it
    seconds: float = 30.0  # time allowed per name field (a safety net; not reached so far)
    rounds: int = 10  # rounds of the second phase at most
    max_gap: float = 0.5  # re-identified: unexplained bits within this many q-grams
    agree: float = 0.9  # a q-gram's position: set in this share of its re-identified filters
    coherence: float = 0.15  # mean relative deviation of a q-gram's pair frequencies allowed
    low: float = 0.7  # a second-phase pattern is held by this share of its q-gram's at least
    high: float = 1.4  # and at most this


def _column_groups(rows: Bits, similar: float) -> list[list[int]]:
    """Columns grouped by the rows that set them (Jaccard at least ``similar`` with the
    group's first column): one q-gram's positions are set by the same filters, so a group
    is one item for Apriori instead of every subset of its positions."""
    x = rows.astype(np.float32)
    inter = x.T @ x
    ones = x.sum(axis=0)
    jac = inter / np.maximum(ones[:, None] + ones[None, :] - inter, 1)
    groups: list[list[int]] = []
    taken = np.zeros(rows.shape[1], dtype=np.bool_)
    for c in range(rows.shape[1]):
        if taken[c]:
            continue
        members = [int(m) for m in np.flatnonzero((jac[c] >= similar) & ~taken)]
        taken[members] = True
        groups.append(members)
    return groups


def _mine_pattern(
    sub: Bits, exclude: set[int], freq: float, p: MiningParams
) -> npt.NDArray[np.int64] | None:
    """The bit positions of a q-gram of relative frequency ``freq`` in the filters
    ``sub``: among the maximal frequent itemsets of columns (Apriori, minimum support
    matched to ``freq``), the one whose support is closest to ``freq``."""
    minsup = (1 - p.tolerance) * freq
    support = sub.mean(axis=0)
    if exclude:
        support[list(exclude)] = 0.0
    cand = np.flatnonzero(support >= minsup)
    if len(cand) < p.min_positions:
        return None
    cand = cand[np.argsort(-support[cand], kind="stable")[: p.max_candidates]]
    groups = _column_groups(sub[:, cand], p.similar)
    # An item is present in a filter when all its columns are set.
    items = np.stack([sub[:, cand[g]].all(axis=1) for g in groups], axis=1)
    keep = np.flatnonzero(items.mean(axis=0) >= minsup)
    if not len(keep):
        return None
    # Apriori enumerates every subset of a frequent itemset: items that co-occur at the
    # support with more others than it can enumerate (positions shared by several
    # q-grams) are dropped, the most connected first.
    x = items[:, keep].astype(np.float32)
    partners = ((x.T @ x) / len(x) >= minsup).sum(axis=1) - 1
    while len(keep) and int(partners.max()) > p.max_length:
        worst = int(np.argmax(partners))
        keep = np.delete(keep, worst)
        x = items[:, keep].astype(np.float32)
        partners = ((x.T @ x) / len(x) >= minsup).sum(axis=1) - 1
    if not len(keep):
        return None
    transactions = [tuple(keep[r].tolist()) for r in items[:, keep]]
    found, _ = itemsets(transactions, min_support=minsup, max_length=p.max_length)
    every = [(set(k), v) for level in found.values() for k, v in level.items()]
    maximal = [(k, v) for k, v in every if not any(k < other for other, _ in every)]
    n = len(transactions)
    best: tuple[float, int, npt.NDArray[np.int64]] | None = None
    for k, v in maximal:
        pos = np.array(sorted(int(c) for i in k for c in cand[groups[i]]), dtype=np.int64)
        if not p.min_positions <= len(pos) <= p.max_positions:
            continue
        if abs(v / n - freq) > p.tolerance * freq:
            continue  # its support does not match the q-gram's frequency
        key = (abs(v / n - freq), -len(pos))
        if best is None or key < best[:2]:
            best = (key[0], key[1], pos)
    return None if best is None else best[2]


def mine_qgram_positions(
    bits: Bits, names: Sequence[str], p: MiningParams | None = None
) -> dict[str, npt.NDArray[np.int64]]:
    """Bit positions per q-gram, mined from all ``bits`` (one name field's filters) and
    the plaintext ``names`` (the population's, one per record), by the partition tree."""
    p = p or MiningParams()
    counts = Counter(n for n in names if len(n) > 0)
    distinct = sorted(counts)
    weight = np.array([counts[n] for n in distinct], dtype=np.float64)
    grams = sorted({g for n in distinct for g in bigrams(n)})
    gi = {g: i for i, g in enumerate(grams)}
    sig = np.zeros((len(distinct), len(grams)), dtype=np.bool_)
    for i, n in enumerate(distinct):
        sig[i, [gi[g] for g in bigrams(n)]] = True
    overall = (weight @ sig) / weight.sum()
    found: dict[str, npt.NDArray[np.int64]] = {}
    failed: set[str] = set()
    # A partition: filter rows, plaintext names, the q-grams it is conditioned on.
    queue: list[tuple[Ints, Bits, dict[str, bool]]] = [
        (np.arange(len(bits)), np.ones(len(distinct), dtype=np.bool_), {})
    ]
    t0 = time.perf_counter()
    while queue and len(found) < p.max_grams and time.perf_counter() - t0 < p.seconds:
        queue.sort(key=lambda q: -len(q[0]))
        rows, mask, cond = queue.pop(0)
        if len(rows) < p.min_rows or not mask.any():
            continue
        freq = (weight[mask] @ sig[mask]) / weight[mask].sum()
        for g in cond:
            freq[gi[g]] = -1.0
        order = [int(j) for j in np.argsort(-freq, kind="stable")]
        split: tuple[str, npt.NDArray[np.int64]] | None = None
        tried = 0
        for j in order:
            g = grams[j]
            if freq[j] < p.min_freq or freq[j] > 0.98 or tried >= p.tries:
                break
            if g in failed:
                continue
            if g in found:
                split = (g, found[g])
                break
            following = [float(freq[x]) for x in order if x != j and freq[x] <= freq[j]]
            if following and freq[j] < p.gap * following[0]:
                continue  # not told apart from the next q-gram by its frequency
            tried += 1
            exclude = {int(x) for h, on in cond.items() if on for x in found[h]}
            pos = _mine_pattern(bits[rows], exclude, float(freq[j]), p)
            if pos is not None and len(rows) < len(bits):
                # Checked against all filters: the pattern must be held by the q-gram's
                # share of them (positions of a q-gram are set in every filter of it).
                held = float(bits[:, pos].all(axis=1).mean())
                if not 0.8 * overall[j] <= held <= 1.25 * overall[j] + 0.002:
                    pos = None
            if pos is not None:
                found[g] = pos
                split = (g, pos)
                break
            if len(rows) == len(bits):
                failed.add(g)  # not even over all filters: never again
        if split is None:
            continue
        g, pos = split
        holds = bits[rows][:, pos].all(axis=1)
        queue.append((rows[holds], mask & sig[:, gi[g]], {**cond, g: True}))
        queue.append((rows[~holds], mask & ~sig[:, gi[g]], {**cond, g: False}))
    return found


def _name_signatures(names: Sequence[str], grams: Sequence[str]) -> Bits:
    """Which of ``grams`` each name holds (n_names x n_grams)."""
    gi = {g: i for i, g in enumerate(grams)}
    sig = np.zeros((len(names), len(grams)), dtype=np.bool_)
    for r, n in enumerate(names):
        cols = [gi[g] for g in bigrams(n) if g in gi]
        sig[r, cols] = True
    return sig


def _pattern_length(found: dict[str, Ints]) -> int:
    """The number of positions a q-gram sets, as the mined patterns show it (their median;
    the specification's hash count, less the rare collisions)."""
    return int(np.median([len(v) for v in found.values()])) if found else 0


def _consistency(
    bits: Bits, found: dict[str, Ints], names: Sequence[str], k: int
) -> tuple[Floats, Floats]:
    """Per filter and name: how many identified q-grams disagree (the name holds one whose
    positions are not all set, or the filter holds one the name lacks), and how far the
    filter's bits not explained by the name's identified q-grams are from what its
    unidentified q-grams would set (``k`` each, less overlaps), in q-grams."""
    order = sorted(found)
    m = bits.shape[1]
    has = np.stack([bits[:, found[g]].all(axis=1) for g in order], axis=1).astype(np.float32)
    sig = _name_signatures(names, order).astype(np.float32)
    mismatch = has @ (1 - sig).T + (1 - has) @ sig.T
    masks = np.zeros((len(names), m), dtype=np.float32)
    for j, g in enumerate(order):
        masks[np.flatnonzero(sig[:, j]), found[g][:, None]] = 1.0
    fb = bits.astype(np.float32)
    unexplained = fb.sum(axis=1)[:, None] - fb @ masks.T
    unknown = np.array([len(bigrams(n)) for n in names], dtype=np.float32) - sig.sum(axis=1)
    expected = k * unknown * (1 - masks.sum(axis=1) / m)
    gap = np.abs(unexplained - expected[None, :]) / max(k, 1)
    return mismatch.astype(np.float32), gap.astype(np.float32)


def _coherent(
    bits: Bits,
    found: dict[str, Ints],
    names: Sequence[str],
    weight: npt.NDArray[np.float64],
    p: MiningParams,
) -> dict[str, Ints]:
    """The mined q-grams whose patterns co-occur in the filters as the q-grams co-occur in
    the plaintext names: the q-gram whose pairs deviate most is dropped, in turn, until
    every one agrees (a check on the attacker's own data; a wrongly labelled pattern holds
    the frequency of its label but not its company)."""
    found = dict(found)
    while len(found) > 2:
        order = sorted(found)
        has = np.stack([bits[:, found[g]].all(axis=1) for g in order], axis=1).astype(np.float64)
        sig = _name_signatures(names, order).astype(np.float64)
        obs = has.T @ has / len(has)
        exp = (sig * weight[:, None]).T @ sig / weight.sum()
        dev = np.abs(obs - exp) / np.maximum(np.maximum(obs, exp), 0.01)
        np.fill_diagonal(dev, 0.0)
        score = dev.mean(axis=1)
        worst = int(np.argmax(score))
        if score[worst] <= p.coherence:
            break
        del found[order[worst]]
    return found


def extend_positions(
    bits: Bits, names: Sequence[str], found: dict[str, Ints], p: MiningParams | None = None
) -> dict[str, Ints]:
    """The second phase of Christen et al. (TKDE 2019): the filters re-identified with the
    q-grams mined so far (one plaintext name agrees with every identified q-gram and
    explains the filter's other bits) give the positions of their names' other q-grams:
    the positions set in (nearly) all re-identified filters holding a q-gram, less those
    of identified q-grams that every such name also holds. Repeated while it finds more."""
    p = p or MiningParams()
    found = dict(found)
    k = _pattern_length(found)
    if not found or k < p.min_positions:
        return found
    counts = Counter(n for n in names if n)
    distinct = sorted(counts)
    weight = np.array([counts[n] for n in distinct], dtype=np.float64)
    all_grams = sorted({g for n in distinct for g in bigrams(n)})
    share_of = dict(
        zip(all_grams, (weight @ _name_signatures(distinct, all_grams)) / weight.sum(), strict=True)
    )
    slack = 3.0 / max(len(bits), 1)

    def plausible(g: str, pos: Ints) -> bool:
        """The filters holding ``pos`` are about the q-gram's share of the names."""
        held = float(bits[:, pos].all(axis=1).mean())
        return bool(p.low * share_of[g] - slack <= held <= p.high * share_of[g] + slack)

    found = _coherent(bits, found, distinct, weight, p)
    packed, inverse = np.unique(np.packbits(bits, axis=1), axis=0, return_inverse=True)
    del inverse
    ubits = np.unpackbits(packed, axis=1).astype(np.bool_)
    ubits = ubits[ubits.any(axis=1)]
    for _ in range(p.rounds):
        mismatch, gap = _consistency(ubits, found, distinct, k)
        ok = (mismatch == 0) & (gap <= p.max_gap)
        unique = ok.sum(axis=1) == 1
        if not unique.any():
            break
        who = np.argmax(ok, axis=1)
        rows = np.flatnonzero(unique)
        named = [distinct[int(who[r])] for r in rows]
        sig = _name_signatures(named, all_grams)
        added = 0
        for j, g in enumerate(all_grams):
            if g in found:
                continue
            with_g = np.flatnonzero(sig[:, j])
            if not len(with_g):
                continue
            share = ubits[rows[with_g]].mean(axis=0)
            need = 1.0 if len(with_g) < 3 else p.agree
            cand = share >= need
            common: list[bool] = np.asarray(sig[with_g].all(axis=0)).tolist()
            for h, on in zip(all_grams, common, strict=True):
                if on and h in found:
                    cand[found[h]] = False
            pos = np.flatnonzero(cand).astype(np.int64)
            if p.min_positions <= len(pos) <= k and plausible(g, pos):
                found[g] = pos
                added += 1
        if not added:
            break
    return found


def decode_scores(
    bits: Bits, found: dict[str, npt.NDArray[np.int64]], candidates: Sequence[str]
) -> Floats:
    """Per filter and candidate name, a score of their agreement (n_filters x
    n_candidates): minus the identified q-grams that disagree, minus a tenth of the
    distance (in q-grams) between the filter's unexplained bits and what the name's
    unidentified q-grams would set."""
    if not found:
        return np.zeros((len(bits), len(candidates)), dtype=np.float32)
    k = _pattern_length(found)
    out = np.zeros((len(bits), len(candidates)), dtype=np.float32)
    for start in range(0, len(bits), 2000):
        mismatch, gap = _consistency(bits[start : start + 2000], found, candidates, k)
        out[start : start + 2000] = -mismatch - 0.1 * gap
    return out


def _rank_people(
    fn_score: Floats, sn_score: Floats, fn_idx: Ints, sn_idx: Ints, people: list[tuple[str, str]]
) -> tuple[list[tuple[str, str] | None], list[list[tuple[str, str]]]]:
    """Per record, the five best distinct full names and a claim (a unique best)."""
    claims: list[tuple[str, str] | None] = []
    top5: list[list[tuple[str, str]]] = []
    for start in range(0, len(fn_score), 500):
        s = fn_score[start : start + 500][:, fn_idx] + sn_score[start : start + 500][:, sn_idx]
        for row in s:
            best = np.argpartition(-row, min(60, len(row) - 1))[:60]
            best = best[np.lexsort((best, -row[best]))]
            names: list[tuple[str, str]] = []
            for k in best:
                if people[k] not in names:
                    names.append(people[k])
                if len(names) == 5:
                    break
            top5.append(names)
            # a claim: the best full name strictly ahead of every other full name
            firsts = [k for k in best if people[k] == names[0]]
            others = [k for k in best if people[k] != names[0]]
            ahead = not others or row[firsts[0]] > row[others[0]] + 1e-6
            claims.append(names[0] if ahead and row[firsts[0]] > -1.0 else None)
    return claims, top5


def pattern_mining(
    encodings: pa.Table, population: febrl.Febrl, p: MiningParams | None = None
) -> tuple[list[tuple[str, str] | None], list[list[tuple[str, str]]], dict[str, int]]:
    pop_fn, pop_sn = names_of(population, "forename"), names_of(population, "surname")
    keep = [i for i, (f, s) in enumerate(zip(pop_fn, pop_sn, strict=True)) if f and s]
    people = [(pop_fn[i], pop_sn[i]) for i in keep]
    scores: list[Floats] = []
    idx: list[Ints] = []
    mined: dict[str, int] = {}
    for field, col, plain in (("forename", "fn_bf", pop_fn), ("surname", "sn_bf", pop_sn)):
        bits, ok = filter_bits(encodings.column(col))
        found = mine_qgram_positions(bits[ok], plain, p)
        found = extend_positions(bits[ok], plain, found, p)
        mined[field] = len(found)
        distinct = sorted({x for x in plain if x})
        where = {n: i for i, n in enumerate(distinct)}
        s = decode_scores(bits, found, distinct)
        s[~ok] = 0.0
        scores.append(s)
        k = 0 if field == "forename" else 1
        idx.append(np.array([where[person[k]] for person in people], dtype=np.int64))
    claims, top5 = _rank_people(scores[0], scores[1], idx[0], idx[1], people)
    return claims, top5, mined


# -- 2. graph matching --------------------------------------------------------------------


THRESHOLDS = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
HIST = np.linspace(0.0, 1.0, 11)
BLOCK = 1000


def _codes(values: Sequence[object]) -> Ints:
    index: dict[object, int] = {}
    return np.array(
        [-1 if v is None else index.setdefault(v, len(index)) for v in values], dtype=np.int64
    )


def _hub_dice(bits: Bits, ok: Bits, pop: Floats, rows: slice) -> Floats:
    """Dice as the hub computes it, of the records ``rows`` against all (0 if missing)."""
    a = bits[rows].astype(np.float32)
    b = bits.astype(np.float32)
    ham = a.sum(1)[:, None] + b.sum(1)[None, :] - 2 * (a @ b.T)
    denom = pop[rows][:, None] + pop[None, :]
    d = np.where(denom > 0, 1 - ham / np.maximum(denom, 1), 0.0)
    d = np.clip(d, 0.0, 1.0)
    return np.where(ok[rows][:, None] & ok[None, :], d, 0.0).astype(np.float32)


def _gram_matrix(names: Sequence[str]) -> Floats:
    vocab: dict[str, int] = {}
    cells = [[vocab.setdefault(g, len(vocab)) for g in bigrams(n)] if n else [] for n in names]
    m = np.zeros((len(names), max(1, len(vocab))), dtype=np.float32)
    for i, c in enumerate(cells):
        m[i, c] = 1.0
    return m


def _plain_dice(m: Floats, rows: slice) -> Floats:
    ones = m.sum(axis=1)
    inter = m[rows] @ m.T
    denom = ones[rows][:, None] + ones[None, :]
    return np.where(denom > 0, 2 * inter / np.maximum(denom, 1), 0.0).astype(np.float32)


@dataclass
class Graph:
    """A graph given block by block: ``block(rows)`` returns the weights (0: no edge,
    else the weight) of those rows' edges and which of them are edges."""

    n: int
    block: Callable[[slice], tuple[Floats, Bits]]


def _features(graph: Graph, scale: float) -> Floats:
    """Node features of Vidanage et al.: degrees at thresholds, weight histogram, the
    strongest edge, neighbours' mean and maximum degree (counts scaled by ``scale``)."""
    n = graph.n
    deg = np.zeros((n, len(THRESHOLDS) + 1), dtype=np.float32)
    hist = np.zeros((n, len(HIST) - 1), dtype=np.float32)
    top = np.zeros((n, 1), dtype=np.float32)
    for start in range(0, n, BLOCK):
        rows = slice(start, min(n, start + BLOCK))
        w, edge = graph.block(rows)
        idx = np.arange(rows.start, rows.stop)
        edge[np.arange(len(idx)), idx] = False
        w = np.where(edge, w, 0.0)
        deg[rows, 0] = edge.sum(axis=1)
        for k, t in enumerate(THRESHOLDS):
            deg[rows, k + 1] = ((w >= t) & edge).sum(axis=1)
        for k in range(len(HIST) - 1):
            hist[rows, k] = (edge & (w >= HIST[k]) & (w < HIST[k + 1] + (k == len(HIST) - 2))).sum(
                1
            )
        top[rows, 0] = w.max(axis=1)
    nb = np.zeros((n, 2), dtype=np.float32)
    anchor = deg[:, 2]  # degree at 0.5
    for start in range(0, n, BLOCK):
        rows = slice(start, min(n, start + BLOCK))
        w, edge = graph.block(rows)
        idx = np.arange(rows.start, rows.stop)
        edge[np.arange(len(idx)), idx] = False
        strong = edge & (w >= 0.5)
        count = strong.sum(axis=1)
        nb[rows, 0] = (strong @ anchor) / np.maximum(count, 1)
        nb[rows, 1] = np.where(strong, anchor[None, :], 0).max(axis=1)
    return np.hstack(
        [np.log1p(deg * scale), np.log1p(hist * scale), top, np.log1p(nb * scale)]
    ).astype(np.float32)


def _standardise(x: Floats) -> Floats:
    std = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    out: Floats = (z / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return out


def _dice_edges(label: str) -> bool:
    return label != "default"


def encoded_graph(encodings: pa.Table, label: str) -> Graph:
    fb, fok = filter_bits(encodings.column("fn_bf"))
    sb, sok = filter_bits(encodings.column("sn_bf"))
    fpop = np.array(encodings.column("fn_bf_pop").fill_null(0).to_pylist(), dtype=np.float32)
    spop = np.array(encodings.column("sn_bf_pop").fill_null(0).to_pylist(), dtype=np.float32)
    toks = [_codes(encodings.column(c).to_pylist()) for c in ("salt_tok", "pc_tok", "nhs_tok")]

    def block(rows: slice) -> tuple[Floats, Bits]:
        w: Floats = ((_hub_dice(fb, fok, fpop, rows) + _hub_dice(sb, sok, spop, rows)) / 2).astype(
            np.float32
        )
        edge = np.zeros(w.shape, dtype=np.bool_)
        for t in toks:
            edge |= (t[rows][:, None] == t[None, :]) & (t[rows][:, None] >= 0)
        if _dice_edges(label):
            edge |= w >= 0.5
        return w, edge

    return Graph(encodings.num_rows, block)


def _plain_keys(data: febrl.Febrl, label: str) -> list[Ints]:
    dob = data.columns["dob"]
    if label == "unhardened":
        scope: list[str | None] = ["" for _ in dob]  # one salt for everyone
    else:
        scope = [salt_of(d) for d in dob]
    return [_codes(scope), _codes(data.columns["postcode"]), _codes(data.columns["nhs_number"])]


def _regression(label: str, population: febrl.Febrl, sample: int = 1500) -> list[Floats]:
    """Cubic fits of encoded on plaintext similarity, for pairs in one date-of-birth
    scope and for the others, from the attacker's own encoding of a sample of its
    population under its own key."""
    rng = np.random.default_rng(3)
    rows = np.sort(rng.permutation(len(population.ids))[:sample])
    own = _subset(population, rows.tolist())
    enc = encoded_graph(_attacker_encode(label, own), label)
    w_enc, edge = enc.block(slice(0, len(rows)))
    fm, sm = _gram_matrix(names_of(own, "forename")), _gram_matrix(names_of(own, "surname"))
    everything = slice(0, len(rows))
    w_plain = (_plain_dice(fm, everything) + _plain_dice(sm, everything)) / 2
    scope = _plain_keys(own, label)[0]
    same = (scope[:, None] == scope[None, :]) & (scope[:, None] >= 0)
    iu = np.triu_indices(len(rows), 1)
    fits: list[Floats] = []
    for kind in (True, False):
        sel = same[iu] == kind
        x, y = w_plain[iu][sel], w_enc[iu][sel]
        if len(x) > 200_000:
            pick = rng.choice(len(x), 200_000, replace=False)
            x, y = x[pick], y[pick]
        if len(x) < 10:
            fits.append(np.array([0.0, 0.0, 1.0, 0.0], dtype=np.float32))
        else:
            fits.append(np.polyfit(x, y, 3).astype(np.float32))
    del edge
    return fits


def plaintext_graph(population: febrl.Febrl, label: str, fits: list[Floats]) -> Graph:
    fm = _gram_matrix(names_of(population, "forename"))
    sm = _gram_matrix(names_of(population, "surname"))
    keys = _plain_keys(population, label)

    def block(rows: slice) -> tuple[Floats, Bits]:
        raw = (_plain_dice(fm, rows) + _plain_dice(sm, rows)) / 2
        scope = keys[0]
        same = (scope[rows][:, None] == scope[None, :]) & (scope[rows][:, None] >= 0)
        w = np.where(same, np.polyval(fits[0], raw), np.polyval(fits[1], raw))
        w = np.clip(w, 0.0, 1.0).astype(np.float32)
        edge = same.copy()
        for t in keys[1:]:
            edge |= (t[rows][:, None] == t[None, :]) & (t[rows][:, None] >= 0)
        if _dice_edges(label):
            edge |= w >= 0.5
        return w, edge

    return Graph(len(population.ids), block)


def graph_matching(
    encodings: pa.Table, population: febrl.Febrl, label: str, candidates: int = 50
) -> tuple[list[tuple[str, str] | None], list[list[tuple[str, str]]]]:
    enc = encoded_graph(encodings, label)
    plain = plaintext_graph(population, label, _regression(label, population))
    fe = _standardise(_features(enc, 1.0))
    fp = _standardise(_features(plain, enc.n / plain.n))
    people = list(
        zip(names_of(population, "forename"), names_of(population, "surname"), strict=True)
    )
    k = min(candidates, plain.n - 1)
    cand = np.zeros((enc.n, k), dtype=np.int64)
    sims = np.zeros((enc.n, k), dtype=np.float32)
    for start in range(0, enc.n, BLOCK):
        s = fe[start : start + BLOCK] @ fp.T
        best = np.argpartition(-s, k, axis=1)[:, :k]
        val = np.take_along_axis(s, best, axis=1)
        order = np.lexsort((best, -val), axis=1)
        cand[start : start + BLOCK] = np.take_along_axis(best, order, axis=1)
        sims[start : start + BLOCK] = np.take_along_axis(val, order, axis=1)
    top5 = [[people[j] for j in row[:5]] for row in cand]
    # Greedy one-to-one matching, the most similar pair first.
    flat = np.lexsort((cand.ravel(), -sims.ravel()))
    match = np.full(enc.n, -1, dtype=np.int64)
    used = np.zeros(plain.n, dtype=np.bool_)
    for f in flat.tolist():
        e, j = divmod(f, k)
        p = int(cand[e, j])
        if match[e] < 0 and not used[p]:
            match[e], used[p] = p, True
    claims: list[tuple[str, str] | None] = [
        people[m] if m >= 0 and all(people[m]) else None for m in match.tolist()
    ]
    return claims, top5


# -- running ------------------------------------------------------------------------------


def run_published(
    variants: Sequence[str] = VARIANTS,
    overlaps: Sequence[float] = OVERLAPS,
    quick: bool = False,
) -> list[dict[str, object]]:
    """Both attacks on every variant and overlap. ``quick``: the first 1,000 people of B
    (and their A records) and 1,300 distractors."""
    a, b = febrl.load("a"), febrl.load("b")
    extra = distractors()
    if quick:
        keep = set(b.person[:1000])
        b = _subset(b, [i for i, p in enumerate(b.person) if p in keep])
        a = _subset(a, [i for i, p in enumerate(a.person) if p in keep])
        extra = _subset(extra, range(1300))
    rows: list[dict[str, object]] = []
    for label in variants:
        encodings = encode(label, b)
        for overlap in overlaps:
            population = population_for(a, extra, overlap)
            truth = truth_for(b, population)
            for attack in ("pattern-mining", "graph-matching"):
                t0 = time.perf_counter()
                if attack == "pattern-mining":
                    claims, top5, _ = pattern_mining(encodings, population)
                else:
                    claims, top5 = graph_matching(encodings, population, label)
                row: dict[str, object] = {"attack": attack, "encoding": label, "overlap": overlap}
                row.update(score(truth, claims, top5))
                row["seconds"] = round(time.perf_counter() - t0, 1)
                rows.append(row)
                print(line(row), flush=True)
    return rows


def line(row: dict[str, object]) -> str:
    return (
        f"{row['attack']:15s} {row['encoding']:10s} overlap={row['overlap']:.0%} "
        f"present={row['present']} re-identified={row['reidentified']:.2%} "
        f"precision={row['precision']:.2%} ({row['claims']} claims) "
        f"narrowed5={row['narrowed5']:.2%} ({row['seconds']} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1,000 people of B (development)")
    parser.add_argument("--only", choices=VARIANTS, default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = run_published((args.only,) if args.only else VARIANTS, OVERLAPS, args.quick)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"results": rows}, indent=2) + "\n")
        print(f"results: {args.out}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
