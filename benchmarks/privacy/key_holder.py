"""The key-holder's dictionary attack: one party colluding with the hub, within its quota.

    .venv/bin/python -m benchmarks.privacy.key_holder [--persons 14000] [--councils 3]

The adversary is one party of the agreement colluding with the hub (or a hub run by a
party). It holds the hub's store (every other party's encodings), the clear identities of
every record (the strongest plaintext population: it knows exactly which dates of birth,
names and numbers are there, and how many records each has), and what it may ask of the
agreement's key service: its quota, set to what its own submissions need. Under scheme v4
every party held the raw key and decoded everything offline (100%).

Under v5 every secret is a PRF output of the key service, one per value. The most a query
can give is one date-of-birth scope: with its secret the attacker computes that scope's
``salt_tok``, finds every stored record in it, and tests every name of its dictionary
against their name tokens offline (the filters would give the same). No other query
opens more: a postcode opens the full names of one postcode, a number one record. So the
attacker asks for the dates of birth that hold the most of the other parties' records,
most first, until the key service refuses; a record counts as re-identified when its
forename and surname are both decoded (its date of birth then is known too).

The data are the demo's (the same synthetic population, councils and seed): every party's
export is prepared and encoded as the demo does, through a real key service in this
process (RFC 9497 OPRF), and the attacker's queries go through the same service under its
quota, so the refusal that ends the attack is the service's own.
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
import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from boldhub.council.prepare import PREPARED_FILE, prepare
from boldhub.errors import KeyServiceError
from boldhub.keyservice.client import LocalTransport, OprfClient
from boldhub.keyservice.service import KeyService
from boldhub.privacy.encoding import Encoder, block, compact_name, salt_of
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
    encodings: pa.Table
    need: int  # values its own encoding asked of the key service
    need_by_domain: dict[str, int]


def _aes(key: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data)


def build(persons: int, councils: int, seed: int, work: Path, service: KeyService) -> list[Party]:
    """Every demo party's records, prepared and encoded through the key service."""
    summary = generate(work / "exports", persons=persons, councils=councils, seed=seed)
    by_org: dict[str, list[pa.Table]] = {}
    for source, export in summary.files.items():
        dataset, org = source.split(":", 1)
        out = work / org / dataset
        prepare(export, dataset, out, org)
        table = pq.read_table(out / PREPARED_FILE)
        cols = [c for c in IDENTIFIERS if c in table.column_names]
        by_org.setdefault(org, []).append(table.select(cols))
    parties = []
    for org, tables in sorted(by_org.items()):
        clear = pa.concat_tables(tables, promote_options="default")
        service.add_party(AGREEMENT, org, 10**9)
        counting = Counting(OprfClient(LocalTransport(service, AGREEMENT, party=org)))
        keys = [f"{i:032x}" for i in range(clear.num_rows)]
        columns = {c: clear.column(c) for c in clear.column_names}
        encodings = Encoder(counting).encode_rows(keys, columns)
        parties.append(Party(org, clear, encodings, counting.asked, dict(counting.by_domain)))
    return parties


def attack(
    attacker: Party, others: list[Party], client: OprfClient, population: list[str] | None
) -> dict[str, float]:
    """Spend the attacker's quota on dates of birth, decode the names of every record in
    each scope opened. ``population``: the dates of birth of the attacker's plaintext
    population (its people, not knowing which of them the other parties hold), asked most
    common first; None: the dates of birth that hold the most of the other parties'
    records, most first (an attacker that knows who is in their data: the upper bound)."""
    clear = pa.concat_tables([p.clear for p in others], promote_options="default")
    enc = pa.concat_tables([p.encodings for p in others])
    dobs = clear.column("dob").to_pylist()
    fns = [compact_name(v) if v else "" for v in clear.column("forename").to_pylist()]
    sns = [compact_name(v) if v else "" for v in clear.column("surname").to_pylist()]
    salts = [salt_of(d) for d in dobs]
    named = np.array(
        [bool(s) and len(f) > 1 and len(n) > 1 for s, f, n in zip(salts, fns, sns, strict=True)]
    )
    present = Counter(s for s in salts if s)
    if population is None:
        order = [s for s, _ in present.most_common()]
    else:
        # Ties broken at random (fixed seed): the population says nothing more.
        counts = Counter(population)
        rng = np.random.default_rng(7)
        distinct = sorted(counts)
        shuffled = [distinct[i] for i in rng.permutation(len(distinct))]
        order = sorted(shuffled, key=lambda x: -counts[x])
    salt_tok = enc.column("salt_tok").to_pylist()
    fn_tok = enc.column("fn_tok").to_pylist()
    sn_tok = enc.column("sn_tok").to_pylist()
    rows_of: dict[str, list[int]] = {}
    for i, t in enumerate(salt_tok):
        if t:
            rows_of.setdefault(t, []).append(i)
    forenames = sorted({f for f in fns if len(f) > 1})
    surnames = sorted({n for n in sns if len(n) > 1})
    fn_blocks = b"".join(block("forename", f) for f in forenames)
    sn_blocks = b"".join(block("surname", n) for n in surnames)
    decoded = np.zeros(len(salts), dtype=bool)
    opened = queries = 0
    batch = 500
    for start in range(0, len(order), batch):
        wanted = order[start : start + batch]
        try:
            secrets = client.evaluate("dob-salt", [s.encode() for s in wanted])
        except KeyServiceError:
            # Over quota: the service refuses a batch whole. Spend what is left, one by one.
            secrets = []
            for s in wanted:
                try:
                    secrets += client.evaluate("dob-salt", [s.encode()])
                except KeyServiceError:
                    break
        queries += len(secrets)
        for secret in secrets:
            token = _aes(secret, block("salt", "-")).hex()
            rows = rows_of.get(token, [])
            if not rows:
                continue
            opened += 1
            fn_of = dict(zip(_tokens(secret, fn_blocks), forenames, strict=True))
            sn_of = dict(zip(_tokens(secret, sn_blocks), surnames, strict=True))
            for r in rows:
                decoded[r] = (
                    fn_of.get(fn_tok[r] or "") == fns[r] and sn_of.get(sn_tok[r] or "") == sns[r]
                )
        if len(secrets) < len(wanted):
            break
    return {
        "quota": attacker.need,
        "queries_granted": queries,
        "scopes_opened": opened,
        "other_records": int(named.sum()),
        "reidentified": float((decoded & named).sum() / max(int(named.sum()), 1)),
    }


def _tokens(secret: bytes, blocks: bytes) -> list[str]:
    raw = _aes(secret, blocks)
    return [raw[i : i + 16].hex() for i in range(0, len(raw), 16)]


def run(persons: int, councils: int, seed: int) -> dict[str, object]:
    t0 = time.perf_counter()
    service = KeyService()
    service.add_key(AGREEMENT, LinkageKey(np.random.default_rng([seed, 0]).bytes(32)))
    with tempfile.TemporaryDirectory() as tmp:
        parties = build(persons, councils, seed, Path(tmp), service)
    population = build_population(persons, COUNCILS[:councils], seed)
    dobs = [salt_of(p.dob.isoformat()) for p in population.persons]
    attacker = max(parties, key=lambda p: p.need)
    others = [p for p in parties if p is not attacker]
    out: dict[str, object] = {
        "attacker": attacker.organisation,
        "parties": {
            p.organisation: {"records": p.clear.num_rows, "need": p.need, **p.need_by_domain}
            for p in parties
        },
        "population": len(population.persons),
    }
    for label, known in (("population", [d for d in dobs if d]), ("knowing", None)):
        # The attacker's own quota: what its own submissions needed, granted afresh.
        name = f"{attacker.organisation}-{label}"
        service.add_party(AGREEMENT, name, attacker.need)
        client = OprfClient(LocalTransport(service, AGREEMENT, party=name))
        result = attack(attacker, others, client, known)
        refused = [r for r in service.audit() if r.party == name and r.outcome != "granted"]
        out[label] = {**result, "refusals_audited": len(refused)}
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
    guided, knowing = result["population"], result["knowing"]
    return (
        f"key-holder: quota={guided['quota']} reidentified={guided['reidentified']:.2%} "
        f"(knowing which people the other parties hold: {knowing['reidentified']:.2%})"
    )


if __name__ == "__main__":
    main()
