"""Two re-identification attacks on BOLD Hub's encodings, by an attacker who holds the
encodings (the hub's store) and a plaintext population that overlaps the encoded one (as
a central department would), and knows the encoding scheme but not the linkage key.

A record is *re-identified* when the attacker names its forename and surname correctly
(with its plaintext population, a full name is most of the way to a person). Both attacks
report the share of encoded records (with both names) they re-identify.

1. ``pattern_mining_attack``, in the style of Christen et al. (2017, 2018):
   a. frequency alignment: identical encodings (filters and name tokens) are counted and
      the most frequent are aligned, rank by rank, with the most frequent plaintext names,
      as long as both frequencies are clearly apart from their neighbours';
   b. pattern mining: from the filters whose names step a. gave, the bit positions of
      each bigram are mined (set in every such filter whose name holds the bigram, and
      seldom in the others); every filter is then decoded to the plaintext names whose
      bigrams agree with every mined position set (bigram in the name iff all its
      positions are set); a unique candidate is the guess.
2. ``graph_attack``, in the style of Vidanage et al. (2020): a similarity graph over the
   distinct encoded name pairs (Dice of the filters, as the hub computes it) and one over
   the distinct plaintext name pairs (Dice of their bigram sets); each node gets features
   from its neighbourhood (degree at several thresholds, its strongest similarities, its
   neighbours' degrees, and the filters' weights against the names' q-gram counts); the
   two feature spaces are standardised, nodes are matched greedily one to one by cosine
   similarity of their features, and every match is a guess.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

NameRecord = tuple[str | None, str | None]


@dataclass(frozen=True)
class AttackResult:
    attack: str
    records: int
    reidentified: int
    forenames_right: int
    surnames_right: int

    @property
    def rate(self) -> float:
        return self.reidentified / self.records if self.records else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "attack": self.attack,
            "records": self.records,
            "reidentified": self.reidentified,
            "rate": round(self.rate, 5),
            "forenames_right": self.forenames_right,
            "surnames_right": self.surnames_right,
        }


def _bigrams(name: str) -> set[str]:
    padded = f"_{name}_"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def _bits(
    column: pa.ChunkedArray | pa.Array,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    values = column.to_pylist()
    present = np.array([v is not None for v in values])
    width = next((len(v) for v in values if v is not None), 64)
    raw = b"".join(v if v is not None else bytes(width) for v in values)
    packed = np.frombuffer(raw, dtype=np.uint8).reshape(len(values), width)
    return np.unpackbits(packed, axis=1), present


def _score(
    name: str, truth: list[NameRecord], guesses: list[tuple[str | None, str | None]]
) -> AttackResult:
    both = [(t, g) for t, g in zip(truth, guesses, strict=True) if t[0] and t[1]]
    fn = sum(1 for t, g in both if g[0] == t[0])
    sn = sum(1 for t, g in both if g[1] == t[1])
    full = sum(1 for t, g in both if g == t)
    return AttackResult(name, len(both), full, fn, sn)


# -- 1. frequency alignment and pattern mining -----------------------------------------


def _align_by_frequency(
    encoded: list[Any], plaintext: list[str], *, min_count: int = 3
) -> dict[Any, str]:
    """Align frequent encodings with frequent names by rank (as far as the encodings
    repeat at least ``min_count`` times, and the counts agree within a half)."""
    enc = [
        (v, c)
        for v, c in Counter(x for x in encoded if x is not None).most_common()
        if c >= min_count
    ]
    plain = Counter(plaintext).most_common(len(enc) + 1)
    scale = len([x for x in encoded if x is not None]) / max(1, len(plaintext))
    mapping: dict[Any, str] = {}
    for i, (value, count) in enumerate(enc):
        if i >= len(plain):
            break
        name, pcount = plain[i]
        if abs(count - pcount * scale) > 0.5 * pcount * scale:
            continue
        mapping[value] = name
    return mapping


def _mine_qgram_positions(
    bits: npt.NDArray[np.uint8],
    anchors: list[tuple[int, str]],
    *,
    hashes: int = 10,
) -> dict[str, npt.NDArray[np.int64]]:
    """The positions of each bigram, mined from the filters whose name the frequency
    alignment gave (Christen et al. 2017): positions set in (nearly) every anchor filter
    whose name holds the bigram, and much less often in those whose name lacks it."""
    if len(anchors) < 5:
        return {}
    rows = np.array([i for i, _ in anchors])
    a = bits[rows].astype(np.float32)
    holds: dict[str, list[int]] = {}
    for k, (_, name) in enumerate(anchors):
        for g in _bigrams(name):
            holds.setdefault(g, []).append(k)
    found: dict[str, npt.NDArray[np.int64]] = {}
    for gram, members in holds.items():
        if len(members) < 2 or len(members) == len(anchors):
            continue
        inside = np.zeros(len(anchors), dtype=bool)
        inside[members] = True
        rate_in = a[inside].mean(axis=0)
        rate_out = a[~inside].mean(axis=0)
        positions = np.flatnonzero((rate_in >= 0.9) & (rate_out <= 0.5))
        if 0.5 * hashes <= len(positions) <= 1.5 * hashes:
            found[gram] = positions
    return found


def _decode(
    bits: npt.NDArray[np.uint8],
    present: npt.NDArray[np.bool_],
    grams: dict[str, npt.NDArray[np.int64]],
    names: list[str],
) -> list[str | None]:
    if not grams:
        return [None] * len(bits)
    order = list(grams)
    has = np.stack([np.all(bits[:, grams[g]] == 1, axis=1) for g in order], axis=1)
    distinct = sorted(set(names))
    signature = np.array([[g in _bigrams(v) for g in order] for v in distinct])
    index: dict[bytes, list[int]] = {}
    for i, row in enumerate(signature):
        index.setdefault(row.tobytes(), []).append(i)
    out: list[str | None] = []
    for i, row in enumerate(has):
        hits = index.get(row.tobytes(), []) if present[i] else []
        out.append(distinct[hits[0]] if len(hits) == 1 else None)
    return out


def pattern_mining_attack(
    encodings: pa.Table,
    truth: list[NameRecord],
    plaintext: list[NameRecord],
    *,
    anchor_count: int = 15,
) -> AttackResult:
    guesses: list[list[str | None]] = []
    for k, (bf, tok) in enumerate((("fn_bf", "fn_tok"), ("sn_bf", "sn_tok"))):
        names = [p[k] for p in plaintext if p[k]]
        guess: list[str | None] = [None] * encodings.num_rows
        # a. frequency alignment of identical filters, then of identical tokens.
        for column in (bf, tok):
            values = encodings.column(column).to_pylist()
            mapping = _align_by_frequency(values, names)
            guess = [
                g or (mapping.get(v) if v is not None else None)
                for g, v in zip(guess, values, strict=True)
            ]
        # b. pattern mining: bigram positions from the aligned filters, then decoding.
        bits, present = _bits(encodings.column(bf))
        # Only the most frequent alignments are reliable enough to learn from.
        values = encodings.column(bf).to_pylist()
        top = _align_by_frequency(values, names, min_count=anchor_count)
        anchors = [(i, top[v]) for i, v in enumerate(values) if v is not None and v in top]
        grams = _mine_qgram_positions(bits, anchors)
        decoded = _decode(bits, present, grams, names)
        guesses.append([g or d for g, d in zip(guess, decoded, strict=True)])
    return _score("pattern mining", truth, list(zip(guesses[0], guesses[1], strict=True)))


# -- 2. similarity-graph matching ---------------------------------------------------------


def _features(
    sim: npt.NDArray[np.float32], extra: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    np.fill_diagonal(sim, 0.0)
    thresholds = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    degrees = np.stack([(sim >= t).sum(axis=1) for t in thresholds], axis=1).astype(np.float32)
    strongest = -np.sort(-sim, axis=1)[:, :10]
    adjacency = (sim >= 0.5).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        neighbour_degree = np.nan_to_num(
            (adjacency @ degrees[:, 1:2]) / np.maximum(1, degrees[:, 1:2])
        )
    return np.hstack([np.log1p(degrees), strongest, np.log1p(neighbour_degree), extra])


def _standardise(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    std = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    return z / np.where(norms > 0, norms, 1.0)


def graph_attack(
    encodings: pa.Table, truth: list[NameRecord], plaintext: list[NameRecord]
) -> AttackResult:
    # Encoded nodes: distinct (forename filter, surname filter) pairs.
    fn_bits, fn_ok = _bits(encodings.column("fn_bf"))
    sn_bits, sn_ok = _bits(encodings.column("sn_bf"))
    fn_pop = np.array(encodings.column("fn_bf_pop").fill_null(0).to_pylist(), dtype=np.float32)
    sn_pop = np.array(encodings.column("sn_bf_pop").fill_null(0).to_pylist(), dtype=np.float32)
    ok = fn_ok & sn_ok
    node_of: dict[bytes, int] = {}
    rows: list[int] = []
    record_node = np.full(len(ok), -1)
    for i in np.flatnonzero(ok):
        key = np.packbits(fn_bits[i]).tobytes() + np.packbits(sn_bits[i]).tobytes()
        j = node_of.setdefault(key, len(rows))
        if j == len(rows):
            rows.append(i)
        record_node[i] = j
    rows_a = np.array(rows)

    def hub_dice(
        bits: npt.NDArray[np.uint8], pop: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        b = bits[rows_a].astype(np.float32)
        ones = b.sum(axis=1)
        ham = ones[:, None] + ones[None, :] - 2 * (b @ b.T)
        w = pop[rows_a]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.clip(1 - ham / (w[:, None] + w[None, :]), 0, 1).astype(np.float32)

    enc_sim = (hub_dice(fn_bits, fn_pop) + hub_dice(sn_bits, sn_pop)) / 2
    enc_extra = np.stack([fn_pop[rows_a], sn_pop[rows_a]], axis=1) / 10.0  # ~ q-grams
    # Plaintext nodes: distinct (forename, surname) pairs.
    pairs = sorted({p for p in plaintext if p[0] and p[1]})
    vocab: dict[str, int] = {}
    for f, s in pairs:
        for g in _bigrams(f or ""):
            vocab.setdefault("f" + g, len(vocab))
        for g in _bigrams(s or ""):
            vocab.setdefault("s" + g, len(vocab))

    def plain_dice(which: int) -> npt.NDArray[np.float32]:
        m = np.zeros((len(pairs), len(vocab)), dtype=np.float32)
        for i, p in enumerate(pairs):
            for g in _bigrams(p[which] or ""):
                m[i, vocab[("f" if which == 0 else "s") + g]] = 1
        ones = m.sum(axis=1)
        return (2 * (m @ m.T) / (ones[:, None] + ones[None, :])).astype(np.float32)

    plain_sim = (plain_dice(0) + plain_dice(1)) / 2
    plain_extra = np.array(
        [[len(_bigrams(f or "")), len(_bigrams(s or ""))] for f, s in pairs], dtype=np.float32
    )
    ea = _standardise(_features(enc_sim, enc_extra))
    pa_ = _standardise(_features(plain_sim, plain_extra))
    score = ea @ pa_.T
    order = np.argsort(-score, axis=None)
    matched_enc = np.full(len(rows_a), -1)
    used_plain = np.zeros(len(pairs), dtype=bool)
    left = len(rows_a)
    for flat in order:
        e, p = divmod(int(flat), len(pairs))
        if matched_enc[e] >= 0 or used_plain[p]:
            continue
        matched_enc[e] = p
        used_plain[p] = True
        left -= 1
        if left == 0 or used_plain.all():
            break
    guesses: list[tuple[str | None, str | None]] = []
    for i in range(len(ok)):
        node = record_node[i]
        if node < 0 or matched_enc[node] < 0:
            guesses.append((None, None))
        else:
            guesses.append(pairs[matched_enc[node]])
    return _score("similarity graph", truth, guesses)
