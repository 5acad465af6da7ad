"""The previous encoding scheme, boldhub-fbf-v4, frozen for measurement only.

BOLD Hub no longer encodes or accepts it (docs/encoding.md): the privacy benchmarks keep it
to report the attacks against it beside the current scheme, and its unhardened variant
(``UNHARDENED``) as the baseline every attack is calibrated on. What follows is the v4
module's own description.

Encode standardised identifiers into keyed, salted Bloom filters and keyed tokens.

This module is the encoding specification of docs/encoding.md, and the only code that
turns identifiers into encodings. Everything here runs at the data provider; the output
holds no identifier in clear:

* ``*_bf``   field-level Bloom filters of padded bigrams (forename, surname): bit
  positions chosen by HMAC-SHA256 under a per-field subkey (double hashing, Schnell et al.
  2009), so that typos still compare. Hardened by **salting**: each filter is XORed with a
  keyed mask chosen by the record's date of birth (``salt="dob"``, the default), so the
  same name under two dates of birth gives unrelated filters. Two records compare by name
  only when their dates of birth agree (day and month transposition included). The
  optional hardenings measured in docs/encoding.md (year-of-birth salt, XOR-folding,
  random bit flips) are parameters too.
* ``*_bf_pop`` the number of set bits of the filter *before* masking, so that the hub can
  compute the Dice similarity of two filters of one salt from their Hamming distance:
  ``dice = 1 - popcount(a xor b) / (pop_a + pop_b)``.
* ``*_tok``  keyed tokens (128 bits, hex; AES-256 of short values, HMAC-SHA256 of long
  ones: ``Encoder._keyed``) of exact values, domain-separated by
  field; names are salted like their filters; date-of-birth variants (day/month swapped,
  two of three parts) and postcode levels (sector, district) get their own tokens so the
  hub can tell near misses. These tokens are also the linkage engine's blocking keys.
* ``*_toks`` lists of tokens: a forename's nickname family, other names (salted).
* ``nhs_near_toks``, ``ni_near_toks``: tokens of the identifier and of it with one
  character deleted (each position in turn), so that two numbers one keying slip apart (a digit changed,
  two adjacent digits swapped, one dropped or doubled) share a token while equal tokens
  of whole numbers stay exact.
* ``fn_as_sn_tok`` the forename's token in the surname's domain (salted), so that names
  entered surname-first can be told from different names.
* ``salt_tok`` a token of the salt (which pairs' names compare), and ``name_bucket_tok``
  a 12-bit keyed hash of the full name, unsalted, for pairs whose dates of birth differ.

Tokens and filters of one field share one subkey across all parties of an agreement, so
two councils encoding the same person with the same key produce comparable encodings.
The parameters are recorded in every package manifest (``EncodingParams``) and must equal
the agreement's.

The encoder works column by column: each distinct value (or value and salt) is keyed once,
a field's values in one AES call over blocks built from Arrow's buffers, and the results
are spread to the records with NumPy, so that 200,000 records take about 1.5 s on one
core (docs/encoding.md, Speed).
"""

from __future__ import annotations

import binascii
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from boldhub import arrowbuf
from boldhub.errors import UserError

# The name and number helpers are v5's own, unchanged since v4.
from boldhub.privacy.encoding import NEAR_IDENTIFIERS, compact_name, name_family
from boldhub.privacy.keys import LinkageKey

SCHEME = "boldhub-fbf-v4"
SALTS = ("none", "yob", "dob")
CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class EncodingParams:
    """Parameters that every party of an agreement must share; recorded in manifests.

    ``salt``: ``dob`` (default) salts name encodings with the date of birth (day and month
    in either order), ``yob`` with the year of birth only, ``none`` leaves them unsalted
    (the foundation encoding, kept for measurement). ``bit_flip``: probability with which
    each filter bit is flipped at random per record (BLIP; 0 = off). ``xor_fold``: fold the
    filter in half by XORing its halves.
    """

    scheme: str = SCHEME
    qgram: int = 2
    name_bloom_bits: int = 512
    name_bloom_hashes: int = 10
    token_bits: int = 128
    salt: str = "dob"
    bit_flip: float = 0.0
    xor_fold: bool = False
    name_bucket_bits: int = 12

    def __post_init__(self) -> None:
        problems = []
        if self.scheme != SCHEME:
            problems.append(f"scheme must be {SCHEME}")
        if self.qgram not in (2, 3):
            problems.append("qgram must be 2 or 3")
        if self.name_bloom_bits not in (128, 256, 512, 1024, 2048):
            problems.append("name_bloom_bits must be 128, 256, 512, 1024 or 2048")
        if not 1 <= self.name_bloom_hashes <= 40:
            problems.append("name_bloom_hashes must be between 1 and 40")
        if self.token_bits != 128:
            problems.append("token_bits must be 128")
        if self.salt not in SALTS:
            problems.append(f"salt must be one of {', '.join(SALTS)}")
        if not 0 <= self.name_bucket_bits <= 16:
            problems.append("name_bucket_bits must be between 0 (none) and 16")
        if not 0.0 <= self.bit_flip < 0.5:
            problems.append("bit_flip must be at least 0 and below 0.5")
        if problems:
            raise UserError("encoding parameters are not valid: " + "; ".join(problems))

    @property
    def filter_bits(self) -> int:
        """The length of the filters as stored (after XOR-folding)."""
        return self.name_bloom_bits // 2 if self.xor_fold else self.name_bloom_bits

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncodingParams:
        """Parameters from a manifest or agreement; unknown or mistyped fields are refused."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise UserError(f"encoding parameters are not valid: unknown {', '.join(unknown)}")
        kinds: dict[str, tuple[type, ...]] = {
            "str": (str,),
            "int": (int,),
            "float": (int, float),
            "bool": (bool,),
        }
        for name, value in data.items():
            kind = kinds[str(known[name])]
            if isinstance(value, bool) and bool not in kind:
                raise UserError(f"encoding parameters are not valid: {name} has the wrong type")
            if not isinstance(value, kind):
                raise UserError(f"encoding parameters are not valid: {name} has the wrong type")
        return cls(**data)


UNHARDENED = EncodingParams(salt="none", name_bucket_bits=0)
"""The foundation encoding (unsalted field-level filters), kept as the measured baseline."""


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
        ("name_bucket_tok", pa.string()),
        ("dob_tok", pa.string()),
        ("dob_swap_tok", pa.string()),
        ("dob_ym_tok", pa.string()),
        ("dob_md_tok", pa.string()),
        ("dob_yd_tok", pa.string()),
        ("sex_tok", pa.string()),
        ("pc_tok", pa.string()),
        ("pc_sector_tok", pa.string()),
        ("pc_district_tok", pa.string()),
        ("nhs_tok", pa.string()),
        ("ni_tok", pa.string()),
        ("nhs_near_toks", pa.list_(pa.string())),
        ("ni_near_toks", pa.list_(pa.string())),
        ("pnc_tok", pa.string()),
        ("crn_tok", pa.string()),
        ("prison_tok", pa.string()),
    ]
)

ENCODING_COLUMNS: tuple[str, ...] = tuple(ENCODING_SCHEMA.names)


def salt_of(dob: str | None, mode: str) -> str | None:
    """The salt of a record's name encodings; None when the record has no usable one.

    ``dob``: the date with day and month in a fixed order when both could be a month, so
    that a record whose day and month were transposed at entry gets the same salt.
    """
    if mode == "none":
        return ""
    if not dob or len(dob) != 10:
        return None
    if mode == "yob":
        return dob[:4]
    y, m, d = dob[:4], dob[5:7], dob[8:10]
    if int(d) <= 12:
        m, d = min(m, d), max(m, d)
    return f"{y}-{m}-{d}"


try:  # the C function behind hmac.digest, without its Python wrapper (the hot loop)
    from _hashlib import hmac_digest as _hmac_sha256
except ImportError:  # pragma: no cover - other Python implementations
    _hmac_sha256 = hmac.digest  # type: ignore[assignment]


class Encoder:
    """Turns standardised identifier columns into the encodings table, under one key."""

    def __init__(
        self, key: LinkageKey, params: EncodingParams | None = None, *, seed: int | None = None
    ) -> None:
        self.params = params or EncodingParams()
        self._key = key
        self._subkeys: dict[str, bytes] = {}
        self._grams: dict[str, dict[int, npt.NDArray[np.int64]]] = {}
        # Bit flips are random per record: fresh randomness unless a test fixes the seed.
        self._rng = np.random.default_rng(seed if seed is not None else secrets.randbits(128))

    # -- primitives ---------------------------------------------------------------------

    def _subkey(self, purpose: str) -> bytes:
        sub = self._subkeys.get(purpose)
        if sub is None:
            sub = self._subkeys[purpose] = self._key.subkey(purpose)
        return sub

    def token(self, domain: str, value: str | None) -> str | None:
        """The keyed token of an exact ``value`` in ``domain`` (None stays None)."""
        if not value:
            return None
        return str(self._keyed(domain, pa.array([value], pa.string()))[0].decode())

    def _keyed(self, domain: str, values: pa.Array) -> npt.NDArray[np.bytes_]:
        """Keyed tokens (32 hex digits each, ``S32``) of a string array's values (a null
        or empty value gets the token of the empty string: callers mask it).

        A value of up to 15 bytes (dates, postcodes, numbers, initials: nearly all) is
        one AES-256 block, ``value || zero padding || length``, under the domain's
        ``tok-aes/`` subkey, all in one call; a longer one is HMAC-SHA256 under ``tok/``,
        truncated to 128 bits. Both are keyed and one-to-one on values."""
        blocks, lengths = _blocks(values)
        raw = _aes(self._subkey("tok-aes/" + domain), blocks.tobytes())
        out = np.frombuffer(binascii.hexlify(raw), dtype="S32").copy()
        long = np.flatnonzero(lengths > 15)
        if long.size:
            sub = self._subkey("tok/" + domain)
            texts = values.take(pa.array(long)).to_pylist()
            out[long] = [_hmac_sha256(sub, t.encode(), "sha256")[:16].hex() for t in texts]
        return out

    def _spread_tokens(
        self,
        domain: str,
        distinct: pa.Array,
        idx: npt.NDArray[np.int64],
        keep_empty: bool = False,
    ) -> pa.Array:
        """Per record, the token of ``distinct[idx]`` (null where idx is -1 or the value is
        null, or empty unless ``keep_empty``): each distinct value keyed once."""
        if len(distinct) == 0:
            return pa.nulls(len(idx), pa.string())
        text = distinct.cast(pa.string())
        kept = pc.is_valid(text) if keep_empty else pc.greater(pc.binary_length(text), 0)
        present = np.asarray(
            pc.fill_null(kept, False).to_numpy(zero_copy_only=False), dtype=np.bool_
        )
        return _token_array(self._keyed(domain, text.fill_null("")), present, idx)

    def name_token(self, domain: str, name: str, salt: str) -> str:
        """The salted token of one name (what ``*_tok`` holds); for tests and tools."""
        ids = self._name_id_array(domain, [name])
        return str(_hex_tokens(self._salted_tokens(domain, ids, _salt_blocks([salt])))[0].as_py())

    def _name_id_array(self, domain: str, names: Sequence[str]) -> npt.NDArray[np.uint8]:
        """The secret 128-bit id of each name, keyed under the field's subkey as tokens are
        (``_keyed``): one AES-256 block for a name of up to 15 bytes (nearly all), all in
        one call; HMAC-SHA256 truncated to 128 bits for a longer one."""
        values = pa.array(list(names), pa.string())
        blocks, lengths = _blocks(values)
        raw = _aes(self._subkey("name-aes/" + domain), blocks.tobytes())
        ids: npt.NDArray[np.uint8] = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 16).copy()
        long = np.flatnonzero(lengths > 15)
        if long.size:
            sub = self._subkey("name/" + domain)
            for i in long.tolist():
                ids[i] = np.frombuffer(
                    _hmac_sha256(sub, names[i].encode(), "sha256")[:16], dtype=np.uint8
                )
        return ids

    def _salted_tokens(
        self, domain: str, ids: npt.NDArray[np.uint8], salts: npt.NDArray[np.uint8]
    ) -> bytes:
        """AES-256 under the field's salt subkey of (name id XOR salt), one call for all."""
        return _aes(self._subkey("name-salt/" + domain), (ids ^ salts).tobytes())

    def base_filter(self, domain: str, value: str) -> npt.NDArray[np.uint8]:
        """The unsalted filter of ``value`` as unpacked bits (before folding and flips)."""
        packed, _ = self._base_filters(domain, [value])
        return np.unpackbits(packed[0])

    def _base_filters(
        self, domain: str, names: list[str]
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """Unsalted filters of many names at once, packed (bit ``p`` is bit ``7 - p % 8``
        of byte ``p // 8``, as np.packbits), with their weights: the q-grams of all names
        as integer codes, each distinct q-gram's positions hashed once, and one compiled
        pass setting every name's bits."""
        m, q = self.params.name_bloom_bits, self.params.qgram
        if not names:
            return np.zeros((0, m // 8), np.uint8), np.zeros(0, np.int64)
        pad = "_" * (q - 1)
        padded = pa.array([pad + name + pad for name in names], pa.string())
        grid, lengths = arrowbuf.byte_grid(padded)
        count = np.maximum(lengths - q + 1, 0)
        rows = np.repeat(np.arange(len(names)), count)
        start = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        codes = np.zeros(len(rows), dtype=np.int64)
        for i in range(q):
            codes = codes * 256 + grid[rows, start + i]
        distinct, which = np.unique(codes, return_inverse=True)
        return _set_bits(
            len(names), m // 8, rows, which.astype(np.int64), self._positions(domain, distinct)
        )

    def _positions(self, domain: str, codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The filter positions of each q-gram (as its integer code): double hashing,
        ``(h1 + i * h2) mod m`` with h1, h2 from HMAC-SHA256 of the q-gram under the
        field's ``bf/`` subkey (Schnell et al. 2009). Each q-gram is hashed once per
        encoder; the arithmetic is done on 64-bit words, which wrap at 2**64, a multiple
        of m (a power of two), so the result is that of exact integers."""
        grams = self._grams.setdefault(domain, {})
        q, k = self.params.qgram, self.params.name_bloom_hashes
        new = [c for c in codes.tolist() if c not in grams]
        if new:
            sub = self._subkey("bf/" + domain)
            # Names are compact (letters A-Z, see compact_name): one byte per character.
            digests = b"".join(_hmac_sha256(sub, c.to_bytes(q, "big"), "sha256")[:16] for c in new)
            h = np.frombuffer(digests, dtype=">u8").reshape(-1, 2).astype(np.uint64)
            h1, h2 = h[:, 0], h[:, 1] | np.uint64(1)
            steps = np.arange(k, dtype=np.uint64)
            m = np.uint64(self.params.name_bloom_bits)
            found = ((h1[:, None] + steps[None, :] * h2[:, None]) % m).astype(np.int64)
            grams.update(zip(new, found, strict=True))
        return np.array([grams[c] for c in codes.tolist()], dtype=np.int64).reshape(-1, k)

    def bloom(self, domain: str, value: str | None) -> bytes | None:
        """The unsalted, unflipped (folded) filter of ``value`` as bytes (tests, tools)."""
        if not value:
            return None
        packed, _ = self._base_filters(domain, [value])
        return bytes(self._fold(packed)[0])

    def _fold(self, packed: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """XOR-fold packed filters in half (halves are whole bytes: filters are >= 128 bits)."""
        if not self.params.xor_fold:
            return packed
        half = packed.shape[1] // 2
        return packed[:, :half] ^ packed[:, half:]

    def _masks(self, domain: str, salt_list: list[str]) -> npt.NDArray[np.uint8]:
        """The keyed mask of each salt (AES-256-CTR keystream, the salt as nonce)."""
        nbytes = self.params.filter_bits // 8
        if self.params.salt == "none":
            return np.zeros((max(len(salt_list), 1), nbytes), dtype=np.uint8)
        blocks = -(-nbytes // 16)
        nonces = np.repeat(_salt_blocks(salt_list)[:, :12], blocks, axis=0)
        counters = np.tile(
            np.arange(blocks, dtype=">u4").view(np.uint8).reshape(blocks, 4), (len(salt_list), 1)
        )
        stream = _aes(self._subkey("bf-salt/" + domain), np.hstack([nonces, counters]).tobytes())
        masks = np.frombuffer(stream, dtype=np.uint8).reshape(len(salt_list), blocks * 16)
        return masks[:, :nbytes]

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
                return (
                    values.slice(start, size) if values is not None else pa.nulls(size, pa.string())
                )

            tables.append(self._encode_chunk(keys.slice(start, size), col))
            if progress is not None:
                progress(size)
        if not tables:
            return ENCODING_SCHEMA.empty_table()
        return pa.concat_tables(tables)

    def _encode_chunk(self, record_keys: pa.Array, col: Callable[[str], pa.Array]) -> pa.Table:
        out: dict[str, pa.Array] = {"record_key": record_keys}
        salts, salt_list = self._salts(col("dob"))
        ids: list[npt.NDArray[np.uint8]] = []
        for field, prefix in (("forename", "fn"), ("surname", "sn")):
            out.update(self._name_field(field, prefix, col(field), salts, salt_list, ids))
        out["on_toks"] = self._other_names(col("other_names"), salts, salt_list)
        out["salt_tok"] = self._salt_tokens(salts, salt_list)
        out["name_bucket_tok"] = self._name_buckets(ids[0], ids[1])
        out.update(self._dob_tokens(col("dob")))
        sex = pc.if_else(pc.is_in(col("sex"), pa.array(["M", "F"])), col("sex"), None)
        out["sex_tok"] = self._column_tokens("sex", sex)
        out.update(self._postcode_tokens(col("postcode")))
        for field, name in (
            ("nhs_number", "nhs"),
            ("ni_number", "ni"),
            ("pnc_id", "pnc"),
            ("crn", "crn"),
            ("prison_number", "prison"),
        ):
            out[f"{name}_tok"] = self._column_tokens(name, col(field))
            if name in NEAR_IDENTIFIERS:
                out[f"{name}_near_toks"] = self._near_tokens(name, col(field))
        return pa.table(out, schema=ENCODING_SCHEMA)

    # -- columns ------------------------------------------------------------------------

    def _column_tokens(self, domain: str, values: pa.Array) -> pa.Array:
        """Tokens of a column, keying each distinct value once."""
        encoded = _dictionary(values)
        return self._spread_tokens(domain, encoded.dictionary, arrowbuf.indices(encoded))

    def _near_tokens(self, domain: str, values: pa.Array) -> pa.Array:
        """Per record, the tokens of its identifier and of it with one character deleted
        (the deletion neighbourhood: two strings one substitution, adjacent
        transposition, insertion or deletion apart share at least one).

        Each distinct value's variants are built as 16-byte rows with numpy and keyed in
        one AES-256 call under the field's near subkey (a keyed permutation, as for name
        ids), so that a number's eleven tokens cost about what one HMAC would."""
        encoded = _dictionary(values)
        text = pc.fill_null(encoded.dictionary.cast(pa.string()), "")
        if pc.all(pc.string_is_ascii(text)).as_py() is False:
            # Numbers are ASCII once standardised; anything else hashes with "?" for each
            # other character, as one byte per character.
            text = pa.array([t.encode("ascii", "replace").decode() for t in text.to_pylist()])
        chars = np.asarray(pc.utf8_length(text).to_numpy(zero_copy_only=False), np.int64)
        usable = (chars > 4) & (chars <= 15)
        raw, _ = arrowbuf.byte_grid(text, 16)
        raw[~usable] = 0
        lengths = np.where(usable, chars, 0)
        rows, owner = [raw[lengths > 0]], [np.flatnonzero(lengths > 0)]
        for i in range(int(lengths.max(initial=0))):
            # Deleting position i: shift the rest left. Positions past the end are padding
            # (deleting one would repeat the value), and deleting the second of two equal
            # neighbours gives what deleting the first gave: each variant comes once.
            keep = lengths > i
            if i:
                keep &= raw[:, i] != raw[:, i - 1]
            take = np.flatnonzero(keep)
            cut = np.concatenate(
                [raw[take, :i], raw[take, i + 1 :], np.zeros((len(take), 1), np.uint8)], axis=1
            )
            rows.append(cut)
            owner.append(take)
        variants = np.concatenate(rows)
        who = np.concatenate(owner)
        order = np.argsort(who, kind="stable")
        variants, who = variants[order], who[order]
        toks = _hex_tokens(_aes(self._subkey("near/" + domain), variants.tobytes()))
        counts = np.bincount(who, minlength=len(text))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets), toks)
        # A value without near tokens (absent, too short) is null, not an empty list.
        valid = pa.array(counts > 0)
        lists = pc.if_else(valid, lists, pa.nulls(len(lists), lists.type))
        return lists.take(encoded.indices)

    def _salt_tokens(self, salts: npt.NDArray[np.int64], salt_list: list[str]) -> pa.Array:
        """A token of each record's salt: which pairs' names the hub may compare. It says no
        more than the date-of-birth tokens do (same date, or day and month swapped)."""
        # keep_empty: unsalted encodings have one salt, "", and all their names compare.
        return self._spread_tokens("salt", pa.array(salt_list, pa.string()), salts, True)

    def _name_buckets(
        self, forename: npt.NDArray[np.uint8], surname: npt.NDArray[np.uint8]
    ) -> pa.Array:
        """A short keyed hash of the full name (``name_bucket_bits`` bits, hex), not salted:
        so that a pair whose dates of birth differ (and whose salted names cannot compare)
        can still show the same full name. With 12 bits, equal names always share a
        bucket, different names one time in 4,096, and each bucket pools many full names.
        Computed from the names' secret ids, smaller id first, so that a name entered
        surname-first falls in the same bucket: AES(k, id_small XOR AES(k', id_large))."""
        bits = self.params.name_bucket_bits
        n = len(forename)
        valid: npt.NDArray[np.bool_] = np.asarray(forename.any(axis=1) & surname.any(axis=1))
        if bits == 0 or not valid.any():
            return pa.nulls(n, pa.string())
        a, b = forename[valid], surname[valid]
        first = _rows_less(b, a)
        small = np.where(first[:, None], b, a)
        large = np.where(first[:, None], a, b)
        mixed = np.frombuffer(
            _aes(self._subkey("name-bucket/large"), large.tobytes()), dtype=np.uint8
        ).reshape(-1, 16)
        raw = _aes(self._subkey("name-bucket"), (small ^ mixed).tobytes())
        top = np.frombuffer(raw, dtype=">u4").reshape(-1, 4)[:, 0] >> np.uint32(32 - bits)
        width = (bits + 3) // 4
        # The bucket in lower-case hex, zero-padded to ``width`` digits: the last digits
        # of the four that a big-endian 16-bit number gives.
        four = np.frombuffer(binascii.hexlify(top.astype(">u2").tobytes()), dtype="S4")
        text = four.view(np.uint8).reshape(-1, 4)[:, 4 - width :].copy().view(f"S{width}").ravel()
        return _spread(arrowbuf.fixed_width(text, len(top), width), valid)

    def _salts(self, dob: pa.Array) -> tuple[npt.NDArray[np.int64], list[str]]:
        """Each record's salt as an index into the list of distinct salts (-1: none);
        salt_of for every distinct date at once."""
        if self.params.salt == "none":
            return np.zeros(len(dob), dtype=np.int64), [""]
        encoded = _dictionary(dob)
        parts = _date_parts(encoded.dictionary)
        if self.params.salt == "yob":
            salt = parts.y
        else:
            # Day and month in a fixed order when both could be a month (salt_of).
            both = parts.day <= 12
            lo = np.where(both & (parts.d < parts.m), parts.d, parts.m)
            hi = np.where(both & (parts.d < parts.m), parts.m, parts.d)
            salt = np.char.add(np.char.add(np.char.add(parts.y, b"-"), np.char.add(lo, b"-")), hi)
        salt = np.where(parts.ok, salt, b"")
        distinct, per_date = np.unique(salt, return_inverse=True)
        where = per_date.astype(np.int64)
        if len(distinct) and distinct[0] == b"":
            where -= 1  # "" (no usable date) sorts first: it becomes -1
            distinct = distinct[1:]
        else:
            where = np.where(parts.ok, where, -1)
        lookup = np.append(where, -1)
        return lookup[arrowbuf.indices(encoded)], [x.decode() for x in distinct]

    def _name_field(
        self,
        field: str,
        prefix: str,
        values: pa.Array,
        salts: npt.NDArray[np.int64],
        salt_list: list[str],
        ids_out: list[npt.NDArray[np.uint8]] | None = None,
    ) -> dict[str, pa.Array]:
        encoded = _dictionary(values)
        compact = [compact_name(v) if v else "" for v in encoded.dictionary.to_pylist()]
        idx = arrowbuf.indices(encoded)
        out: dict[str, pa.Array] = {}
        initials = pa.array([c[:1] or None for c in compact], pa.string())
        out[f"{prefix}_init_tok"] = self._spread_tokens(f"{field}-initial", initials, idx)
        # A single letter is an initial (NDTMS): it gets an initial token only, because a
        # one-letter "name" token or filter would claim a similarity that is not there.
        full = np.array([len(c) > 1 for c in compact] + [False], dtype=np.bool_)
        idx = np.where(full[idx], idx, -1)
        out[f"{prefix}_bf"], out[f"{prefix}_bf_pop"] = self._filters(
            field, compact, idx, salts, salt_list
        )
        valid = (idx >= 0) & (salts >= 0)
        blocks = _salt_blocks(salt_list)
        ids = self._name_id_array(field, compact)
        if ids_out is not None:
            # Each record's name id in one domain for both fields (zeros: no full name),
            # so that the full-name bucket does not depend on which field held which name.
            shared = self._name_id_array("full-name", compact)
            per_record = np.zeros((len(idx), 16), dtype=np.uint8)
            per_record[idx >= 0] = shared[idx[idx >= 0]]
            ids_out.append(per_record)
        toks = _hex_tokens(self._salted_tokens(field, ids[idx[valid]], blocks[salts[valid]]))
        out[f"{prefix}_tok"] = _spread(toks, valid)
        if field == "forename":
            # The forename as a surname token: a record whose names were entered the wrong
            # way round meets the other's surname token (``fn_as_sn_tok = sn_tok``).
            cross = self._name_id_array("surname", compact)
            out["fn_as_sn_tok"] = _spread(
                _hex_tokens(
                    self._salted_tokens("surname", cross[idx[valid]], blocks[salts[valid]])
                ),
                valid,
            )
            families = [list(name_family(c)) if len(c) > 1 else [] for c in compact]
            out["fn_alias_toks"] = self._salted_lists(field, families, idx, salts, blocks)
        return out

    def _other_names(
        self, values: pa.Array, salts: npt.NDArray[np.int64], salt_list: list[str]
    ) -> pa.Array:
        # Middle names and earlier surnames, in the surname's domain so that an earlier
        # surname can meet the current surname of another record.
        encoded = _dictionary(values)
        parts = [
            [
                c
                for c in (compact_name(p) for p in (v or "").replace("-", " ").split())
                if len(c) > 1
            ]
            for v in encoded.dictionary.to_pylist()
        ]
        return self._salted_lists(
            "surname", parts, arrowbuf.indices(encoded), salts, _salt_blocks(salt_list)
        )

    def _salted_lists(
        self,
        domain: str,
        lists: list[list[str]],
        idx: npt.NDArray[np.int64],
        salts: npt.NDArray[np.int64],
        blocks: npt.NDArray[np.uint8],
    ) -> pa.Array:
        """A list of salted tokens per record: the names in ``lists[idx]``."""
        sizes = np.array([len(x) for x in lists] + [0], dtype=np.int64)
        per_record = np.where(salts >= 0, sizes[idx], 0)
        valid = per_record > 0
        flat_names = [name for x in lists for name in x]
        starts = np.concatenate([[0], np.cumsum(sizes[:-1])])
        rows = np.flatnonzero(valid)
        counts = per_record[rows]
        # For every record with names, the positions of its names in flat_names.
        first = np.repeat(starts[idx[rows]], counts)
        step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        ids = self._name_id_array(domain, flat_names)
        salted = self._salted_tokens(
            domain, ids[first + step], blocks[np.repeat(salts[rows], counts)]
        )
        values = _hex_tokens(salted)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        inner = pa.ListArray.from_arrays(pa.array(offsets), values)
        return _spread(inner, valid)

    def _filters(
        self,
        domain: str,
        names: list[str],
        idx: npt.NDArray[np.int64],
        salts: npt.NDArray[np.int64],
        salt_list: list[str],
    ) -> tuple[pa.Array, pa.Array]:
        """Salted (and, by parameter, folded and flipped) filters with their weights."""
        valid = (idx >= 0) & (salts >= 0)
        used, vi = np.unique(idx[valid], return_inverse=True)
        if len(used) == 0:
            n = len(idx)
            return pa.nulls(n, pa.binary()), pa.nulls(n, pa.int16())
        base, weights = self._base_filters(domain, [names[i] for i in used])
        if self.params.xor_fold:
            base = self._fold(base)
            weights = np.bitwise_count(base).sum(axis=1, dtype=np.int64)
        if self.params.bit_flip > 0:
            bits = np.unpackbits(base[vi], axis=1)
            bits ^= (self._rng.random(bits.shape) < self.params.bit_flip).astype(np.uint8)
            weights = bits.sum(axis=1, dtype=np.int64)
            packed = np.packbits(bits, axis=1)
        else:
            packed = base[vi]
            weights = weights[vi]
        packed ^= self._masks(domain, salt_list)[salts[valid]]
        bf = arrowbuf.fixed_width(packed, len(packed), packed.shape[1], pa.binary())
        return _spread(bf, valid), _spread(pa.array(weights.astype(np.int16)), valid)

    def _dob_tokens(self, dob: pa.Array) -> dict[str, pa.Array]:
        # dob is ISO YYYY-MM-DD after standardisation; forms of every distinct date at once.
        encoded = _dictionary(dob)
        idx = arrowbuf.indices(encoded)
        p = _date_parts(encoded.dictionary)
        dash = np.full(len(p.y), b"-", dtype="S1")

        def join(*pieces: npt.NDArray[np.bytes_]) -> npt.NDArray[np.bytes_]:
            out = pieces[0]
            for piece in pieces[1:]:
                out = np.char.add(out, piece)
            return out

        # The swapped form is hashed in the *same* domain as dob, so that a record
        # whose day and month were transposed at entry meets the true date at the hub.
        swap = p.ok & (p.day <= 12) & (p.d != p.m)
        forms = {
            "dob_tok": ("dob", p.text, p.ok),
            "dob_swap_tok": ("dob", join(p.y, dash, p.d, dash, p.m), swap),
            "dob_ym_tok": ("dob-ym", join(p.y, dash, p.m), p.ok),
            "dob_md_tok": ("dob-md", join(p.m, dash, p.d), p.ok),
            "dob_yd_tok": ("dob-yd", join(p.y, dash, p.d), p.ok),
        }
        out = {}
        for col, (domain, text, ok) in forms.items():
            values = pa.array(np.where(ok, text, b"").astype(object), pa.binary()).cast(pa.string())
            out[col] = self._spread_tokens(domain, values, idx)
        return out

    def _postcode_tokens(self, postcode: pa.Array) -> dict[str, pa.Array]:
        # pc is normalised "OUT IN" after standardisation.
        encoded = _dictionary(postcode)
        idx = arrowbuf.indices(encoded)
        values = encoded.dictionary.to_pylist()
        parts = [p.split(" ", 1) if p and " " in p else None for p in values]
        forms = {
            "pc_tok": (
                "postcode",
                [p if part else None for p, part in zip(values, parts, strict=True)],
            ),
            "pc_sector_tok": (
                "postcode-sector",
                [f"{part[0]} {part[1][:1]}" if part else None for part in parts],
            ),
            "pc_district_tok": ("postcode-district", [part[0] if part else None for part in parts]),
        }
        return {
            col: self._spread_tokens(domain, pa.array(texts, pa.string()), idx)
            for col, (domain, texts) in forms.items()
        }


@dataclass(frozen=True)
class _Dates:
    """Distinct dates of birth split into parts (``S4``, ``S2``, ``S2`` byte strings)."""

    text: npt.NDArray[np.bytes_]
    y: npt.NDArray[np.bytes_]
    m: npt.NDArray[np.bytes_]
    d: npt.NDArray[np.bytes_]
    day: npt.NDArray[np.int64]  # the day as a number (99 where it is not two digits)
    ok: npt.NDArray[np.bool_]  # a date of ten characters (YYYY-MM-DD)


def _date_parts(dates: pa.Array) -> _Dates:
    grid, lengths = arrowbuf.byte_grid(pc.fill_null(dates.cast(pa.string()), ""))
    ok = np.asarray(lengths == 10, dtype=np.bool_)
    if grid.shape[1] < 10:
        grid = np.zeros((len(grid), 10), np.uint8)
    grid = np.where(ok[:, None], grid[:, :10], np.frombuffer(b"0000-00-00", np.uint8))
    grid = np.ascontiguousarray(grid, dtype=np.uint8)
    digits = grid[:, 8:10].astype(np.int64) - 48
    numeric = ((digits >= 0) & (digits <= 9)).all(axis=1)
    day = np.where(numeric, digits[:, 0] * 10 + digits[:, 1], 99)

    def part(a: int, b: int) -> npt.NDArray[np.bytes_]:
        return np.ascontiguousarray(grid[:, a:b]).view(f"S{b - a}").ravel()

    return _Dates(part(0, 10), part(0, 4), part(5, 7), part(8, 10), day, ok)


@numba.njit(cache=True, nogil=True)
def _set_bits(
    n: int,
    nbytes: int,
    rows: npt.NDArray[np.int64],
    grams: npt.NDArray[np.int64],
    table: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:  # pragma: no cover - compiled
    """Packed filters of ``n`` names: for each (row, q-gram) the q-gram's positions in
    ``table`` set in the row; and each filter's weight (set bits)."""
    packed = np.zeros((n, nbytes), dtype=np.uint8)
    for e in range(len(rows)):
        r = rows[e]
        g = grams[e]
        for h in range(table.shape[1]):
            p = table[g, h]
            packed[r, p >> 3] |= np.uint8(128 >> (p & 7))
    weights = np.zeros(n, dtype=np.int64)
    for r in range(n):
        total = 0
        for b in range(nbytes):
            v = packed[r, b]
            while v:
                v &= v - np.uint8(1)
                total += 1
        weights[r] = total
    return packed, weights


def _blocks(values: pa.Array) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Each value of a string array as a 16-byte block, ``UTF-8 || zero padding ||
    length``, and the values' byte lengths (a value over 15 bytes gets a zero block: the
    caller keys it otherwise)."""
    grid, lengths = arrowbuf.byte_grid(values, 15)
    out = np.zeros((len(grid), 16), np.uint8)
    out[:, :15] = grid
    out[:, 15] = np.where(lengths <= 15, lengths, 0)
    return out, lengths


def _token_array(
    tokens: npt.NDArray[np.bytes_], present: npt.NDArray[np.bool_], idx: npt.NDArray[np.int64]
) -> pa.Array:
    """An Arrow string array of ``tokens[idx]`` (fixed-width byte strings), null where
    ``idx`` is -1 or the token is not ``present``: a NumPy gather, then Arrow buffers."""
    n = len(idx)
    if len(tokens) == 0:
        return pa.nulls(n, pa.string())
    width = tokens.dtype.itemsize
    valid = idx >= 0
    safe = np.where(valid, idx, 0)
    valid &= present[safe]
    return arrowbuf.fixed_width(tokens[safe], n, width, valid=valid)


def _rows_less(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Row by row, whether 16-byte row ``a`` sorts before ``b`` (as big-endian numbers)."""
    ah, al = a.view(">u8")[:, 0], a.view(">u8")[:, 1]
    bh, bl = b.view(">u8")[:, 0], b.view(">u8")[:, 1]
    return np.asarray((ah < bh) | ((ah == bh) & (al < bl)))


def _dictionary(values: pa.Array) -> pa.DictionaryArray:
    return pc.dictionary_encode(values)


def _salt_blocks(salt_list: Sequence[str]) -> npt.NDArray[np.uint8]:
    """Salts as 16-byte blocks (ASCII, zero-padded; salts are at most 12 characters)."""
    if not salt_list:
        return np.zeros((1, 16), dtype=np.uint8)
    return arrowbuf.byte_grid(pa.array(list(salt_list), pa.string()), 16)[0]


def _aes(key: bytes, data: bytes) -> bytes:
    """AES-256 of whole 16-byte blocks (ECB over distinct blocks: a keyed permutation)."""
    if not data:
        return b""
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def _hex_tokens(raw: bytes) -> pa.Array:
    """128-bit values as 32-character hex strings, without a Python loop."""
    return arrowbuf.fixed_width(binascii.hexlify(raw), len(raw) // 16, 32)


def _spread(values: pa.Array, valid: npt.NDArray[np.bool_]) -> pa.Array:
    """Place ``values`` at the records where ``valid`` is true, nulls elsewhere."""
    where = np.cumsum(valid) - 1
    return _take(values, pa.array(np.where(valid, where, 0), mask=~valid))


def _take(values: pa.Array, indices: pa.Array) -> pa.Array:
    """``values.take(indices)``; for fixed-width strings (hex tokens) a NumPy gather.

    Spreading each distinct value's token back to every record is most of the encoder's
    time after hashing; tokens all have one width, so the gather is a fixed-size copy and
    the result is built from buffers without per-value work.
    """
    n = len(values)
    if pa.types.is_string(values.type) and n and values.null_count == 0:
        offsets = arrowbuf.offsets(values)
        width = int(offsets[1] - offsets[0])
        if width > 0 and bool((np.diff(offsets) == width).all()):
            dense = np.frombuffer(
                values.buffers()[2], dtype=f"S{width}", count=n, offset=int(offsets[0])
            )
            idx = np.asarray(indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
            return _token_array(dense, np.ones(n, dtype=np.bool_), idx)
    return values.take(indices)


def dice(a: bytes, b: bytes, pop_a: int, pop_b: int) -> float:
    """Dice similarity of two filters of one salt, as the hub computes it."""
    x = int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
    return 1.0 - x.bit_count() / (pop_a + pop_b) if pop_a + pop_b else 0.0
