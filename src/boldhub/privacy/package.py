"""The submission package: what leaves a data provider for the hub.

A package is a folder of four files::

    encodings.parquet   record_key + keyed encodings of the identifiers (no attributes)
    attributes.parquet  record_key + non-identifying attributes (no identifiers): the
                        dataset's own, then age_band and sex (coarse categories)
    manifest.json       format, schema version, dataset, organisation, agreement id,
                        counts, sha256 of each file, encoding parameters, key fingerprint,
                        signing key id
    manifest.sig        the organisation's Ed25519 signature of manifest.json's bytes

The two data files are kept apart all the way into the hub's storage (split-file design).
The manifest is a typed ``Manifest``, parsed once where it enters: ``read_manifest`` for
a folder, ``Manifest.from_stored`` for the hub's stored copy.
``verify_package`` is what the hub runs before it accepts anything; the hub tells it, in
``Expectations``, what the agreement the manifest names requires. Every refusal names the
check that failed: signature, agreement, parameter, key, hash, count, schema, record key.

Format versions: 3 added the ``sex`` attribute (Female, Male, Not known). The hub still
reads version 2 packages, whose attributes stop at ``age_band``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from boldhub import __version__
from boldhub.errors import ManifestUnreadable, NotAdmitted, PackageError
from boldhub.privacy import signing
from boldhub.privacy.agreement import FINGERPRINT_RE, admit_linkage_key
from boldhub.privacy.encoding import ENCODING_SCHEMA, EncodingParams
from boldhub.schemas import SCHEMA_VERSION, Dataset, Organisation, get_dataset, get_organisation

FORMAT = "boldhub-package"
FORMAT_VERSION = 3
# Version 2 packages are still read: their attributes lack ``sex`` (added in version 3),
# which the hub's reports then count as "not recorded".
READABLE_FORMAT_VERSIONS = (2, 3)
ENCODINGS_FILE = "encodings.parquet"
ATTRIBUTES_FILE = "attributes.parquet"
MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
DATA_FILES = (ENCODINGS_FILE, ATTRIBUTES_FILE)
PACKAGE_FILES = (*DATA_FILES, MANIFEST_FILE, SIGNATURE_FILE)
RECORD_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# Keyed tokens are random, so a Parquet dictionary page only pays for the columns whose
# values repeat across records. Since scheme v5 every token is scoped, so only the global
# ones repeat (one person's records, people of one birthday or postcode).
REPEATING_COLUMNS = ("salt_tok", "dob_tok", "pc_tok")


def write_encodings(table: pa.Table, path: Path) -> None:
    """Write an encodings table as packages and the hub's store hold it."""
    dictionary = [c for c in REPEATING_COLUMNS if c in table.column_names]
    # No column statistics either: minima and maxima of random tokens prune nothing.
    pq.write_table(
        table, path, compression="zstd", use_dictionary=dictionary, write_statistics=False
    )


class PackageFile(BaseModel):
    """A data file as the manifest declares it."""

    model_config = ConfigDict(strict=True, frozen=True)

    sha256: str
    rows: int


class Manifest(BaseModel):
    """A package's ``manifest.json``, typed. Parse it once, at the edge: a package folder
    with :func:`read_manifest`, a hub's stored copy with :meth:`from_stored`.

    Only shape is checked here (fields present, of their JSON types, no coercion: a count
    written as text stays a refusal). What the values must be (dataset known, hashes,
    agreement terms) is for :func:`verify_package`, in its order of checks.
    """

    model_config = ConfigDict(strict=True, frozen=True)

    format: str
    format_version: int
    schema_version: str
    dataset: str
    organisation: str
    source: str
    period: str
    record_count: int
    files: dict[str, PackageFile]
    agreement_id: str
    # Compared as written with the agreement's parameters, so kept as the JSON object.
    encoding: dict[str, Any]
    key_fingerprint: str
    signing_key_id: str
    created_at: str
    created_by: str
    # The document this was parsed from: stored and re-serialised exactly as received,
    # unknown fields included, so that the hub's copy is what was signed.
    _document: dict[str, Any] | None = PrivateAttr(default=None)

    @classmethod
    def from_stored(cls, document: dict[str, Any], where: str = MANIFEST_FILE) -> Manifest:
        """The manifest of a parsed ``manifest.json`` (or the hub's stored copy of one);
        PackageError naming the first field that is missing or of the wrong type."""
        try:
            manifest = cls.model_validate(document)
        except ValidationError as exc:
            raise PackageError(_field_problem(exc, where)) from None
        manifest._document = copy.deepcopy(document)
        return manifest

    def to_stored(self) -> dict[str, Any]:
        """The manifest as JSON data: the document it was parsed from, unchanged."""
        if self._document is not None:
            return copy.deepcopy(self._document)
        return self.model_dump()

    def to_json_bytes(self) -> bytes:
        """The bytes of ``manifest.json`` as the encoder writes them (what is signed)."""
        return (json.dumps(self.to_stored(), indent=2, sort_keys=True) + "\n").encode()


def _field_problem(exc: ValidationError, where: str) -> str:
    error = exc.errors()[0]
    loc = error["loc"]
    field = ".".join(map(str, loc))
    if loc == ("key_fingerprint",):
        return "manifest check failed: key_fingerprint is missing or malformed"
    if loc == ("agreement_id",):
        return (
            "agreement check failed: the manifest names no agreement; encode the data again "
            "under the agreement file the hub registered"
        )
    if loc == ("files",):
        return f"manifest check failed: files must be exactly {', '.join(DATA_FILES)}"
    problem = "is missing" if error["type"] == "missing" else f"is malformed ({error['msg']})"
    return f"manifest check failed: {field} in {where} {problem}; re-run `boldhub encode`"


def write_package(
    out: Path,
    *,
    encodings: pa.Table,
    attributes: pa.Table,
    dataset: str,
    organisation: str,
    period: str,
    params: EncodingParams,
    key_fingerprint: str,
    agreement_id: str,
    signing_key: Ed25519PrivateKey,
    created_at: str,
) -> Manifest:
    """Write the four files into ``out`` (which must be empty or absent)."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, PackageFile] = {}
    for name, table in ((ENCODINGS_FILE, encodings), (ATTRIBUTES_FILE, attributes)):
        path = out / name
        if name == ENCODINGS_FILE:
            write_encodings(table, path)
        else:
            pq.write_table(table, path, compression="zstd")
        files[name] = PackageFile(sha256=sha256_file(path), rows=table.num_rows)
    manifest = Manifest(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        schema_version=SCHEMA_VERSION,
        dataset=dataset,
        organisation=organisation,
        source=f"{dataset}:{organisation}",
        period=period,
        record_count=encodings.num_rows,
        files=files,
        agreement_id=agreement_id,
        encoding=params.as_dict(),
        key_fingerprint=key_fingerprint,
        signing_key_id=signing.key_id(signing_key.public_key()),
        created_at=created_at,
        created_by=f"boldhub {__version__}",
    )
    raw = manifest.to_json_bytes()
    (out / MANIFEST_FILE).write_bytes(raw)
    # The signature covers the manifest's exact bytes, and the manifest holds the sha256
    # of each data file: one signature vouches for the whole package.
    (out / SIGNATURE_FILE).write_text(signing.sign(signing_key, raw), encoding="ascii")
    return manifest


@dataclass(frozen=True)
class Expectations:
    """What the agreement a manifest names requires of its package (the hub supplies it)."""

    agreement_id: str
    public_key: Ed25519PublicKey
    key_fingerprint: str
    encoding: dict[str, Any]


Expect = Callable[[Manifest], Expectations]


@dataclass(frozen=True)
class VerifiedPackage:
    path: Path
    manifest: Manifest
    manifest_bytes: bytes
    signature: str
    manifest_sha256: str
    encodings: pa.Table
    attributes: pa.Table

    @property
    def source(self) -> str:
        return self.manifest.source


def attribute_columns(dataset: Dataset, format_version: int) -> tuple[str, ...]:
    """The columns after ``record_key`` of a package's attributes file, in order."""
    names = dataset.package_attribute_names
    return tuple(n for n in names if n != "sex") if format_version < 3 else names


def load_manifest(path: Path) -> tuple[Manifest, bytes]:
    """The manifest of a package folder and its raw bytes (not yet verified)."""
    if not path.exists():
        raise PackageError(f"package {path} not found; give the folder `boldhub encode` wrote")
    if not path.is_dir():
        raise PackageError(
            f"{path} is a file, not a package folder; give the folder `boldhub encode` wrote"
        )
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ManifestUnreadable(
            f"manifest check failed: {path} has no {MANIFEST_FILE}, so it is not a BOLD Hub "
            "package; re-run `boldhub encode`"
        )
    raw = manifest_path.read_bytes()
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestUnreadable(
            f"manifest check failed: {manifest_path} is not valid JSON "
            f"({exc.__class__.__name__}); re-run `boldhub encode`"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PackageError(
            f"manifest check failed: {manifest_path} is not a BOLD Hub manifest; "
            "re-run `boldhub encode`"
        )
    if document.get("format_version") not in READABLE_FORMAT_VERSIONS:
        readable = ", ".join(map(str, READABLE_FORMAT_VERSIONS))
        raise PackageError(
            f"package format version {document.get('format_version')!r} is not supported "
            f"(this hub reads {readable}); encode again with this version of boldhub"
        )
    return Manifest.from_stored(document), raw


def read_manifest(path: Path) -> Manifest:
    """The manifest of a package folder (not yet verified: see :func:`verify_package`)."""
    return load_manifest(path)[0]


def package_files(folder: Path) -> list[Path]:
    """The files of a package folder that may leave for the hub: the data files its
    manifest lists, then the manifest and its signature.

    Refuses (PackageError, before anything is sent) a folder that holds anything else, or
    lacks a listed file, or one whose sha256 is not the manifest's: what leaves the council
    is exactly what was signed. The signature itself is the hub's to check.
    """
    manifest = read_manifest(folder)
    name = folder.name
    listed = [*sorted(manifest.files), MANIFEST_FILE, SIGNATURE_FILE]
    if any(Path(f).name != f or f in (MANIFEST_FILE, SIGNATURE_FILE) for f in manifest.files):
        raise PackageError(
            f"manifest check failed: the manifest in the package folder {name} lists a file "
            "that cannot be part of a package; encode again"
        )
    others = sorted(p.name for p in folder.iterdir() if p.name not in listed)
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise PackageError(
            f"the package folder {name} holds {shown}, which the signed manifest does not "
            "list; move it out of the folder and submit again (nothing was sent)"
        )
    for f in listed:
        path = folder / f
        if path.is_symlink() or not path.is_file():
            raise PackageError(
                f"{f} is missing from the package folder {name}; copy the whole folder "
                "`boldhub encode` wrote, or encode again (nothing was sent)"
            )
    for f, declared in sorted(manifest.files.items()):
        if sha256_file(folder / f) != declared.sha256:
            raise PackageError(
                f"hash check failed: {f} in the package folder {name} is not the file the "
                "manifest was signed for (it was changed after encoding); encode again and "
                "submit the new folder (nothing was sent)"
            )
    return [folder / f for f in listed]


def verify_package(
    path: Path, expect: Expect, registered: Mapping[str, Organisation] | None = None
) -> VerifiedPackage:
    """Check a package completely; raise PackageError naming the first check that fails.

    ``expect`` looks up the agreement the manifest names and the submitting
    organisation's registered signing key (and refuses an unknown agreement or party);
    ``registered`` are the bodies the hub knows besides the shipped register.
    """
    manifest, raw = load_manifest(path)
    sig_path = path / SIGNATURE_FILE
    if not sig_path.is_file():
        raise PackageError(
            f"signature check failed: {path} has no {SIGNATURE_FILE}; `boldhub encode` "
            f"writes it beside {MANIFEST_FILE}, so copy or send the whole package folder"
        )
    agreement = expect(manifest)
    signature = check_signature(sig_path, raw, manifest, agreement)
    dataset = check_manifest(manifest, registered)
    check_agreement_terms(manifest, agreement)
    enc, attrs = check_data_files(path, manifest)
    check_schemas(enc, attrs, dataset, manifest.format_version)
    check_record_keys(enc, attrs)
    return VerifiedPackage(
        path=path,
        manifest=manifest,
        manifest_bytes=raw,
        signature=signature,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        encodings=enc,
        attributes=attrs,
    )


def check_signature(sig_path: Path, raw: bytes, manifest: Manifest, agreement: Expectations) -> str:
    """The signature file's text, when it signs ``raw`` with the organisation's key."""
    try:
        sig_text = sig_path.read_text(encoding="ascii")
    except (UnicodeDecodeError, OSError):
        sig_text = ""
    if not signing.verify(agreement.public_key, raw, sig_text):
        raise PackageError(
            f"signature check failed: {SIGNATURE_FILE} is not a valid signature of "
            f"{MANIFEST_FILE} by the signing key registered for {manifest.organisation} in "
            f"agreement {agreement.agreement_id} (key id "
            f"{signing.key_id(agreement.public_key)}); the package was changed after "
            "signing, or signed with another key"
        )
    return sig_text


def check_manifest(
    manifest: Manifest, registered: Mapping[str, Organisation] | None = None
) -> Dataset:
    """The schema version, dataset, organisation and source; the package's dataset."""
    if manifest.schema_version != SCHEMA_VERSION:
        raise PackageError(
            f"schema version {manifest.schema_version!r} does not match the hub's "
            f"{SCHEMA_VERSION}; prepare and encode again with this version of boldhub"
        )
    dataset = get_dataset(manifest.dataset)
    get_organisation(manifest.organisation, registered)
    if manifest.source != f"{dataset.name}:{manifest.organisation}":
        raise PackageError("manifest check failed: source does not match dataset and organisation")
    if not period_is_valid(manifest.period):
        # The hub supersedes by period and shows it: a period that is not one is refused.
        raise PackageError(
            "manifest check failed: period must be FIRST/LAST as dates (2025-01-03/2025-03-31) "
            "or none, as `boldhub prepare` writes it; prepare and encode again"
        )
    return dataset


def period_is_valid(period: str) -> bool:
    """``none``, or the first and last event dates as ``YYYY-MM-DD/YYYY-MM-DD``."""
    if period == "none":
        return True
    first, sep, last = period.partition("/")
    try:
        return bool(sep) and date.fromisoformat(first) <= date.fromisoformat(last)
    except ValueError:
        return False


def check_agreement_terms(manifest: Manifest, agreement: Expectations) -> None:
    """The encoding parameters and linkage key the agreement requires."""
    if manifest.encoding != agreement.encoding:
        differ = sorted(
            k
            for k in set(agreement.encoding) | set(manifest.encoding)
            if manifest.encoding.get(k) != agreement.encoding.get(k)
        )
        raise PackageError(
            "parameter check failed: the package's encoding parameters differ from agreement "
            f"{agreement.agreement_id}'s ({', '.join(differ)}); encode the data again under "
            "that agreement's file, as the hub registered it"
        )
    if not FINGERPRINT_RE.match(manifest.key_fingerprint):
        raise PackageError("manifest check failed: key_fingerprint is missing or malformed")
    try:
        admit_linkage_key(
            agreement.agreement_id, agreement.key_fingerprint, manifest.key_fingerprint
        )
    except NotAdmitted as exc:
        raise PackageError(f"key check failed: {exc}") from None


def check_data_files(path: Path, manifest: Manifest) -> tuple[pa.Table, pa.Table]:
    """The encodings and attributes tables, each present, unchanged and fully counted."""
    files = manifest.files
    if set(files) != set(DATA_FILES):
        raise PackageError(f"manifest check failed: files must be exactly {', '.join(DATA_FILES)}")
    tables: dict[str, pa.Table] = {}
    for name in DATA_FILES:
        file_path = path / name
        if not file_path.is_file():
            raise PackageError(f"{name} is missing from {path}; copy the whole package folder")
        if sha256_file(file_path) != files[name].sha256:
            raise PackageError(
                f"hash check failed: {name} does not match its sha256 in the manifest "
                "(the file was changed or damaged in transit); send the package again"
            )
        try:
            # The row count from the file's footer first: a small file can declare
            # millions of rows, and nothing is decoded until the count is the manifest's.
            declared = pq.ParquetFile(file_path).metadata.num_rows
            if declared != files[name].rows or declared != manifest.record_count:
                raise PackageError(
                    f"count check failed: {name} has {declared} rows but the manifest says "
                    f"{files[name].rows} (record_count {manifest.record_count})"
                )
            table = pq.read_table(file_path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise PackageError(
                f"{name} is not a readable Parquet file ({exc.__class__.__name__})"
            ) from None
        if table.num_rows != declared:
            raise PackageError(
                f"{name} is not a readable Parquet file (its footer says {declared} rows, its "
                f"data holds {table.num_rows})"
            )
        tables[name] = table
    return tables[ENCODINGS_FILE], tables[ATTRIBUTES_FILE]


def check_schemas(enc: pa.Table, attrs: pa.Table, dataset: Dataset, format_version: int) -> None:
    """The encoding columns, and the dataset's attributes kept apart from them."""
    if not enc.schema.equals(ENCODING_SCHEMA, check_metadata=False):
        raise PackageError(
            "schema check failed: encodings.parquet does not have the encoding columns"
        )
    expected_attrs = ["record_key", *attribute_columns(dataset, format_version)]
    if enc_cols_overlap := (set(attrs.column_names) & (set(enc.column_names) - {"record_key"})):
        raise PackageError(
            f"split-file check failed: attributes carry encoding columns {sorted(enc_cols_overlap)}"
        )
    if attrs.column_names != expected_attrs:
        raise PackageError(
            f"schema check failed: attributes.parquet columns differ from the {dataset.name} "
            f"schema {SCHEMA_VERSION}"
        )


def check_record_keys(enc: pa.Table, attrs: pa.Table) -> None:
    """Well-formed, unique record keys, the same records in both files."""
    keys = enc.column("record_key").to_pylist()
    if any(k is None or not RECORD_KEY_RE.match(k) for k in keys):
        raise PackageError("record key check failed: every record_key must be 32 hex digits")
    if len(set(keys)) != len(keys):
        raise PackageError("record key check failed: record keys are not unique")
    if set(keys) != set(attrs.column("record_key").to_pylist()):
        raise PackageError(
            "record key check failed: encodings and attributes hold different records"
        )
