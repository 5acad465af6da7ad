"""Encode standardised identifiers into scoped Bloom filters and keyed tokens (scheme v6).

This module is the encoding specification of docs/encoding.md, and the only code that
turns identifiers into encodings. Everything here runs at the data provider; the output
holds no identifier in clear, and the provider holds no key that could encode one: every
secret comes from the key service, value by value (``privacy.prf.KeyedFunction``).

The scheme answers the whole-record attack of benchmarks/privacy (docs/encoding.md): an
attacker at the hub must not be able to group records by any value of low cardinality,
because such groups align with a plaintext population by frequency. So every encoding is
**scoped**: keyed under a secret that belongs to one value of a high-cardinality field,
and comparable only between records that share that value.

* A record's **scope secrets** are PRF outputs of the key service: ``S_dob`` of its date of
  birth (day and month in a fixed order when both could be a month, so that a transposed
  date shares it), ``S_pc`` of its postcode with its two initials (so that a busy postcode, a hostel's
  or a prison's, is many scopes), and one of each of its numbers (NHS, NI, PNC,
  CRN, prison number).
* **Global tokens**, visible across the whole store, come only from those secrets, one per
  record each: ``salt_tok`` and ``dob_tok`` (date of birth), ``pc_tok`` (postcode and initials),
  ``nhs_tok`` and the other numbers. Their values are of high cardinality and near-flat
  frequency: a date of birth is one of about 36,500, a postcode one of 1.7 million
  (times the initials).
* **Scoped under the date of birth** (AES-256 under ``S_dob``): the name filters (their
  q-gram positions and their masks too), the exact-name tokens with their nickname
  families and other names, initials, sex, the postcode with its sector and district,
  and the near tokens of NHS and NI numbers. Records with different dates of birth see unrelated
  values; there is no name, initial or sex token that two people of different birthdays
  share, so none has a frequency.
* **Scoped under the postcode** (AES-256 under ``S_pc``): the full name (either order)
  and two of year, month and day of birth, so that two records of one
  postcode still compare when a date of birth is wrong or missing.
* **Scoped under an NHS or NI number** (v6; AES-256 under the number's own secret): the
  forename and surname (one label, so names entered the wrong way round meet), the
  postcode and the date's parts, so that two records of one number compare them when
  their dates of birth differ. A number's scope holds one person's records, which the
  number already joins: nothing becomes comparable across people.
* Name filters have a **fixed weight**: each q-gram sets ``weight / q-grams`` positions, so
  every name sets about the same number of bits whatever its length, and the weight
  columns hold that constant (the hub computes Dice from the Hamming distance with it).

Tokens are 128 bits, written as 32 hex digits.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from nicknames import NickNamer

from boldhub import arrowbuf
from boldhub.errors import UserError
from boldhub.privacy.prf import OUTPUT_BYTES, KeyedFunction

SCHEME = "boldhub-fbf-v6"
# Why each earlier scheme is refused (docs/encoding.md).
PREVIOUS_SCHEMES = {
    **{
        f"boldhub-fbf-v{n}": "whole records could be decoded from it, docs/encoding.md"
        for n in (1, 2, 3, 4)
    },
    "boldhub-fbf-v5": (
        "it lacks the names, postcode and date parts keyed under each NHS and NI number, "
        "which link records of one number whose dates of birth differ"
    ),
}
# The numbers under whose scope names, postcode and date parts are keyed too (v6).
NUMBER_SCOPES = ("nhs", "ni")
CHUNK_ROWS = 100_000

Ints = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class EncodingParams:
    """Parameters that every party of an agreement must share; recorded in manifests.

    ``name_filter_weight``: the bits each name's filter sets (each q-gram sets
    ``weight / q-grams`` positions, at least one), so that the weight says nothing of the
    name's length.
    """

    scheme: str = SCHEME
    qgram: int = 2
    name_bloom_bits: int = 512
    name_filter_weight: int = 100
    token_bits: int = 128

    def __post_init__(self) -> None:
        problems = []
        if self.scheme in PREVIOUS_SCHEMES:
            problems.append(
                f"scheme {self.scheme} is no longer accepted "
                f"({PREVIOUS_SCHEMES[self.scheme]}): encode again with this version, which "
                f"writes {SCHEME}"
            )
        elif self.scheme != SCHEME:
            problems.append(f"scheme must be {SCHEME}")
        if self.qgram not in (2, 3):
            problems.append("qgram must be 2 or 3")
        if self.name_bloom_bits not in (256, 512, 1024, 2048):
            problems.append("name_bloom_bits must be 256, 512, 1024 or 2048")
        if not 16 <= self.name_filter_weight <= self.name_bloom_bits // 2:
            problems.append("name_filter_weight must be between 16 and half of name_bloom_bits")
        if self.token_bits != 128:
            problems.append("token_bits must be 128")
        if problems:
            raise UserError("encoding parameters are not valid: " + "; ".join(problems))

    @property
    def filter_bits(self) -> int:
        return self.name_bloom_bits

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncodingParams:
        """Parameters from a manifest or agreement; unknown or mistyped fields are refused."""
        scheme = data.get("scheme")
        if isinstance(scheme, str) and scheme in PREVIOUS_SCHEMES:
            cls(scheme=scheme)  # refused with the message that says what to do
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise UserError(f"encoding parameters are not valid: unknown {', '.join(unknown)}")
        kinds: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,)}
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, kinds[str(known[name])]):
                raise UserError(f"encoding parameters are not valid: {name} has the wrong type")
        return cls(**data)


ENCODING_SCHEMA = pa.schema(
    [
        ("record_key", pa.string()),
        ("fn_bf", pa.binary()),
        ("sn_bf", pa.binary()),
        ("fn_bf_pop", pa.int16()),
        ("sn_bf_pop", pa.int16()),
        ("fn_tok", pa.string()),
        ("sn_tok", pa.string()),
        ("fn_init_tok", pa.string()),
        ("sn_init_tok", pa.string()),
        ("fn_as_sn_tok", pa.string()),
        ("fn_alias_toks", pa.list_(pa.string())),
        ("on_toks", pa.list_(pa.string())),
        ("salt_tok", pa.string()),
        ("dob_tok", pa.string()),
        ("sex_tok", pa.string()),
        ("pc_tok", pa.string()),
        ("pc_unit_tok", pa.string()),
        ("pc_sector_tok", pa.string()),
        ("pc_district_tok", pa.string()),
        ("pc_name_tok", pa.string()),
        ("pc_dob_ym_tok", pa.string()),
        ("pc_dob_md_tok", pa.string()),
        ("pc_dob_yd_tok", pa.string()),
        ("nhs_tok", pa.string()),
        ("ni_tok", pa.string()),
        ("nhs_near_toks", pa.list_(pa.string())),
        ("ni_near_toks", pa.list_(pa.string())),
        ("pnc_tok", pa.string()),
        ("crn_tok", pa.string()),
        ("prison_tok", pa.string()),
        *(
            (f"{n}_{c}", pa.list_(pa.string()) if c == "dob_toks" else pa.string())
            for n in NUMBER_SCOPES
            for c in ("fn_tok", "sn_tok", "pc_tok", "dob_toks")
        ),
    ]
)

ENCODING_COLUMNS: tuple[str, ...] = tuple(ENCODING_SCHEMA.names)

# Columns visible across the whole store (one value per record, of high cardinality);
# every other column is scoped (see the module's docstring).
GLOBAL_COLUMNS = (
    "salt_tok",
    "dob_tok",
    "pc_tok",
    "nhs_tok",
    "ni_tok",
    "pnc_tok",
    "crn_tok",
    "prison_tok",
)

# The first byte of every block keyed under a scope secret: one label per use, so that no
# two uses of one secret can produce equal blocks.
_LABELS = {
    name: i + 1
    for i, name in enumerate(
        (
            "salt",
            "dob",
            "forename",
            "surname",
            "forename-initial",
            "surname-initial",
            "sex",
            "postcode-sector",
            "postcode-district",
            "nhs-near",
            "ni-near",
            "mask-forename",
            "mask-surname",
            "bf-forename",
            "bf-surname",
            "postcode",
            "full-name",
            "initials",
            "dob-ym",
            "dob-md",
            "dob-yd",
            "identifier",
            "name",
            "dob-parts",
        )
    )
}


_NICKNAMER: NickNamer | None = None


def _nicknamer() -> NickNamer:
    global _NICKNAMER  # the tables take ~0.2 s to load: load once, on first use
    if _NICKNAMER is None:
        _NICKNAMER = NickNamer()
    return _NICKNAMER


_NOT_LETTER = re.compile(r"[^A-Z]+")


def compact_name(name: str) -> str:
    """The form that is hashed: letters only (O'NEILL -> ONEILL, SMITH-JONES -> SMITHJONES)."""
    return _NOT_LETTER.sub("", name.upper())


@lru_cache(maxsize=65536)
def name_family(name: str) -> tuple[str, ...]:
    """The name and the formal names it can be a nickname of (BOB -> ROBERT, ...), sorted."""
    lower = name.lower()
    canon = {c.upper() for c in _nicknamer().canonicals_of(lower)}
    return tuple(sorted({name, *canon}))


NEAR_IDENTIFIERS = frozenset({"nhs", "ni"})
"""Identifiers that also get near tokens (``*_near_toks``): keyed by hand and long
enough that one slip leaves the rest of the number as evidence."""


def deletions(value: str) -> set[str]:
    """``value`` itself and with each one character deleted (a 10-digit number gives up to
    11): two values share one when they are one substitution, adjacent transposition,
    insertion or deletion apart."""
    if len(value) <= 4:
        return set()
    return {value, *(value[:i] + value[i + 1 :] for i in range(len(value)))}


def salt_of(dob: str | None) -> str | None:
    """The date-of-birth scope of a record (None without a usable date): the date with day
    and month in a fixed order when both could be a month, so that a record whose day and
    month were transposed at entry gets the same scope."""
    if not dob or len(dob) != 10:
        return None
    y, m, d = dob[:4], dob[5:7], dob[8:10]
    if not (m.isdigit() and d.isdigit()):
        return None
    if int(d) <= 12:
        m, d = min(m, d), max(m, d)
    return f"{y}-{m}-{d}"


def block(label: str, value: str) -> bytes:
    """The 16-byte block keyed for ``value`` under ``label``: label byte, the UTF-8 value
    zero-padded to 14 bytes, its length; a longer value is replaced by 14 bytes of its
    SHA-256 and the length byte is 255."""
    raw = value.encode()
    if len(raw) > 14:
        return bytes([_LABELS[label]]) + hashlib.sha256(raw).digest()[:14] + b"\xff"
    return bytes([_LABELS[label]]) + raw.ljust(14, b"\0") + bytes([len(raw)])


def _blocks(label: str, values: Sequence[str]) -> Bytes:
    """``block(label, v)`` for many values, as an (n, 16) matrix."""
    grid, lengths = arrowbuf.byte_grid(pa.array(list(values), pa.string()), 14)
    out = np.zeros((len(values), 16), np.uint8)
    out[:, 0] = _LABELS[label]
    out[:, 1:15] = grid
    out[:, 15] = np.where(lengths <= 14, lengths, 255)
    for i in np.flatnonzero(lengths > 14).tolist():
        out[i] = np.frombuffer(block(label, values[i]), np.uint8)
    return out


class _Keyed:
    """Blocks to key under scope secrets, collected so that each secret's AES context is
    made once per chunk whatever the number of uses (``run``)."""

    def __init__(self) -> None:
        self._scopes: list[Ints] = []
        self._blocks: list[Bytes] = []
        self._size = 0

    def add(self, scopes: Ints, blocks: Bytes) -> slice:
        self._scopes.append(scopes)
        self._blocks.append(blocks)
        start = self._size
        self._size += len(scopes)
        return slice(start, self._size)

    def run(self, secrets: Bytes) -> Bytes:
        """AES-256 of every block under its scope's secret (ECB over one block: a keyed
        permutation of the labelled value), in the order the blocks were added."""
        if not self._size:
            return np.zeros((0, 16), np.uint8)
        scopes = np.concatenate(self._scopes)
        data = np.concatenate(self._blocks)
        order = np.argsort(scopes, kind="stable")
        sorted_scopes = scopes[order]
        data = np.ascontiguousarray(data[order])
        cuts = np.flatnonzero(np.diff(sorted_scopes)) + 1
        starts = np.concatenate([[0], cuts]).tolist()
        ends = np.concatenate([cuts, [len(order)]]).tolist()
        pieces = []
        for a, b in zip(starts, ends, strict=True):
            key = secrets[sorted_scopes[a]].tobytes()
            enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
            pieces.append(enc.update(data[a:b].tobytes()))
        out = np.empty_like(data)
        out[order] = np.frombuffer(b"".join(pieces), np.uint8).reshape(-1, 16)
        return out


@dataclass
class _Scope:
    """One kind of scope over a chunk's records: each record's index into ``values``
    (-1: none), the distinct values, and their secrets (filled by ``Encoder._secrets``)."""

    domain: str
    index: Ints
    values: list[str]
    secrets: Bytes | None = None

    @property
    def present(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.index >= 0)


def _scope(domain: str, values: pa.Array, transform: Callable[[str], str | None]) -> _Scope:
    encoded = pc.dictionary_encode(values)
    keys = [transform(v) if v else None for v in encoded.dictionary.to_pylist()]
    distinct = sorted({k for k in keys if k})
    position = {k: i for i, k in enumerate(distinct)}
    lookup = np.array([position[k] if k else -1 for k in keys] + [-1], dtype=np.int64)
    return _Scope(domain, lookup[arrowbuf.indices(encoded)], distinct)


class Encoder:
    """Turns standardised identifier columns into the encodings table, with secrets from
    the key service (``prf``)."""

    def __init__(self, prf: KeyedFunction, params: EncodingParams | None = None) -> None:
        self.params = params or EncodingParams()
        self._prf = prf
        # Secrets already obtained, so that a value repeated across chunks costs one
        # evaluation of the party's quota.
        self._cache: dict[tuple[str, str], bytes] = {}

    @property
    def fingerprint(self) -> str:
        return self._prf.fingerprint

    def evaluations(self) -> dict[str, int]:
        """The distinct values asked of the key service so far, by domain."""
        counts: dict[str, int] = {}
        for domain, _ in self._cache:
            counts[domain] = counts.get(domain, 0) + 1
        return dict(sorted(counts.items()))

    def _secrets(self, scope: _Scope) -> None:
        missing = [v for v in scope.values if (scope.domain, v) not in self._cache]
        if missing:
            outputs = self._prf.evaluate(scope.domain, [v.encode() for v in missing])
            if len(outputs) != len(missing) or any(len(o) != OUTPUT_BYTES for o in outputs):
                raise ValueError("the key service returned outputs of the wrong shape")
            self._cache.update(
                ((scope.domain, v), o) for v, o in zip(missing, outputs, strict=True)
            )
        joined = b"".join(self._cache[(scope.domain, v)] for v in scope.values)
        scope.secrets = np.frombuffer(joined, np.uint8).reshape(-1, OUTPUT_BYTES)

    # -- records ------------------------------------------------------------------------

    def encode_rows(
        self,
        record_keys: Sequence[str],
        columns: dict[str, Any],
        progress: Callable[[int], None] | None = None,
    ) -> pa.Table:
        """Encode standardised identifier columns (lists or Arrow arrays, see
        council.standardise) into a table with ``ENCODING_SCHEMA``."""
        n = len(record_keys)
        cols = {name: arrowbuf.as_array(values) for name, values in columns.items()}
        keys = arrowbuf.as_array(record_keys)
        tables = []
        for start in range(0, n, CHUNK_ROWS):
            size = min(CHUNK_ROWS, n - start)

            def col(name: str, start: int = start, size: int = size) -> pa.Array:
                values = cols.get(name)
                if values is None:
                    return pa.nulls(size, pa.string())
                return values.slice(start, size).cast(pa.string())

            tables.append(_Chunk(self, keys.slice(start, size), col).encode())
            if progress is not None:
                progress(size)
        if not tables:
            return ENCODING_SCHEMA.empty_table()
        return pa.concat_tables(tables)


class _Chunk:
    """One chunk's encoding: scopes, then every keyed block in one pass, then columns."""

    def __init__(self, encoder: Encoder, keys: pa.Array, col: Callable[[str], pa.Array]):
        self.enc = encoder
        self.params = encoder.params
        self.keys = keys
        self.n = len(keys)
        self.col = col
        self.dob = _scope("dob-salt", col("dob"), salt_of)
        self.pc = _scope("postcode", _postcode_scopes(col), lambda v: v)
        self.ids = {
            name: _scope(name, col(field), lambda v: v)
            for field, name in (
                ("nhs_number", "nhs"),
                ("ni_number", "ni"),
                ("pnc_id", "pnc"),
                ("crn", "crn"),
                ("prison_number", "prison"),
            )
        }
        # One index space for every scope of the chunk, so that one pass keys them all.
        self.scopes = [self.dob, self.pc, *self.ids.values()]
        self.offsets = np.cumsum([0] + [len(s.values) for s in self.scopes])
        self.keyed = _Keyed()
        self.tokens: dict[str, tuple[slice, npt.NDArray[np.bool_]]] = {}
        self.lists: dict[str, tuple[slice, Ints]] = {}

    def where(self, scope: _Scope, rows: Ints) -> Ints:
        """Global scope indices of ``rows`` in ``scope``."""
        out: Ints = scope.index[rows] + int(self.offsets[self.scopes.index(scope)])
        return out

    def token(self, column: str, scope: _Scope, label: str, values: Sequence[str | None]) -> None:
        """One token per record: ``values[r]`` keyed under ``label`` in ``scope`` (null
        where the record has no scope or no value)."""
        ok = scope.present & np.array([v is not None and v != "" for v in values], np.bool_)
        rows = np.flatnonzero(ok)
        blocks = _blocks(label, [values[r] or "" for r in rows.tolist()])
        self.tokens[column] = (self.keyed.add(self.where(scope, rows), blocks), ok)

    def token_list(
        self, column: str, scope: _Scope, label: str, values: Sequence[Sequence[str]]
    ) -> None:
        """A list of tokens per record (empty lists and records without scope: null)."""
        counts = np.array([len(v) for v in values], np.int64)
        counts = np.where(scope.present, counts, 0)
        rows = np.repeat(np.arange(self.n), counts)
        flat = [x for r, v in enumerate(values) if counts[r] for x in v]
        self.lists[column] = (self.keyed.add(self.where(scope, rows), _blocks(label, flat)), counts)

    def encode(self) -> pa.Table:
        for scope in self.scopes:
            self.enc._secrets(scope)
        secrets = np.concatenate([s.secrets for s in self.scopes if s.secrets is not None])
        secrets = secrets.reshape(-1, OUTPUT_BYTES)
        filters = [self._names(field, prefix) for field, prefix in _NAME_FIELDS]
        self._dates_and_places()
        keyed = self.keyed.run(secrets) if len(secrets) else np.zeros((0, 16), np.uint8)
        out: dict[str, pa.Array] = {"record_key": self.keys}
        for f in filters:
            out.update(f.finish(keyed))
        for column, (where, ok) in self.tokens.items():
            out[column] = _hex_column(keyed[where], ok)
        for column, (where, counts) in self.lists.items():
            out[column] = _hex_lists(keyed[where], counts)
        return pa.table({c: out[c] for c in ENCODING_COLUMNS}, schema=ENCODING_SCHEMA)

    # -- fields -------------------------------------------------------------------------

    def _names(self, field: str, prefix: str) -> _Filters:
        values = self.col(field).to_pylist()
        compact = [compact_name(v) if v else "" for v in values]
        initials = [c[:1] or None for c in compact]
        # A single letter is an initial (NDTMS): it gets an initial token only, because a
        # one-letter "name" token or filter would claim a similarity that is not there.
        full = [c if len(c) > 1 else None for c in compact]
        self.token(f"{prefix}_init_tok", self.dob, f"{field}-initial", initials)
        self.token(f"{prefix}_tok", self.dob, field, full)
        if field == "forename":
            # The forename as a surname token: a record whose names were entered the wrong
            # way round meets the other's surname token (``fn_as_sn_tok = sn_tok``).
            self.token("fn_as_sn_tok", self.dob, "surname", full)
            families = [list(name_family(c)) if c else [] for c in full]
            self.token_list("fn_alias_toks", self.dob, "forename", families)
            self._fn = full
        else:
            others = [
                [
                    c
                    for c in (compact_name(p) for p in (v or "").replace("-", " ").split())
                    if len(c) > 1
                ]
                for v in self.col("other_names").to_pylist()
            ]
            # Middle names and earlier surnames, in the surname's domain so that an
            # earlier surname can meet the current surname of another record.
            self.token_list("on_toks", self.dob, "surname", others)
            self._sn = full
            self._postcode_names(full)
        return _Filters(self, field, prefix, full)

    def _postcode_names(self, sn: list[str | None]) -> None:
        # Scoped by the postcode and initials: the full name in either order, so that
        # records of one postcode compare by name when their dates of birth differ.
        fn = self._fn
        names = ["|".join(sorted((a, b))) if a and b else None for a, b in zip(fn, sn, strict=True)]
        self.token("pc_name_tok", self.pc, "full-name", names)

    def _dates_and_places(self) -> None:
        dob = self.col("dob").to_pylist()
        ok = [bool(d) and len(d) == 10 for d in dob]
        dates = [d if good else None for d, good in zip(dob, ok, strict=True)]
        self.token("salt_tok", self.dob, "salt", ["-"] * self.n)
        self.token("dob_tok", self.dob, "dob", dates)
        for column, label, (a, b, c, d) in (
            ("pc_dob_ym_tok", "dob-ym", (0, 7, 0, 0)),
            ("pc_dob_md_tok", "dob-md", (5, 10, 0, 0)),
            ("pc_dob_yd_tok", "dob-yd", (0, 4, 7, 10)),
        ):
            parts = [x[a:b] + x[c:d] if x else None for x in dates]
            self.token(column, self.pc, label, parts)
        sex = [s if s in ("M", "F") else None for s in self.col("sex").to_pylist()]
        self.token("sex_tok", self.dob, "sex", sex)
        postcodes = [_full_postcode(p) if p else None for p in self.col("postcode").to_pylist()]
        self.token("pc_tok", self.pc, "postcode", ["-"] * self.n)
        self.token("pc_unit_tok", self.dob, "postcode", postcodes)
        sectors = [f"{p.split(' ')[0]} {p.split(' ')[1][:1]}" if p else None for p in postcodes]
        districts = [p.split(" ")[0] if p else None for p in postcodes]
        self.token("pc_sector_tok", self.dob, "postcode-sector", sectors)
        self.token("pc_district_tok", self.dob, "postcode-district", districts)
        for name, scope in self.ids.items():
            self.token(
                f"{name}_tok", scope, "identifier", ["-" if i >= 0 else None for i in scope.index]
            )
            if name in NEAR_IDENTIFIERS:
                values = [v if v else "" for v in self.col(_ID_FIELDS[name]).to_pylist()]
                near = [sorted(deletions(v)) if len(v) <= 15 else [] for v in values]
                self.token_list(f"{name}_near_toks", self.dob, f"{name}-near", near)
        self._under_numbers(dates, postcodes)

    def _under_numbers(self, dates: list[str | None], postcodes: list[str | None]) -> None:
        """Names, postcode and date parts keyed under each NHS and NI number, so that two
        records of one number compare them when their dates of birth differ or one is
        missing. Both names share one label: names entered the wrong way round meet."""
        parts = [[f"ym:{d[:7]}", f"md:{d[5:]}", f"yd:{d[:4]}{d[7:]}"] if d else [] for d in dates]
        for n in NUMBER_SCOPES:
            scope = self.ids[n]
            self.token(f"{n}_fn_tok", scope, "name", self._fn)
            self.token(f"{n}_sn_tok", scope, "name", self._sn)
            self.token(f"{n}_pc_tok", scope, "postcode", postcodes)
            self.token_list(f"{n}_dob_toks", scope, "dob-parts", parts)


_NAME_FIELDS = (("forename", "fn"), ("surname", "sn"))
_ID_FIELDS = {"nhs": "nhs_number", "ni": "ni_number"}


def _postcode_scopes(col: Callable[[str], pa.Array]) -> pa.Array:
    """Each record's postcode scope: its full postcode with its two initials, in either
    order (``B15 2TT|RS``; ``B15 2TT|S`` with a surname only); none without a full postcode
    or without any name. The
    initials make a busy postcode (a hostel's, a prison's) many scopes, so that no global
    token's frequency says which place it is."""
    out = []
    for pc_, fn, sn in zip(
        col("postcode").to_pylist(),
        col("forename").to_pylist(),
        col("surname").to_pylist(),
        strict=True,
    ):
        full = _full_postcode(pc_) if pc_ else None
        a, b = compact_name(fn or "")[:1], compact_name(sn or "")[:1]
        # A record with one name keeps the one initial it has.
        out.append(f"{full}|{''.join(sorted((a, b)))}" if full and (a or b) else None)
    return pa.array(out, pa.string())


def _full_postcode(value: str) -> str | None:
    """A standardised postcode (``OUT IN``); anything else (a partial one) has no scope."""
    return value if " " in value and len(value.split(" ", 1)[1]) >= 1 else None


class _Filters:
    """A name field's filters: the q-gram positions keyed per (date-of-birth scope,
    q-gram), the masks per scope, both in the chunk's one keyed pass."""

    def __init__(self, chunk: _Chunk, field: str, prefix: str, names: list[str | None]):
        p = chunk.params
        self.chunk, self.prefix, self.params = chunk, prefix, p
        rows = np.flatnonzero(chunk.dob.present & np.array([bool(x) for x in names], np.bool_))
        self.rows = rows
        q = p.qgram
        pad = "_" * (q - 1)
        padded = pa.array([pad + (names[r] or "") + pad for r in rows.tolist()], pa.string())
        grid, lengths = (
            arrowbuf.byte_grid(padded)
            if len(rows)
            else (np.zeros((0, q), np.uint8), np.zeros(0, np.int64))
        )
        count = np.maximum(lengths - q + 1, 0)
        self.entry_row = np.repeat(np.arange(len(rows)), count)
        start = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        codes = np.zeros(len(self.entry_row), dtype=np.int64)
        for i in range(q):
            codes = codes * 256 + grid[self.entry_row, start + i]
        scope = chunk.where(chunk.dob, rows)
        pair = scope[self.entry_row] * (1 << 24) + codes
        distinct, self.which = np.unique(pair, return_inverse=True)
        gram_blocks = np.zeros((len(distinct), 16), np.uint8)
        gram_blocks[:, 0] = _LABELS[f"bf-{field}"]
        for i in range(q):
            gram_blocks[:, 1 + i] = (distinct >> (8 * (q - 1 - i))) & 0xFF
        self.gram_slice = chunk.keyed.add(distinct >> 24, gram_blocks)
        # Each distinct q-gram of a name counts once, as in a set.
        self.k = np.maximum(np.rint(p.name_filter_weight / np.maximum(count, 1)), 1).astype(
            np.int64
        )
        used = np.unique(scope)
        mask_blocks = -(-p.name_bloom_bits // 128)
        blocks = np.zeros((len(used) * mask_blocks, 16), np.uint8)
        blocks[:, 0] = _LABELS[f"mask-{field}"]
        blocks[:, 15] = np.tile(np.arange(mask_blocks, dtype=np.uint8), len(used))
        self.mask_scopes = used
        self.mask_slice = chunk.keyed.add(np.repeat(used, mask_blocks), blocks)

    def finish(self, keyed: Bytes) -> dict[str, pa.Array]:
        n, p = self.chunk.n, self.params
        nbytes = p.name_bloom_bits // 8
        col, pop = f"{self.prefix}_bf", f"{self.prefix}_bf_pop"
        if not len(self.rows):
            return {col: pa.nulls(n, pa.binary()), pop: pa.nulls(n, pa.int16())}
        h = keyed[self.gram_slice].view(">u8").astype(np.uint64)
        h1, h2 = h[:, 0], h[:, 1] | np.uint64(1)
        packed = _set_bits(
            len(self.rows),
            nbytes,
            self.entry_row,
            h1[self.which],
            h2[self.which],
            self.k,
            p.name_bloom_bits,
        )
        masks = keyed[self.mask_slice].reshape(len(self.mask_scopes), -1)[:, :nbytes]
        scope = self.chunk.where(self.chunk.dob, self.rows)
        packed ^= masks[np.searchsorted(self.mask_scopes, scope)]
        valid = np.zeros(n, np.bool_)
        valid[self.rows] = True
        full = np.zeros((n, nbytes), np.uint8)
        full[self.rows] = packed
        weights = np.full(n, p.name_filter_weight, np.int16)
        return {
            col: arrowbuf.fixed_width(full, n, nbytes, pa.binary(), valid=valid),
            pop: pa.array(weights, mask=~valid),
        }


@numba.njit(cache=True, nogil=True)
def _set_bits(
    n: int,
    nbytes: int,
    rows: Ints,
    h1: npt.NDArray[np.uint64],
    h2: npt.NDArray[np.uint64],
    k: Ints,
    m: int,
) -> Bytes:  # pragma: no cover - compiled
    """Packed filters of ``n`` names: for each q-gram entry of row ``r``, ``k[r]``
    positions ``(h1 + i * h2) mod m`` (double hashing; m a power of two, so that wrapping
    64-bit arithmetic gives the exact result)."""
    packed = np.zeros((n, nbytes), dtype=np.uint8)
    mm = np.uint64(m)
    for e in range(len(rows)):
        r = rows[e]
        a = h1[e]
        b = h2[e]
        for i in range(k[r]):
            pos = (a + np.uint64(i) * b) % mm
            packed[r, pos >> np.uint64(3)] |= np.uint8(128 >> (pos & np.uint64(7)))
    return packed


def _hex_column(raw: Bytes, ok: npt.NDArray[np.bool_]) -> pa.Array:
    """Tokens of the records where ``ok`` (in order) as 32-hex strings, null elsewhere."""
    n = len(ok)
    hexed = np.frombuffer(binascii.hexlify(raw.tobytes()), dtype="S32")
    full = np.zeros(n, dtype="S32")
    full[ok] = hexed
    return arrowbuf.fixed_width(full, n, 32, valid=ok)


def _hex_lists(raw: Bytes, counts: Ints) -> pa.Array:
    """Per record, its ``counts[r]`` tokens as a list (null where it has none)."""
    values = arrowbuf.fixed_width(binascii.hexlify(raw.tobytes()), len(raw), 32)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    valid = counts > 0
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(~valid))


def dice(a: bytes, b: bytes, pop_a: int, pop_b: int) -> float:
    """Dice similarity of two filters of one scope, as the hub computes it."""
    x = int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
    return 1.0 - x.bit_count() / (pop_a + pop_b) if pop_a + pop_b else 0.0
