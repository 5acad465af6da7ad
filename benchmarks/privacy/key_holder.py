"""The key-holder's dictionary attack: one party colluding with the hub, within its quota.

    .venv/bin/python -m benchmarks.privacy.key_holder [--demo-only] [--corpus-folder DIR]

The adversary is one party of the agreement colluding with the hub (or a hub run by a
party). It holds the hub's store (every other party's encodings), a plaintext population
(the demo's: every person, with names, dates of birth and addresses), and what it may
ask of the agreement's key service: under scheme v4 every party held the raw key and
decoded everything offline (100%).

Under v5 every secret is a PRF output of the key service, and the service caps each party
**per domain** at what its own submission needs there (``keyservice cap``): its dates of
birth, its postcode scopes, its numbers. Each domain has its own key, so a cap cannot be
dodged by naming another domain. Two queries open names:

* a date of birth opens its scope: the attacker finds every stored record of that
  birthday (``salt_tok``) and tests every name of its dictionary against their name
  tokens offline (the filters would give the same);
* a postcode scope (postcode and initials) opens the full names keyed under it
  (``pc_name_tok``), tested against the dictionary's full names with those initials.

A number opens one record and no name, so number caps are no use to it. A record counts as
re-identified when its forename and surname are both decoded (its date of birth or
postcode then is known too). The dictionary is every name the other parties hold, typos
included (the strongest dictionary there is).

Three attackers, each the largest party (the most evaluations needed):

* ``own``: it submits honestly, so its caps go on its own records, and it decodes what the
  secrets of its own records open: the other parties' records of its own people (the
  linkage itself tells a colluding hub that much) and of anyone sharing a birthday or a
  postcode scope with them;
* ``population`` (the ``key-holder:`` line): it spends caps equal to its need (a quarter's
  quota not used for its submission) on the population's commonest dates of birth and
  postcode scopes, most people first;
* ``knowing``: the same caps, spent on the scopes holding the most undecoded records of
  the other parties (an attacker that knows who is in their data: an upper bound).

Each is reported over all the other parties' records, and over those of people the
attacker does not hold (what it could not learn from the linkage alone).

Then, as the suite's other attacks, on FEBRL4 and on the pooled corpus (105,675 records)
at 25%, 50% and 100% overlap with distractors (``corpora``): the store encoded through a
key service, an attacker holding nothing of it with the largest demo party's caps,
spending them on its population's commonest values. The ``key-holder:`` line reports the
worst of those, with the demo's three attackers beside it.

The data are the demo's (the same synthetic population, councils and seed): every party's
export is prepared and encoded as the demo does, through a real key service in this
process (RFC 9497 OPRF), and the attacker's queries go through the same service under its
caps, so the refusals that end the attack are the service's own.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from benchmarks.privacy import febrl
from boldhub.council.prepare import PREPARED_FILE, prepare
from boldhub.errors import KeyServiceError
from boldhub.keyservice.client import LocalTransport, OprfClient
from boldhub.keyservice.service import KeyService
from boldhub.privacy.encoding import Encoder, _full_postcode, block, compact_name, salt_of
from boldhub.privacy.keys import LinkageKey
from boldhub.privacy.prf import KeyedFunction
from boldhub.synth.exports import COUNCILS, generate
from boldhub.synth.population import build_population

AGREEMENT = "bold-demo"
IDENTIFIERS = (
    "forename",
    "surname",
    "other_names",
    "dob",
    "sex",
    "postcode",
    "nhs_number",
    "ni_number",
    "pnc_id",
    "crn",
    "prison_number",
)


class Counting:
    """A keyed function that counts the values asked of it (a party's need)."""

    def __init__(self, inner: KeyedFunction) -> None:
        self.inner, self.asked = inner, 0
        self.by_domain: Counter[str] = Counter()

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def evaluate(self, domain: str, values: Sequence[bytes]) -> list[bytes]:
        self.asked += len(set(values))
        self.by_domain[domain] += len(set(values))
        return self.inner.evaluate(domain, values)


@dataclass
class Party:
    organisation: str
    clear: pa.Table  # standardised identifiers
    persons: list[str]  # each record's person (the synthetic truth)
    encodings: pa.Table
    need: int  # values its own encoding asked of the key service
    need_by_domain: dict[str, int]


def _aes(key: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data)


def build(persons: int, councils: int, seed: int, work: Path, service: KeyService) -> list[Party]:
    """Every demo party's records, prepared and encoded through the key service."""
    summary = generate(work / "exports", persons=persons, councils=councils, seed=seed)
    truth = {
        (row["source"], row["source_row_id"]): row["person_id"]
        for row in pcsv.read_csv(summary.truth).to_pylist()
    }
    by_org: dict[str, list[pa.Table]] = {}
    people: dict[str, list[str]] = {}
    for source, export in summary.files.items():
        dataset, org = source.split(":", 1)
        out = work / org / dataset
        prepare(export, dataset, out, org)
        table = pq.read_table(out / PREPARED_FILE)
        cols = [c for c in IDENTIFIERS if c in table.column_names]
        by_org.setdefault(org, []).append(table.select(cols))
        people.setdefault(org, []).extend(
            truth[(source, r)] for r in table.column("source_row_id").to_pylist()
        )
    parties = []
    for org, tables in sorted(by_org.items()):
        clear = pa.concat_tables(tables, promote_options="default")
        service.add_party(AGREEMENT, org, 10**9)
        counting = Counting(OprfClient(LocalTransport(service, AGREEMENT, party=org)))
        keys = [f"{i:032x}" for i in range(clear.num_rows)]
        columns = {c: clear.column(c) for c in clear.column_names}
        encodings = Encoder(counting).encode_rows(keys, columns)
        parties.append(
            Party(org, clear, people[org], encodings, counting.asked, dict(counting.by_domain))
        )
    return parties


def _full(fn: str, sn: str) -> str | None:
    """The full name as the postcode scope keys it (either order)."""
    return "|".join(sorted((fn, sn))) if len(fn) > 1 and len(sn) > 1 else None


def _pc_scope(postcode: str | None, fn: str, sn: str) -> str | None:
    full = _full_postcode(postcode) if postcode else None
    initials = "".join(sorted((fn[:1], sn[:1])))
    return f"{full}|{initials}" if full and initials else None


@dataclass
class Store:
    """What the colluding hub holds of the other parties, with the clear truth beside it
    (to score the attack, never to guide it unless the attacker is ``knowing``)."""

    dobs: list[str | None]
    pcs: list[str | None]
    fns: list[str]
    sns: list[str]
    persons: list[str]
    named: npt.NDArray[np.bool_]
    salt_rows: dict[str, list[int]]
    pc_rows: dict[str, list[int]]
    fn_tok: list[str | None]
    sn_tok: list[str | None]
    pc_name_tok: list[str | None]

    @classmethod
    def of(cls, others: list[Party]) -> Store:
        clear = pa.concat_tables([p.clear for p in others], promote_options="default")
        enc = pa.concat_tables([p.encodings for p in others])
        columns = {
            c: clear.column(c).to_pylist() for c in ("forename", "surname", "dob", "postcode")
        }
        return cls.build(columns, [x for p in others for x in p.persons], enc)

    @classmethod
    def build(cls, columns: dict[str, list[Any]], persons: list[str], enc: pa.Table) -> Store:
        fns = [compact_name(v) if v else "" for v in columns["forename"]]
        sns = [compact_name(v) if v else "" for v in columns["surname"]]
        dobs = [salt_of(d) for d in columns["dob"]]
        pcs = [_pc_scope(p, f, n) for p, f, n in zip(columns["postcode"], fns, sns, strict=True)]
        named = np.array([len(f) > 1 and len(n) > 1 for f, n in zip(fns, sns, strict=True)])
        salt_rows: dict[str, list[int]] = {}
        for i, t in enumerate(enc.column("salt_tok").to_pylist()):
            if t:
                salt_rows.setdefault(t, []).append(i)
        pc_rows: dict[str, list[int]] = {}
        for i, t in enumerate(enc.column("pc_tok").to_pylist()):
            if t:
                pc_rows.setdefault(t, []).append(i)
        return cls(
            dobs,
            pcs,
            fns,
            sns,
            persons,
            named,
            salt_rows,
            pc_rows,
            enc.column("fn_tok").to_pylist(),
            enc.column("sn_tok").to_pylist(),
            enc.column("pc_name_tok").to_pylist(),
        )


class Decoder:
    """Opens scopes with secrets and decodes the names in them.

    The dictionary holds every name of the store, so a record's name is decoded exactly
    when its token is the keyed block of its own name under the opened secret (a 128-bit
    token meets no other name's): that is what is tested, one block per record, instead
    of keying the whole dictionary per scope."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.decoded = np.zeros(len(store.fns), dtype=bool)
        self.opened = {"dob-salt": 0, "postcode": 0}

    def open_dob(self, secret: bytes) -> None:
        s = self.store
        rows = s.salt_rows.get(_aes(secret, block("salt", "-")).hex(), [])
        if not rows:
            return
        self.opened["dob-salt"] += 1
        for r in rows:
            if (
                s.named[r]
                and _aes(secret, block("forename", s.fns[r])).hex() == s.fn_tok[r]
                and _aes(secret, block("surname", s.sns[r])).hex() == s.sn_tok[r]
            ):
                self.decoded[r] = True

    def open_postcode(self, secret: bytes) -> None:
        s = self.store
        rows = s.pc_rows.get(_aes(secret, block("postcode", "-")).hex(), [])
        if not rows:
            return
        self.opened["postcode"] += 1
        for r in rows:
            full = _full(s.fns[r], s.sns[r])
            if full and _aes(secret, block("full-name", full)).hex() == s.pc_name_tok[r]:
                self.decoded[r] = True

    def score(self, own: set[str]) -> dict[str, float]:
        s = self.store
        theirs = np.array([p not in own for p in s.persons]) & s.named
        return {
            "reidentified": float((self.decoded & s.named).sum() / max(int(s.named.sum()), 1)),
            "reidentified_not_its_people": float(
                (self.decoded & theirs).sum() / max(int(theirs.sum()), 1)
            ),
            "share_of_its_people": float(1 - theirs.sum() / max(int(s.named.sum()), 1)),
        }


def _spend(client: OprfClient, domain: str, wanted: list[str]) -> list[tuple[str, bytes]]:
    """Ask for ``wanted`` in order until the service refuses; what was granted."""
    got: list[tuple[str, bytes]] = []
    batch = 500
    for start in range(0, len(wanted), batch):
        chunk = wanted[start : start + batch]
        try:
            got += zip(chunk, client.evaluate(domain, [v.encode() for v in chunk]), strict=True)
        except KeyServiceError:
            # Over the cap: the service refuses a batch whole. Spend what is left, one by one.
            for v in chunk:
                try:
                    got.append((v, client.evaluate(domain, [v.encode()])[0]))
                except KeyServiceError:
                    return got
    return got


def _most_first(values: list[str]) -> list[str]:
    """Distinct values, the commonest first (ties in a fixed random order)."""
    counts = Counter(values)
    distinct = sorted(counts)
    rng = np.random.default_rng(7)
    shuffled = [distinct[i] for i in rng.permutation(len(distinct))]
    return sorted(shuffled, key=lambda x: -counts[x])


def attack(
    kind: str, attacker: Party, store: Store, client: OprfClient, population: Any
) -> dict[str, Any]:
    """One attacker (``own``, ``population`` or ``knowing``: see the module's docstring)."""
    decoder = Decoder(store)
    if kind == "own":
        fns = [compact_name(v) if v else "" for v in attacker.clear.column("forename").to_pylist()]
        sns = [compact_name(v) if v else "" for v in attacker.clear.column("surname").to_pylist()]
        dobs = sorted({d for d in map(salt_of, attacker.clear.column("dob").to_pylist()) if d})
        pcs = sorted(
            {
                p
                for p in (
                    _pc_scope(c, f, n)
                    for c, f, n in zip(
                        attacker.clear.column("postcode").to_pylist(), fns, sns, strict=True
                    )
                )
                if p
            }
        )
    elif kind == "population":
        people = population.persons
        dobs = _most_first([d for d in (salt_of(p.dob.isoformat()) for p in people) if d])
        pcs = _most_first(
            [
                v
                for p in people
                for a in p.addresses
                for v in [_pc_scope(a.postcode, compact_name(p.forename), compact_name(p.surname))]
                if v
            ]
        )
    else:
        dobs = _most_first([d for d in store.dobs if d])
        pcs = _most_first([p for p in store.pcs if p])
    for _, secret in _spend(client, "dob-salt", dobs):
        decoder.open_dob(secret)
    if kind == "knowing":
        # The postcode scopes of the records the dates of birth left undecoded, most first.
        pcs = _most_first(
            [p for p, done in zip(store.pcs, decoder.decoded, strict=True) if p and not done]
        )
    for _, secret in _spend(client, "postcode", pcs):
        decoder.open_postcode(secret)
    return {**decoder.score(set(attacker.persons)), "scopes_opened": decoder.opened}


def _tokens(secret: bytes, blocks: bytes) -> list[str]:
    raw = _aes(secret, blocks)
    return [raw[i : i + 16].hex() for i in range(0, len(raw), 16)]


NAME_DOMAINS = ("dob-salt", "postcode")


def corpus_attack(
    corpus: str,
    store_data: febrl.Febrl,
    populations: dict[float, febrl.Febrl],
    caps: dict[str, int],
    seed: int,
) -> list[dict[str, Any]]:
    """The key-holder on a corpus the colluding party holds nothing of: the store encoded
    through a key service, the attacker's caps those of the largest demo party, its
    population a share of the store's people (clean identities) with distractors, its
    queries the population's commonest dates of birth and postcode scopes."""
    service = KeyService()
    service.add_key(AGREEMENT, LinkageKey(np.random.default_rng([seed, 1]).bytes(32)))
    service.add_party(AGREEMENT, "store", 10**12)
    client = OprfClient(LocalTransport(service, AGREEMENT, party="store"))
    keys = [f"{i:032x}" for i in range(len(store_data.ids))]
    encodings = Encoder(client).encode_rows(keys, dict(store_data.columns))
    store = Store.build(dict(store_data.columns), store_data.person, encodings)
    out = []
    for overlap, population in populations.items():
        name = f"attacker-{corpus}-{overlap}"
        service.add_party(AGREEMENT, name, sum(caps.values()))
        for domain, cap in caps.items():
            service.set_cap(AGREEMENT, name, domain, cap)
        attacker = OprfClient(LocalTransport(service, AGREEMENT, party=name))
        cols = population.columns
        fns = [compact_name(v) if v else "" for v in cols["forename"]]
        sns = [compact_name(v) if v else "" for v in cols["surname"]]
        dobs = _most_first([d for d in map(salt_of, cols["dob"]) if d])
        pcs = _most_first([p for p in map(_pc_scope, cols["postcode"], fns, sns) if p])
        decoder = Decoder(store)
        for _, secret in _spend(attacker, "dob-salt", dobs):
            decoder.open_dob(secret)
        for _, secret in _spend(attacker, "postcode", pcs):
            decoder.open_postcode(secret)
        score = decoder.score(set())
        out.append(
            {
                "corpus": corpus,
                "overlap": overlap,
                "population": len(population.ids),
                "store_records": len(store_data.ids),
                "reidentified": score["reidentified"],
                "scopes_opened": decoder.opened,
            }
        )
        print(
            f"{corpus} overlap={overlap:.0%} population={len(population.ids)}: "
            f"re-identified {score['reidentified']:.2%} of {int(store.named.sum())} "
            f"(scopes opened {decoder.opened})",
            flush=True,
        )
    return out


def corpora(caps: dict[str, int], folder: Path, seed: int) -> list[dict[str, Any]]:
    """FEBRL4 (file B stored; file A's people and FEBRL1-3's originals as the population)
    and the pooled synthetic corpus (105,675 records of 8 parties over 28 quarters), each
    at 25%, 50% and 100% overlap, as the other attacks of the suite."""
    # Here, not at the top: whole_record imports run, which imports this module.
    from benchmarks.privacy import pooled, whole_record

    a, b = febrl.load("a"), febrl.load("b")
    extra = whole_record.distractors()
    results = corpus_attack(
        "FEBRL4",
        b,
        {o: whole_record.population_for(a, extra, o) for o in whole_record.OVERLAPS},
        caps,
        seed,
    )
    corpus = pooled.build_corpus(folder, pooled.PERSONS, pooled.COUNCILS_N, pooled.SEED)
    truth = pooled.clean_people(pooled.PERSONS, pooled.COUNCILS_N, pooled.SEED)
    distractors = pooled.clean_people(
        pooled.DISTRACTOR_PERSONS, pooled.COUNCILS_N, pooled.DISTRACTOR_SEED, prefix="D-"
    )
    people = sorted(set(corpus.data.person))
    results += corpus_attack(
        "pooled",
        corpus.data,
        {o: pooled.population_for(truth, people, distractors, o) for o in whole_record.OVERLAPS},
        caps,
        seed,
    )
    return results


def run(
    persons: int, councils: int, seed: int, corpus_folder: Path | None = None
) -> dict[str, object]:
    t0 = time.perf_counter()
    service = KeyService()
    service.add_key(AGREEMENT, LinkageKey(np.random.default_rng([seed, 0]).bytes(32)))
    with tempfile.TemporaryDirectory() as tmp:
        parties = build(persons, councils, seed, Path(tmp), service)
    population = build_population(persons, COUNCILS[:councils], seed)
    attacker = max(parties, key=lambda p: p.need)
    others = [p for p in parties if p is not attacker]
    store = Store.of(others)
    out: dict[str, object] = {
        "attacker": attacker.organisation,
        "parties": {
            p.organisation: {"records": p.clear.num_rows, "need": p.need, **p.need_by_domain}
            for p in parties
        },
        "population": len(population.persons),
    }
    for kind in ("own", "population", "knowing"):
        # The attacker's own caps: what its own submission needed in each domain, granted
        # afresh (``own`` spends them on its own records, the others on guesses).
        name = f"{attacker.organisation}-{kind}"
        service.add_party(AGREEMENT, name, attacker.need)
        for domain, need in attacker.need_by_domain.items():
            service.set_cap(AGREEMENT, name, domain, need)
        client = OprfClient(LocalTransport(service, AGREEMENT, party=name))
        result = attack(kind, attacker, store, client, population)
        refused = [r for r in service.audit() if r.party == name and r.outcome != "granted"]
        refused = [r for r in refused if r.outcome.startswith("refused")]
        out[kind] = {
            "quota": attacker.need,
            "caps": {d: attacker.need_by_domain.get(d, 0) for d in NAME_DOMAINS},
            **result,
            "refusals_audited": len(refused),
        }
    if corpus_folder is not None:
        caps = {d: attacker.need_by_domain.get(d, 0) for d in NAME_DOMAINS}
        out["corpora"] = corpora(caps, corpus_folder, seed)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=14_000)
    parser.add_argument("--councils", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("out/privacy-key-holder.json"))
    parser.add_argument(
        "--corpus-folder",
        type=Path,
        default=Path("out/pooled-corpus"),
        help="where the pooled corpus is cached (benchmarks.privacy.pooled's --folder)",
    )
    parser.add_argument(
        "--demo-only", action="store_true", help="the demo's data only (no FEBRL4, no pooled)"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    result = run(
        args.persons, args.councils, args.seed, None if args.demo_only else args.corpus_folder
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(key_holder_line(result))


def key_holder_line(result: dict[str, Any]) -> str:
    """The worst re-identification over the corpora and overlaps (the suite's protocol:
    a share of the store's people with distractors), then the demo's closed world (the
    attacker's population is exactly the demo's people), beside it."""
    guided, own, knowing = result["population"], result["own"], result["knowing"]
    demo = (
        f"demo, its population exactly the people there: {guided['reidentified']:.2%} "
        f"spending its caps on guesses, {own['reidentified']:.2%} submitting honestly "
        f"(its own people are {own['share_of_its_people']:.2%} of the others' records), "
        f"{knowing['reidentified']:.2%} knowing who is where"
    )
    found = result.get("corpora") or []
    if not found:
        return f"key-holder: quota={guided['quota']} reidentified={guided['reidentified']:.2%} ({demo})"
    w = max(found, key=lambda r: r["reidentified"])
    return (
        f"key-holder: quota={guided['quota']} reidentified={w['reidentified']:.2%} "
        f"(caps per domain; corpus={w['corpus']} overlap={w['overlap']:.0%}; {demo})"
    )


if __name__ == "__main__":
    main()
