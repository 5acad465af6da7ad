"""The malformed inputs that are binary, big or derived from a real package, built on demand.

Small text inputs are checked in under ``malformed/``; these are made here instead, the same
bytes every time, because a file would be large (a decompression bomb, a 1 MiB line), binary
(a workbook, a tar) or has to carry a valid signature made with the test's own keys (a
package changed and signed again, as a faulty or dishonest encoder could).

Three registries, named by ``cases.yaml``:

* ``FILES``: ``name -> fn(path)`` writes one input file;
* ``PACKAGES``: ``name -> fn(package, world)`` changes a copy of a valid package in place;
* ``BODIES``: ``name -> fn(world) -> bytes`` an API request body (tar or not);
* ``PREPARED``: ``name -> fn(folder)`` changes a copy of a valid prepared folder in place.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from boldhub.council import mapping as mapping_mod
from boldhub.council.encode import encode
from boldhub.council.prepare import prepare
from boldhub.council.read import read_export
from boldhub.demo import Trust, create_trust, register_signed
from boldhub.hub.store import Hub, open_hub
from boldhub.privacy import signing
from boldhub.privacy.keys import create_key
from boldhub.schemas import get_dataset
from tests import corpus

ORG = corpus.ORG
OTHER_ORG = "E06000023"
# Values of the inputs that a message must never repeat (they stand for identifiers).
SENTINELS = ("Zebedee", "Quixley", "9434765919", "SW1A 1AA", "14/02/1985", "1985-02-14")
MALFORMED = Path(__file__).parent / "malformed"

FILES: dict[str, Callable[[Path], None]] = {}
PACKAGES: dict[str, Callable[[Path, PackageWorld], None]] = {}
BODIES: dict[str, Callable[[PackageWorld], bytes]] = {}
PREPARED: dict[str, Callable[[Path], None]] = {}


def _file(fn: Callable[[Path], None]) -> Callable[[Path], None]:
    FILES[fn.__name__] = fn
    return fn


def _package(fn: Callable[[Path, PackageWorld], None]) -> Callable[[Path, PackageWorld], None]:
    PACKAGES[fn.__name__] = fn
    return fn


def _body(fn: Callable[[PackageWorld], bytes]) -> Callable[[PackageWorld], bytes]:
    BODIES[fn.__name__] = fn
    return fn


def _prepared(fn: Callable[[Path], None]) -> Callable[[Path], None]:
    PREPARED[fn.__name__] = fn
    return fn


# -- a world with one valid package and a hub that accepts it ------------------------------


@dataclass
class PackageWorld:
    root: Path
    trust: Trust
    package: Path  # a valid package of ORG, not yet ingested
    other_package: Path  # a valid package of OTHER_ORG
    hub_home: Path  # agreement registered and signed; one other package stored

    def signer(self, org: str = ORG) -> Ed25519PrivateKey:
        return self.trust.signing_keys[org]

    def copy(self, dest: Path, source: Path | None = None) -> Path:
        shutil.copytree(source or self.package, dest)
        return dest

    def hub(self) -> Hub:
        return open_hub(self.hub_home)

    @property
    def prepared(self) -> Path:
        return self.root / f"prepared-{ORG}"

    def encode_args(self) -> list[str]:
        """What `boldhub encode` needs besides the prepared folder and --out."""
        return [
            "--key", str(self.root / "linkage.key"),
            "--signing-key", str(self.root / "trust" / ORG / "signing.key"),
            "--agreement", str(self.trust.agreement_file),
        ]  # fmt: skip


def build_world(root: Path) -> PackageWorld:
    """Prepare the corpus export, encode it twice (two councils), register the agreement at
    a hub, and store the other council's package so the hub is not empty."""
    export = corpus.write_delimited(root / "export.csv", "utf-8", ",")
    dataset = get_dataset(corpus.DATASET)
    chosen = mapping_mod.suggested_mapping(dataset, read_export(export).header)
    key = create_key(root / "linkage.key")
    trust = create_trust(root / "trust", key, [ORG, OTHER_ORG])
    packages = {}
    for org in (ORG, OTHER_ORG):
        prepare(export, corpus.DATASET, root / f"prepared-{org}", org, mapping=chosen)
        packages[org] = root / f"package-{org}"
        encode(
            root / f"prepared-{org}",
            key,
            packages[org],
            agreement=trust.agreement,
            signing_key=trust.signing_keys[org],
            seed=7,
        )
    home = root / "hub"
    hub = open_hub(home, create=True)
    register_signed(hub, trust, actor="corpus")
    from boldhub.hub.ingest import ingest

    ingest(hub, packages[OTHER_ORG], actor="corpus")
    hub.engine.dispose()
    return PackageWorld(root, trust, packages[ORG], packages[OTHER_ORG], home)


def profile_for_corpus(folder: Path) -> Path:
    """The mapping of the corpus export, saved as profile ``corpus`` (for --mapping cases
    whose export is fine, so that the profile is what fails)."""
    dataset = get_dataset(corpus.DATASET)
    chosen = mapping_mod.suggested_mapping(dataset, corpus.HEADER)
    named = mapping_mod.Mapping(chosen.dataset, chosen.columns, "corpus", chosen.options)
    return mapping_mod.save_profile(folder, named)


# -- CSV -----------------------------------------------------------------------------------


@_file
def good_csv(path: Path) -> None:
    corpus.write_delimited(path, "utf-8", ",")


@_file
def empty(path: Path) -> None:
    path.write_bytes(b"")


@_file
def elf_binary(path: Path) -> None:
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 16)


@_file
def control_characters(path: Path) -> None:
    path.write_bytes(bytes(range(1, 32)) * 200)


@_file
def one_line_over_1mib(path: Path) -> None:
    path.write_bytes(b"Case Ref,First Name," * 60_000 + b"\r\nHC-1,Zebedee\r\n")


@_file
def too_many_columns(path: Path) -> None:
    header = ",".join(f"col{i}" for i in range(2001))
    path.write_text(header + "\r\n" + "," * 2000 + "x\r\n")


@_file
def latin1_text(path: Path) -> None:
    path.write_bytes("Case Ref,First Name\r\nHC-1,Zo\xeb Quixley\r\n".encode("latin-1"))


@_file
def zip_not_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("export.csv", "Case Ref,First Name\r\nHC-1,Zebedee\r\n")


@_file
def old_excel(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)


@_file
def utf16_without_bom_nul(path: Path) -> None:
    path.write_bytes("Case Ref,First Name\r\nHC-1,Zebedee\r\n".encode("utf-16-le"))


# -- XLSX ----------------------------------------------------------------------------------


def _workbook(path: Path, sheets: dict[str, list[list[Any]]], hidden: tuple[str, ...] = ()) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row)
        if name in hidden:
            ws.hide()
    wb.close()


@_file
def good_xlsx(path: Path) -> None:
    corpus.write_xlsx(path)


@_file
def truncated_xlsx(path: Path) -> None:
    corpus.write_xlsx(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@_file
def xlsx_bomb(path: Path) -> None:
    """A few hundred KB whose sheet declares (and holds) 64 MiB of spaces."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            block = b" " * (1024 * 1024)
            for _ in range(64):
                part.write(block)


@_file
def xlsx_bad_crc(path: Path) -> None:
    """A workbook whose sheet's bytes were changed after zipping (stored, so no inflate
    error hides the CRC check)."""
    corpus.write_xlsx(path)
    with zipfile.ZipFile(path) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"<sheetData>")
    raw[at + 1] = ord("X")
    path.write_bytes(bytes(raw))


@_file
def xlsx_zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/styles.xml", "<styleSheet/>")


@_file
def xlsx_every_sheet_empty(path: Path) -> None:
    _workbook(path, {"Cover": [], "Cases": []})


@_file
def xlsx_only_hidden_sheet(path: Path) -> None:
    _workbook(path, {"Visible": [["Case Ref"], ["HC-1"]], "Cases": [["Case Ref"], ["HC-2"]]})
    # xlsxwriter will not hide every sheet; hide the last visible one in the XML itself.
    with zipfile.ZipFile(path) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    wb = parts["xl/workbook.xml"].decode()
    wb = wb.replace('name="Visible"', 'name="Visible" state="hidden"')
    wb = wb.replace('name="Cases"', 'name="Cases" state="hidden"')
    parts["xl/workbook.xml"] = wb.encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


@_file
def xlsx_header_only(path: Path) -> None:
    _workbook(path, {"Cases": [list(corpus.HEADER)]})


@_file
def xlsx_too_many_columns(path: Path) -> None:
    _workbook(path, {"Cases": [[f"col{i}" for i in range(2001)], ["x"]]})


# -- XML -----------------------------------------------------------------------------------


@_file
def xml_too_many_fields(path: Path) -> None:
    fields = "".join(f"<F{i}>x</F{i}>" for i in range(2001))
    path.write_text(f"<HCLICCases><Case><CaseRef>HC-1</CaseRef>{fields}</Case></HCLICCases>\n")


@_file
def xml_utf16_broken(path: Path) -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<HCLICCases><Case><CaseRef>HC-1'
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


# -- agreements: a valid file changed one way each ---------------------------------------


def _agreement(path: Path, old: str, new: str) -> None:
    text = (MALFORMED / "agreement" / "valid.yaml").read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@_file
def agreement_unclosed_bracket(path: Path) -> None:
    _agreement(path, "- [homelessness, homelessness]", "- [homelessness, homelessness")


@_file
def agreement_tab_indent(path: Path) -> None:
    _agreement(path, "  organisation: HUB", "\torganisation: HUB")


@_file
def agreement_not_utf8(path: Path) -> None:
    path.write_bytes(b"id: bold-demo\ntitle: Caf\xe9 \xff\xfe\n")


@_file
def agreement_unknown_field(path: Path) -> None:
    _agreement(path, "version: 1\n", "version: 1\ncolour: blue\n")


@_file
def agreement_missing_title(path: Path) -> None:
    _agreement(path, "title: BOLD Hub demonstration on synthetic data\n", "")


@_file
def agreement_bad_id(path: Path) -> None:
    _agreement(path, "id: bold-demo", "id: Bold Demo!")


@_file
def agreement_impossible_date(path: Path) -> None:
    _agreement(path, "start: '2026-01-01'", "start: '2026-13-01'")


@_file
def agreement_title_is_a_number(path: Path) -> None:
    _agreement(path, "title: BOLD Hub demonstration on synthetic data", "title: 12345")


@_file
def agreement_bad_fingerprint(path: Path) -> None:
    _agreement(path, "0123456789abcdef0123456789abcdef", "not-a-fingerprint")


@_file
def agreement_unknown_dataset(path: Path) -> None:
    _agreement(path, "- dataset: homelessness", "- dataset: parking-fines")


@_file
def agreement_health_without_article_9(path: Path) -> None:
    _agreement(path, "      article_9: art9_2_g_substantial_public_interest\n", "")


@_file
def agreement_alias_bomb(path: Path) -> None:
    """YAML's "billion laughs": 400 bytes whose aliases expand to 9**9 strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    path.write_text("\n".join(lines) + "\n")


@_file
def agreement_a_list(path: Path) -> None:
    path.write_text("- id: bold-demo\n- version: 1\n")


# -- packages: a valid one changed, and signed again where a later check is the target -----


def _manifest(pkg: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((pkg / "manifest.json").read_text())
    return doc


def _resign(pkg: Path, doc: dict[str, Any], signer: Ed25519PrivateKey) -> None:
    raw = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    (pkg / "manifest.json").write_bytes(raw)
    (pkg / "manifest.sig").write_text(signing.sign(signer, raw), encoding="ascii")


def _rehash(pkg: Path, w: PackageWorld, name: str, rows: int | None = None) -> None:
    """The manifest made to vouch for ``name`` as it now is, signed by the council."""
    doc = _manifest(pkg)
    doc["files"][name]["sha256"] = hashlib.sha256((pkg / name).read_bytes()).hexdigest()
    if rows is not None:
        doc["files"][name]["rows"] = rows
    _resign(pkg, doc, w.signer())


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _change(pkg: Path, w: PackageWorld, **fields: Any) -> None:
    doc = _manifest(pkg)
    doc.update(fields)
    _resign(pkg, doc, w.signer())


@_package
def signature_changed(pkg: Path, w: PackageWorld) -> None:
    sig = (pkg / "manifest.sig").read_text()
    head, _, tail = sig.rpartition(" ")
    flipped = ("A" if tail[5] != "A" else "B").join((tail[:5], tail[6:]))
    (pkg / "manifest.sig").write_text(f"{head} {flipped}")


@_package
def signature_not_text(pkg: Path, w: PackageWorld) -> None:
    (pkg / "manifest.sig").write_bytes(b"\xff\xfe\x00garbage")


@_package
def manifest_changed_after_signing(pkg: Path, w: PackageWorld) -> None:
    doc = _manifest(pkg)
    doc["period"] = "2019-01-01/2019-03-31"
    (pkg / "manifest.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


@_package
def signed_by_another_council(pkg: Path, w: PackageWorld) -> None:
    _resign(pkg, _manifest(pkg), w.signer(OTHER_ORG))


@_package
def no_signature(pkg: Path, w: PackageWorld) -> None:
    (pkg / "manifest.sig").unlink()


@_package
def no_manifest(pkg: Path, w: PackageWorld) -> None:
    (pkg / "manifest.json").unlink()


@_package
def manifest_not_json(pkg: Path, w: PackageWorld) -> None:
    (pkg / "manifest.json").write_text('{"format": "boldhub-package", ')


@_package
def manifest_a_list(pkg: Path, w: PackageWorld) -> None:
    (pkg / "manifest.json").write_text("[1, 2, 3]\n")


@_package
def format_version_99(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, format_version=99)


@_package
def record_count_as_text(pkg: Path, w: PackageWorld) -> None:
    doc = _manifest(pkg)
    _change(pkg, w, record_count=str(doc["record_count"]))


@_package
def dataset_field_missing(pkg: Path, w: PackageWorld) -> None:
    doc = _manifest(pkg)
    del doc["dataset"]
    _resign(pkg, doc, w.signer())


@_package
def no_agreement_named(pkg: Path, w: PackageWorld) -> None:
    doc = _manifest(pkg)
    del doc["agreement_id"]
    _resign(pkg, doc, w.signer())


@_package
def unknown_agreement(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, agreement_id="bold-elsewhere")


@_package
def unknown_dataset(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, dataset="parking-fines", source=f"parking-fines:{ORG}")


@_package
def schema_version_old(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, schema_version="0.1")


@_package
def source_mismatch(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, source=f"probation:{ORG}")


@_package
def period_not_a_period(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, period="last quarter")


@_package
def period_reversed(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, period="2025-03-31/2025-01-01")


@_package
def encoding_parameters_differ(pkg: Path, w: PackageWorld) -> None:
    doc = _manifest(pkg)
    doc["encoding"] = {**doc["encoding"], "name_bloom_bits": 1024}
    _resign(pkg, doc, w.signer())


@_package
def wrong_key_fingerprint(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, key_fingerprint="fedcba9876543210fedcba9876543210")


@_package
def malformed_key_fingerprint(pkg: Path, w: PackageWorld) -> None:
    _change(pkg, w, key_fingerprint="not hex at all")


@_package
def extra_file_listed(pkg: Path, w: PackageWorld) -> None:
    doc = _manifest(pkg)
    doc["files"]["notes.parquet"] = {"sha256": "0" * 64, "rows": 1}
    _resign(pkg, doc, w.signer())


@_package
def encodings_byte_flipped(pkg: Path, w: PackageWorld) -> None:
    path = pkg / "encodings.parquet"
    _flip(path, path.stat().st_size // 2)


@_package
def attributes_byte_flipped(pkg: Path, w: PackageWorld) -> None:
    path = pkg / "attributes.parquet"
    _flip(path, path.stat().st_size // 2)


@_package
def encodings_missing(pkg: Path, w: PackageWorld) -> None:
    (pkg / "encodings.parquet").unlink()


@_package
def encodings_truncated(pkg: Path, w: PackageWorld) -> None:
    path = pkg / "encodings.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _rehash(pkg, w, "encodings.parquet")


@_package
def encodings_footer_lies(pkg: Path, w: PackageWorld) -> None:
    """Valid Parquet magic at both ends, damaged in between."""
    path = pkg / "encodings.parquet"
    data = bytearray(path.read_bytes())
    for i in range(8, len(data) - 64):
        data[i] = 0
    path.write_bytes(bytes(data))
    _rehash(pkg, w, "encodings.parquet")


def _rewrite(pkg: Path, w: PackageWorld, name: str, change: Callable[[pa.Table], pa.Table]) -> None:
    path = pkg / name
    table = change(pq.read_table(path))
    pq.write_table(table, path)
    _rehash(pkg, w, name, rows=table.num_rows)


@_package
def encodings_extra_column(pkg: Path, w: PackageWorld) -> None:
    _rewrite(
        pkg, w, "encodings.parquet",
        lambda t: t.append_column("forename", pa.array(["ZEBEDEE"] * t.num_rows)),
    )  # fmt: skip


@_package
def encodings_missing_column(pkg: Path, w: PackageWorld) -> None:
    _rewrite(pkg, w, "encodings.parquet", lambda t: t.drop_columns([t.column_names[-1]]))


@_package
def attributes_missing_column(pkg: Path, w: PackageWorld) -> None:
    _rewrite(pkg, w, "attributes.parquet", lambda t: t.drop_columns(["sex"]))


@_package
def attributes_carry_encodings(pkg: Path, w: PackageWorld) -> None:
    enc = pq.read_table(pkg / "encodings.parquet")
    extra = next(c for c in enc.column_names if c != "record_key")
    _rewrite(
        pkg, w, "attributes.parquet", lambda t: t.append_column(extra, enc.column(extra))
    )  # fmt: skip


@_package
def count_differs(pkg: Path, w: PackageWorld) -> None:
    doc = _manifest(pkg)
    _change(pkg, w, record_count=doc["record_count"] + 1)


def _set_keys(pkg: Path, w: PackageWorld, name: str, keys: list[str]) -> None:
    _rewrite(
        pkg, w, name,
        lambda t: t.set_column(0, "record_key", pa.array(keys[: t.num_rows], pa.string())),
    )  # fmt: skip


@_package
def record_keys_not_hex(pkg: Path, w: PackageWorld) -> None:
    _set_keys(pkg, w, "encodings.parquet", ["HC-001"] * 100)


@_package
def record_keys_repeat(pkg: Path, w: PackageWorld) -> None:
    _set_keys(pkg, w, "encodings.parquet", ["a" * 32] * 100)


@_package
def records_differ_between_files(pkg: Path, w: PackageWorld) -> None:
    _set_keys(pkg, w, "attributes.parquet", [f"{i:032x}" for i in range(100)])


# -- prepared folders: what `boldhub prepare` wrote, damaged afterwards ---------------------


@_prepared
def as_prepared(folder: Path) -> None:
    """Unchanged: for cases where the arguments are what is wrong."""


@_prepared
def prepared_parquet_truncated(folder: Path) -> None:
    path = folder / "prepared.parquet"
    path.write_bytes(path.read_bytes()[:200])


@_prepared
def prepared_parquet_missing_column(folder: Path) -> None:
    path = folder / "prepared.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["source_row_id"]), path)


@_prepared
def prepared_without_rows(folder: Path) -> None:
    path = folder / "prepared.parquet"
    pq.write_table(pq.read_table(path).slice(0, 0), path)


@_prepared
def meta_not_json(folder: Path) -> None:
    (folder / "meta.json").write_text("{ not json")


@_prepared
def meta_a_list(folder: Path) -> None:
    (folder / "meta.json").write_text("[1, 2]\n")


@_prepared
def meta_without_dataset(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    del meta["dataset"]
    (folder / "meta.json").write_text(json.dumps(meta))


@_prepared
def meta_missing(folder: Path) -> None:
    (folder / "meta.json").unlink()


@_prepared
def meta_unknown_dataset(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "dataset": "parking-fines"}))


@_prepared
def meta_another_organisation(folder: Path) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "organisation": "E09000001"}))


# -- API bodies ----------------------------------------------------------------------------


def tar_of(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def package_members(pkg: Path, skip: tuple[str, ...] = ()) -> list[tuple[tarfile.TarInfo, bytes]]:
    return [
        (tarfile.TarInfo(p.name), p.read_bytes())
        for p in sorted(pkg.iterdir())
        if p.name not in skip
    ]


def _with(w: PackageWorld, info: tarfile.TarInfo, data: bytes | None = None) -> bytes:
    return tar_of([*package_members(w.package), (info, data)])


@_body
def not_a_tar(w: PackageWorld) -> bytes:
    return b"Case Ref,First Name\r\nHC-1,Zebedee\r\n"


@_body
def empty_body(w: PackageWorld) -> bytes:
    return b""


@_body
def json_body(w: PackageWorld) -> bytes:
    return json.dumps({"manifest": "please"}).encode()


@_body
def gzip_bomb(w: PackageWorld) -> bytes:
    """A gzipped tar whose one member is 64 MiB of zeros: about 64 KB on the wire."""
    inner = io.BytesIO()
    with gzip.GzipFile(fileobj=inner, mode="wb", compresslevel=9, mtime=0) as gz:
        header = tarfile.TarInfo("encodings.parquet")
        header.size = 64 * 1024 * 1024
        gz.write(header.tobuf(format=tarfile.USTAR_FORMAT))
        block = b"\0" * (1024 * 1024)
        for _ in range(64):
            gz.write(block)
    return inner.getvalue()


@_body
def tar_cut_short(w: PackageWorld) -> bytes:
    whole = tar_of(package_members(w.package))
    return whole[: (len(whole) // 2) // 512 * 512]


@_body
def tar_path_traversal(w: PackageWorld) -> bytes:
    return _with(w, tarfile.TarInfo("../../etc/cron.d/evil.json"), b"{}")


@_body
def tar_absolute_path(w: PackageWorld) -> bytes:
    return _with(w, tarfile.TarInfo("/etc/cron.d/evil.json"), b"{}")


@_body
def tar_symlink(w: PackageWorld) -> bytes:
    info = tarfile.TarInfo("notes.json")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return tar_of([*package_members(w.package), (info, None)])


@_body
def tar_hardlink(w: PackageWorld) -> bytes:
    info = tarfile.TarInfo("notes.json")
    info.type, info.linkname = tarfile.LNKTYPE, "manifest.json"
    return tar_of([*package_members(w.package), (info, None)])


@_body
def tar_symlink_replacing_manifest(w: PackageWorld) -> bytes:
    info = tarfile.TarInfo("manifest.json")
    info.type, info.linkname = tarfile.SYMTYPE, "../../hub.sqlite"
    return tar_of([*package_members(w.package, skip=("manifest.json",)), (info, None)])


@_body
def tar_folder(w: PackageWorld) -> bytes:
    info = tarfile.TarInfo("extra")
    info.type = tarfile.DIRTYPE
    return tar_of([(info, None), *package_members(w.package)])


@_body
def tar_fifo(w: PackageWorld) -> bytes:
    info = tarfile.TarInfo("pipe.json")
    info.type = tarfile.FIFOTYPE
    return tar_of([*package_members(w.package), (info, None)])


@_body
def tar_bad_name(w: PackageWorld) -> bytes:
    return _with(w, tarfile.TarInfo("run-me.sh"), b"#!/bin/sh\n")


@_body
def tar_too_many_files(w: PackageWorld) -> bytes:
    return tar_of([(tarfile.TarInfo(f"note{i}.json"), b"{}") for i in range(17)])


@_body
def tar_same_file_twice(w: PackageWorld) -> bytes:
    return _with(w, tarfile.TarInfo("manifest.json"), b"{}")


@_body
def tar_without_signature(w: PackageWorld) -> bytes:
    return tar_of(package_members(w.package, skip=("manifest.sig",)))


@_body
def tar_without_attributes(w: PackageWorld) -> bytes:
    return tar_of(package_members(w.package, skip=("attributes.parquet",)))


@_body
def tar_manifest_not_json(w: PackageWorld) -> bytes:
    members = package_members(w.package, skip=("manifest.json",))
    return tar_of([*members, (tarfile.TarInfo("manifest.json"), b"{ nope")])


@_body
def tar_another_councils_package(w: PackageWorld) -> bytes:
    return tar_of(package_members(w.other_package))


def _tar_of_changed(w: PackageWorld, change: str) -> bytes:
    folder = w.root / "bodies" / change
    if not folder.exists():
        w.copy(folder)
        PACKAGES[change](folder, w)
    return tar_of(package_members(folder))


@_body
def tar_signature_changed(w: PackageWorld) -> bytes:
    return _tar_of_changed(w, "signature_changed")


@_body
def tar_encodings_byte_flipped(w: PackageWorld) -> bytes:
    return _tar_of_changed(w, "encodings_byte_flipped")


@_body
def tar_wrong_key_fingerprint(w: PackageWorld) -> bytes:
    return _tar_of_changed(w, "wrong_key_fingerprint")


@_body
def tar_parquet_extra_column(w: PackageWorld) -> bytes:
    return _tar_of_changed(w, "encodings_extra_column")


@_body
def tar_whole_package(w: PackageWorld) -> bytes:
    """The valid package: refused for its size in the case that lowers the limit."""
    return tar_of(package_members(w.package))
