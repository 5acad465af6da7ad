"""Turn a prepared folder into a signed submission package, on the data provider's machine.

The package is encoded with the agreement's linkage key and encoding parameters, names
the agreement, and is signed with the organisation's Ed25519 signing key. Before anything
is encoded the council's own side is checked against the agreement file: the key's
fingerprint, that the organisation is a party, and that the signing key is the one it
registered, so that a package the hub would refuse is never made.

The attributes file holds the dataset's attributes, ``age_band`` (from prepare) and
``sex``, the standardised sex code as a coarse category (Female, Male or Not known) for
aggregate breakdowns; the sex code itself, like every identifier, goes only as a keyed
token in the encodings.

Each record gets a fresh random ``record_key`` (not its case number). The map from the
provider's own row ids to record keys stays here, in ``keymap.csv`` beside the prepared
data (one row per record and package): it never goes into the package.
"""

from __future__ import annotations

import csv
import itertools
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from boldhub import clock
from boldhub.agreements import enforce
from boldhub.council.prepare import PREPARED_FILE, read_meta
from boldhub.council.validate import prepared_columns
from boldhub.errors import UserError
from boldhub.keyservice.client import local_key_function
from boldhub.privacy.agreement import AgreementSpec
from boldhub.privacy.encoding import Encoder
from boldhub.privacy.keys import LinkageKey
from boldhub.privacy.package import MANIFEST_FILE, sha256_file, write_package
from boldhub.privacy.prf import KeyedFunction
from boldhub.privacy.signing import public_key_text
from boldhub.safecsv import write_csv
from boldhub.schemas import Dataset, get_dataset
from boldhub.schemas.datasets import sex_category
from boldhub.schemas.identifiers import IDENTIFIER_NAMES

KEYMAP_FILE = "keymap.csv"


@dataclass(frozen=True)
class EncodeResult:
    package: Path
    keymap: Path
    records: int
    source: str
    # Values asked of the key service, by domain: what this submission needs of the
    # party's caps there (``boldhub keyservice cap``).
    evaluations: dict[str, int]
    # Rows left out under the agreement's consent rule (neither linked nor counted), and
    # the clause that left them out; 0 and "" when the dataset has no such rule.
    withheld: int = 0
    withheld_by: str = ""


def encode(
    prepared_dir: Path,
    key_service: KeyedFunction | LinkageKey,
    out: Path,
    progress: Callable[[int], None] | None = None,
    *,
    agreement: AgreementSpec | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    seed: int | None = None,
) -> EncodeResult:
    """Encode ``prepared_dir`` into a signed package at ``out``; the keymap stays local.

    ``agreement`` and ``signing_key`` are required: the hub refuses packages that name no
    agreement or carry no valid signature (they are keyword arguments only so that an old
    call fails with this message rather than a TypeError).

    ``key_service`` is the agreement's key service (``boldhub.keyservice``): every secret of
    the encoding is obtained from it value by value, within the organisation's quota. A
    ``LinkageKey`` runs the key service in this process from the key (``--key``: the demo,
    the tests, and a party that runs the agreement's key service itself).

    ``seed``, for the demo and tests only: record keys are drawn from it, so that the same prepared data, key and time (``BOLDHUB_NOW``) give the same
    package byte for byte. Left None, as every real use leaves it, they come from
    ``secrets``: a record key must not be guessable from anything.
    """
    if agreement is None or signing_key is None:
        raise UserError(
            "encoding needs the agreement file and your organisation's signing key "
            "(--agreement, --signing-key): the hub accepts only signed packages"
        )
    prf = (
        local_key_function(key_service, agreement.id)
        if isinstance(key_service, LinkageKey)
        else key_service
    )
    meta = read_meta(prepared_dir)
    dataset = get_dataset(str(meta["dataset"]))
    check_against_agreement(agreement, prf, signing_key, str(meta["organisation"]), dataset.name)
    table = _prepared_rows(prepared_dir, out, dataset)
    table, withheld, clause = _consented(agreement, dataset.name, table)
    n = table.num_rows
    record_keys = new_record_keys(n, seed)
    identifiers = {c: table.column(c) for c in IDENTIFIER_NAMES}
    encoder = Encoder(prf, agreement.encoding)
    encodings = encoder.encode_rows(record_keys, identifiers, progress)
    # Attributes the party's supply does not list go empty: their values stay here.
    withheld_attrs = _withheld_attributes(agreement, str(meta["organisation"]), dataset.name)
    attr_cols = {
        c: pa.nulls(n, table.column(c).type) if c in withheld_attrs else table.column(c)
        for c in (*dataset.attribute_names, "age_band")
    }
    attributes = pa.table({"record_key": record_keys, **attr_cols, "sex": sex_attribute(table)})
    assert attributes.column_names == ["record_key", *dataset.package_attribute_names]
    tmp = Path(
        tempfile.mkdtemp(prefix=".boldhub-encode-", dir=out.parent if out.parent.exists() else None)
    )
    try:
        write_package(
            tmp / "package",
            encodings=encodings,
            attributes=attributes,
            dataset=dataset.name,
            organisation=str(meta["organisation"]),
            period=str(meta["period"]),
            params=agreement.encoding,
            key_fingerprint=prf.fingerprint,
            agreement_id=agreement.id,
            signing_key=signing_key,
            created_at=clock.now().isoformat(),
        )
        keymap = prepared_dir / KEYMAP_FILE
        keymap_tmp = tmp / KEYMAP_FILE
        package_id = sha256_file(tmp / "package" / MANIFEST_FILE)[:16]
        row_ids = table.column("source_row_id").to_pylist()
        write_keymap(keymap, keymap_tmp, zip(row_ids, record_keys, strict=True), package_id)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()
        shutil.move(tmp / "package", out)
        shutil.move(keymap_tmp, keymap)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert (out / MANIFEST_FILE).is_file()
    return EncodeResult(
        out,
        keymap,
        n,
        f"{dataset.name}:{meta['organisation']}",
        encoder.evaluations(),
        withheld,
        clause,
    )


def _withheld_attributes(
    agreement: AgreementSpec, organisation: str, dataset: str
) -> frozenset[str]:
    terms = agreement.terms
    party = terms.party(organisation)
    return frozenset() if party is None else enforce.withheld_attributes(terms, party, dataset)


def _consented(
    agreement: AgreementSpec, dataset: str, table: pa.Table
) -> tuple[pa.Table, int, str]:
    """The rows the agreement's consent rule lets leave the council, how many it holds
    back and the clause that does (the hub refuses a package holding any of them)."""
    terms = agreement.terms
    rule = enforce.consent_rule(terms, dataset)
    if rule is None:
        return table, 0, ""
    clause, column, required = rule
    keep = pc.fill_null(pc.equal(table.column(column), required), False)
    kept = table.filter(keep)
    if kept.num_rows == 0:
        raise UserError(
            f"none of the {table.num_rows} rows has consent ({column} = {required}); under "
            f"agreement {terms.id} version {terms.version}, clause {clause}, records without "
            "consent are neither linked nor counted, so there is nothing to encode"
        )
    return kept, table.num_rows - kept.num_rows, f"agreement {terms.id} {clause}"


def _prepared_rows(prepared_dir: Path, out: Path, dataset: Dataset) -> pa.Table:
    """The prepared rows, once ``out`` is known to be a new folder outside the prepared one."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {out} already exists and is not empty; choose a new folder")
    if out.resolve() == prepared_dir.resolve() or prepared_dir.resolve() in out.resolve().parents:
        raise UserError(
            "--out must not be inside the prepared folder: that folder stays at the council"
        )
    path = prepared_dir / PREPARED_FILE
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError):
        table = None
    missing = set(prepared_columns(dataset)) - set(table.column_names if table is not None else ())
    if table is None or missing:
        raise UserError(
            f"{path} is damaged (not the table `boldhub prepare` wrote); run `boldhub "
            "prepare` again"
        )
    if table.num_rows == 0:
        raise UserError(
            f"{prepared_dir} has no accepted rows to encode; fix quarantine.csv and prepare again"
        )
    return table


def write_keymap(
    keymap: Path, target: Path, keys: Iterable[tuple[str, str]], package_id: str
) -> None:
    """The keymap at ``keymap`` with this package's (row id, record key) pairs added, into
    ``target``. It accumulates across encodings, so that an earlier package's record keys
    can still be traced back to rows after the data is encoded again."""
    previous: list[list[str]] = []
    if keymap.is_file():
        with keymap.open(encoding="utf-8", newline="") as fh:
            previous = list(csv.reader(fh))[1:]
    new_rows = ([rid, rk, package_id] for rid, rk in keys)
    write_csv(
        target, ["source_row_id", "record_key", "package_id"], itertools.chain(previous, new_rows)
    )


def new_record_keys(n: int, seed: int | None = None) -> list[str]:
    """``n`` record keys of 32 hex digits: from ``secrets``, or from ``seed`` (see encode)."""
    if seed is None:
        return [secrets.token_hex(16) for _ in range(n)]
    # A stream of its own ([seed, 1]), apart from the one the Encoder's bit flips draw
    # from the same seed.
    raw = np.random.default_rng([seed, 1]).bytes(16 * n)
    return [raw[i : i + 16].hex() for i in range(0, 16 * n, 16)]


def sex_attribute(prepared: pa.Table) -> pa.Array:
    """The coarse ``sex`` attribute (Female, Male or Not known) of every prepared record,
    from its standardised sex code: one category per distinct code (``sex_category``)."""
    codes = prepared.column("sex").cast(pa.string()).combine_chunks()
    distinct = pc.unique(codes)
    categories = pa.array([sex_category(c) for c in distinct.to_pylist()], pa.string())
    result: pa.Array = pc.take(categories, pc.index_in(codes, value_set=distinct))
    return result


def check_against_agreement(
    agreement: AgreementSpec,
    prf: KeyedFunction,
    signing_key: Ed25519PrivateKey,
    organisation: str,
    dataset: str,
) -> None:
    """Refuse, before encoding, what the hub would refuse after upload (the same rule:
    ``AgreementSpec.admit``)."""
    enforce.require_in_force(agreement.terms, clock.today())
    agreement.admit(
        organisation,
        dataset,
        key_fingerprint=prf.fingerprint,
        signing_key=public_key_text(signing_key.public_key()),
    )


def signing_organisations(
    agreement: AgreementSpec, signing_key: Ed25519PrivateKey
) -> tuple[str, ...]:
    """The organisations that registered this signing key in the agreement: the only ones
    whose packages it can sign (the council page offers just these)."""
    text = public_key_text(signing_key.public_key())
    return tuple(p.organisation for p in agreement.parties if p.signing_key == text)
