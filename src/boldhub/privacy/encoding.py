"""Encode standardised identifiers into keyed Bloom filters and keyed tokens.

Everything here runs at the data provider. The output holds no identifier in clear:

* ``*_bf``   field-level Bloom filters of padded bigrams, bit positions chosen by
  HMAC-SHA256 under a per-field subkey (double hashing, Schnell et al. 2009). Similar
  names give similar filters, so typos still link (Dice similarity at the hub).
* ``*_tok``  keyed HMAC-SHA256 tokens (128 bits, hex) of exact values, domain-separated
  by field; date-of-birth variants (day/month swapped, two of three parts) and postcode
  levels (sector, district) get their own tokens so the hub can tell near misses.
* ``*_toks`` lists of tokens: a forename's nickname family, other names.

Tokens and filters of one field share one subkey across all parties of an agreement, so
two councils encoding the same person with the same key produce comparable encodings.
The exact parameters are recorded in every package manifest (``EncodingParams``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa
from nicknames import NickNamer

from boldhub.privacy.keys import LinkageKey

SCHEME = "boldhub-fbf-v1"


@dataclass(frozen=True)
class EncodingParams:
    """Parameters that every party of an agreement must share; recorded in manifests."""

    scheme: str = SCHEME
    qgram: int = 2
    name_bloom_bits: int = 512
    name_bloom_hashes: int = 10
    token_bits: int = 128

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ENCODING_SCHEMA = pa.schema(
    [
        ("record_key", pa.string()),
        ("fn_bf", pa.binary()),
        ("sn_bf", pa.binary()),
        ("fn_tok", pa.string()),
        ("sn_tok", pa.string()),
        ("fn_init_tok", pa.string()),
        ("sn_init_tok", pa.string()),
        ("fn_alias_toks", pa.list_(pa.string())),
        ("on_toks", pa.list_(pa.string())),
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
        ("pnc_tok", pa.string()),
        ("crn_tok", pa.string()),
        ("prison_tok", pa.string()),
    ]
)

ENCODING_COLUMNS: tuple[str, ...] = tuple(ENCODING_SCHEMA.names)

_NICKNAMER: NickNamer | None = None


def _nicknamer() -> NickNamer:
    global _NICKNAMER  # the tables take ~0.2 s to load: load once, on first use
    if _NICKNAMER is None:
        _NICKNAMER = NickNamer()
    return _NICKNAMER


def compact_name(name: str) -> str:
    """The form that is hashed: letters only (O'NEILL -> ONEILL, SMITH-JONES -> SMITHJONES)."""
    return "".join(ch for ch in name.upper() if "A" <= ch <= "Z")


@lru_cache(maxsize=65536)
def name_family(name: str) -> tuple[str, ...]:
    """The name and the formal names it can be a nickname of (BOB -> ROBERT, ...), sorted."""
    lower = name.lower()
    canon = {c.upper() for c in _nicknamer().canonicals_of(lower)}
    return tuple(sorted({name, *canon}))


class Encoder:
    """Turns standardised identifier rows into the encodings table, under one key."""

    def __init__(self, key: LinkageKey, params: EncodingParams | None = None) -> None:
        self.params = params or EncodingParams()
        self._token_bytes = self.params.token_bits // 8
        self._keys: dict[str, bytes] = {}
        self._key = key
        self._caches: dict[str, dict[str, Any]] = {}

    # -- primitives ---------------------------------------------------------------------

    def _subkey(self, purpose: str) -> bytes:
        sub = self._keys.get(purpose)
        if sub is None:
            sub = self._keys[purpose] = self._key.subkey(purpose)
        return sub

    def token(self, domain: str, value: str | None) -> str | None:
        """A keyed HMAC-SHA256 token of ``value`` in ``domain`` (None stays None)."""
        if not value:
            return None
        cache = self._caches.setdefault("tok:" + domain, {})
        tok = cache.get(value)
        if tok is None:
            digest = hmac.new(self._subkey("tok/" + domain), value.encode(), hashlib.sha256)
            tok = cache[value] = digest.hexdigest()[: 2 * self._token_bytes]
        return tok

    def bloom(self, domain: str, value: str | None) -> bytes | None:
        """A field-level Bloom filter of the padded q-grams of ``value``."""
        if not value:
            return None
        cache = self._caches.setdefault("bf:" + domain, {})
        bf = cache.get(value)
        if bf is None:
            bits = 0
            for gram in _qgrams(value, self.params.qgram):
                bits |= self._gram_mask(domain, gram)
            bf = cache[value] = bits.to_bytes(self.params.name_bloom_bits // 8, "big")
        return bf

    def _gram_mask(self, domain: str, gram: str) -> int:
        cache = self._caches.setdefault("gram:" + domain, {})
        mask = cache.get(gram)
        if mask is None:
            digest = hmac.new(self._subkey("bf/" + domain), gram.encode(), hashlib.sha256).digest()
            h1 = int.from_bytes(digest[:8], "big")
            h2 = int.from_bytes(digest[8:16], "big") | 1
            m = self.params.name_bloom_bits
            mask = 0
            for i in range(self.params.name_bloom_hashes):
                mask |= 1 << ((h1 + i * h2) % m)
            cache[gram] = mask
        return mask

    # -- records ------------------------------------------------------------------------

    def encode_rows(
        self,
        record_keys: list[str],
        columns: dict[str, list[str | None]],
        progress: Callable[[int], None] | None = None,
    ) -> pa.Table:
        """Encode standardised identifier columns (see council.standardise) row by row."""
        n = len(record_keys)
        out: dict[str, list[Any]] = {c: [] for c in ENCODING_COLUMNS}
        out["record_key"] = record_keys

        def col(name: str) -> list[str | None]:
            return columns.get(name) or [None] * n

        forename, surname, other = col("forename"), col("surname"), col("other_names")
        dob, sex, postcode = col("dob"), col("sex"), col("postcode")
        ids = {f: col(f) for f in ("nhs_number", "ni_number", "pnc_id", "crn", "prison_number")}
        for i in range(n):
            self._encode_names(out, forename[i], surname[i], other[i])
            self._encode_dob(out, dob[i])
            out["sex_tok"].append(self.token("sex", sex[i] if sex[i] in ("M", "F") else None))
            self._encode_postcode(out, postcode[i])
            out["nhs_tok"].append(self.token("nhs", ids["nhs_number"][i]))
            out["ni_tok"].append(self.token("ni", ids["ni_number"][i]))
            out["pnc_tok"].append(self.token("pnc", ids["pnc_id"][i]))
            out["crn_tok"].append(self.token("crn", ids["crn"][i]))
            out["prison_tok"].append(self.token("prison", ids["prison_number"][i]))
            if progress is not None and (i + 1) % 5000 == 0:
                progress(5000)
        if progress is not None:
            progress(n % 5000)
        return pa.table(out, schema=ENCODING_SCHEMA)

    def _encode_names(
        self, out: dict[str, list[Any]], fn: str | None, sn: str | None, other: str | None
    ) -> None:
        fnc = compact_name(fn) if fn else ""
        snc = compact_name(sn) if sn else ""
        # A single letter is an initial (NDTMS): it gets an initial token only, because a
        # one-letter "name" token or filter would claim a similarity that is not there.
        out["fn_bf"].append(self.bloom("name", fnc) if len(fnc) > 1 else None)
        out["sn_bf"].append(self.bloom("name", snc) if len(snc) > 1 else None)
        out["fn_tok"].append(self.token("name", fnc) if len(fnc) > 1 else None)
        out["sn_tok"].append(self.token("name", snc) if len(snc) > 1 else None)
        out["fn_init_tok"].append(self.token("initial", fnc[:1]))
        out["sn_init_tok"].append(self.token("initial", snc[:1]))
        family = name_family(fnc) if len(fnc) > 1 else ()
        out["fn_alias_toks"].append([self.token("name", f) for f in family] or None)
        others = [compact_name(p) for p in (other or "").replace("-", " ").split()]
        out["on_toks"].append(
            [t for t in (self.token("name", o) for o in others if len(o) > 1) if t] or None
        )

    def _encode_dob(self, out: dict[str, list[Any]], dob: str | None) -> None:
        # dob is ISO YYYY-MM-DD after standardisation.
        if not dob or len(dob) != 10:
            for c in ("dob_tok", "dob_swap_tok", "dob_ym_tok", "dob_md_tok", "dob_yd_tok"):
                out[c].append(None)
            return
        y, m, d = dob[:4], dob[5:7], dob[8:10]
        out["dob_tok"].append(self.token("dob", dob))
        # The swapped form is hashed in the *same* domain as dob, so that a record whose
        # day and month were transposed at entry meets the true date at the hub.
        swappable = int(d) <= 12 and d != m
        out["dob_swap_tok"].append(self.token("dob", f"{y}-{d}-{m}") if swappable else None)
        out["dob_ym_tok"].append(self.token("dob-ym", f"{y}-{m}"))
        out["dob_md_tok"].append(self.token("dob-md", f"{m}-{d}"))
        out["dob_yd_tok"].append(self.token("dob-yd", f"{y}-{d}"))

    def _encode_postcode(self, out: dict[str, list[Any]], pc: str | None) -> None:
        # pc is normalised "OUT IN" after standardisation.
        if not pc or " " not in pc:
            out["pc_tok"].append(None)
            out["pc_sector_tok"].append(None)
            out["pc_district_tok"].append(None)
            return
        outward, inward = pc.split(" ", 1)
        out["pc_tok"].append(self.token("postcode", pc))
        out["pc_sector_tok"].append(self.token("postcode-sector", f"{outward} {inward[:1]}"))
        out["pc_district_tok"].append(self.token("postcode-district", outward))


def _qgrams(value: str, q: int) -> Iterable[str]:
    padded = "_" * (q - 1) + value + "_" * (q - 1)
    return {padded[i : i + q] for i in range(len(padded) - q + 1)}
