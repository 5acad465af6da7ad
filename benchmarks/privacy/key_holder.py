"""The key-holder's dictionary attack: one party colluding with the hub, within its quota.

    .venv/bin/python -m benchmarks.privacy.key_holder [--persons 14000] [--councils 3]

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

The data are the demo's (the same synthetic population, councils and seed): every party's
export is prepared and encoded as the demo does, through a real key service in this
process (RFC 9497 OPRF), and the attacker's queries go through the same service under its
caps, so the refusals that end the attack are the service's own.
"""

from __future__ import annotations

import argparse
import json
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
        fns = [compact_name(v) if v else "" for v in clear.column("forename").to_pylist()]
        sns = [compact_name(v) if v else "" for v in clear.column("surname").to_pylist()]
        dobs = [salt_of(d) for d in clear.column("dob").to_pylist()]
        pcs = [
            _pc_scope(p, f, n)
            for p, f, n in zip(clear.column("postcode").to_pylist(), fns, sns, strict=True)
        ]
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
            [x for p in others for x in p.persons],
            named,
            salt_rows,
            pc_rows,
            enc.column("fn_tok").to_pylist(),
            enc.column("sn_tok").to_pylist(),
            enc.column("pc_name_tok").to_pylist(),
        )


class Decoder:
    """Opens scopes with secrets and decodes the names in them against the dictionary."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.decoded = np.zeros(len(store.fns), dtype=bool)
        self.forenames = sorted({f for f in store.fns if len(f) > 1})
        self.surnames = sorted({n for n in store.sns if len(n) > 1})
        self.fn_blocks = b"".join(block("forename", f) for f in self.forenames)
        self.sn_blocks = b"".join(block("surname", n) for n in self.surnames)
        by_initials: dict[str, list[str]] = {}
        for f, n in zip(store.fns, store.sns, strict=True):
            full = _full(f, n)
            if full:
                by_initials.setdefault("".join(sorted((f[0], n[0]))), []).append(full)
        self.full_by_initials = {k: sorted(set(v)) for k, v in by_initials.items()}
        self.opened = {"dob-salt": 0, "postcode": 0}

    def open_dob(self, secret: bytes) -> None:
        s = self.store
        rows = s.salt_rows.get(_aes(secret, block("salt", "-")).hex(), [])
        if not rows:
            return
        self.opened["dob-salt"] += 1
        fn_of = dict(zip(_tokens(secret, self.fn_blocks), self.forenames, strict=True))
        sn_of = dict(zip(_tokens(secret, self.sn_blocks), self.surnames, strict=True))
        for r in rows:
            if (
                fn_of.get(s.fn_tok[r] or "") == s.fns[r]
                and sn_of.get(s.sn_tok[r] or "") == s.sns[r]
            ):
                self.decoded[r] = True

    def open_postcode(self, scope: str, secret: bytes) -> None:
        s = self.store
        rows = s.pc_rows.get(_aes(secret, block("postcode", "-")).hex(), [])
        if not rows:
            return
        self.opened["postcode"] += 1
        names = self.full_by_initials.get(scope.rsplit("|", 1)[1], [])
        name_of = dict(
            zip(_tokens(secret, b"".join(block("full-name", n) for n in names)), names, strict=True)
        )
        for r in rows:
            if name_of.get(s.pc_name_tok[r] or "") == _full(s.fns[r], s.sns[r]):
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
    for scope, secret in _spend(client, "postcode", pcs):
        decoder.open_postcode(scope, secret)
    return {**decoder.score(set(attacker.persons)), "scopes_opened": decoder.opened}


def _tokens(secret: bytes, blocks: bytes) -> list[str]:
    raw = _aes(secret, blocks)
    return [raw[i : i + 16].hex() for i in range(0, len(raw), 16)]


NAME_DOMAINS = ("dob-salt", "postcode")


def run(persons: int, councils: int, seed: int) -> dict[str, object]:
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
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=14_000)
    parser.add_argument("--councils", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("out/privacy-key-holder.json"))
    args = parser.parse_args()
    result = run(args.persons, args.councils, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(key_holder_line(result))


def key_holder_line(result: dict[str, Any]) -> str:
    guided, own, knowing = result["population"], result["own"], result["knowing"]
    return (
        f"key-holder: quota={guided['quota']} reidentified={guided['reidentified']:.2%} "
        f"(caps per domain, spent on guesses; of people it does not hold: "
        f"{guided['reidentified_not_its_people']:.2%}; submitting honestly: "
        f"{own['reidentified']:.2%}, of which its own people are "
        f"{own['share_of_its_people']:.2%}; knowing who is where: "
        f"{knowing['reidentified']:.2%})"
    )


if __name__ == "__main__":
    main()
