"""Bad input to every command: one line saying what is wrong and what to do, a non-zero
exit, and nothing half-written (no partial --out, no change at the hub)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from boldhub.council.encode import encode
from boldhub.council.prepare import prepare
from boldhub.demo import create_trust
from boldhub.privacy import signing
from boldhub.privacy.agreement import parse_agreement
from boldhub.privacy.keys import create_key
from boldhub.synth import generate
from tests.support.cli import assert_one_line_error, boldhub, register_and_sign


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Exports, a prepared folder, keys, signed packages, and a hub holding one of them.

    The hub has registered agreement ``bold-demo`` (parties: probation and one council,
    each with its signing key) under key ``a.key``.
    """
    root = tmp_path_factory.mktemp("cli")
    summary = generate(root / "exports", persons=300, councils=1, seed=3)
    prepared = root / "prepared"
    prepare(summary.files["probation:MOJ-PROBATION"], "probation", prepared)
    key = create_key(root / "a.key")
    other_key = create_key(root / "b.key")
    trust = create_trust(root / "trust", key, ["MOJ-PROBATION", "E08000025"])
    signer = trust.signing_keys["MOJ-PROBATION"]
    signed = {"agreement": trust.agreement, "signing_key": signer}
    encode(prepared, key, root / "pkg", **signed)
    encode(prepared, key, root / "pkg2", **signed)
    # A package under another key, made by skipping the council-side check (as a
    # modified encoder could), so that the hub's own key check is what refuses it.
    create_trust(root / "trust-other", other_key, ["MOJ-PROBATION"])  # an unregistered signer
    doc = {**trust.agreement.document, "linkage_key_fingerprint": other_key.fingerprint}
    encode(
        prepared,
        other_key,
        root / "pkg-other-key",
        agreement=parse_agreement(doc),
        signing_key=signer,
    )
    register_and_sign(
        trust.agreement_file,
        root / "hub",
        {org: root / "trust" / org / "signing.key" for org in ("MOJ-PROBATION", "E08000025")},
    )
    proc = boldhub("ingest", str(root / "pkg"), "--home", str(root / "hub"))
    assert proc.returncode == 0, proc.stderr
    return {
        "root": root,
        "probation": summary.files["probation:MOJ-PROBATION"],
        "homelessness": summary.files["homelessness:E08000025"],
        "prepared": prepared,
        "key": root / "a.key",
        "other_key": root / "b.key",
        "agreement": trust.agreement_file,
        "signing_key": root / "trust" / "MOJ-PROBATION" / "signing.key",
        "council_signing_key": root / "trust" / "E08000025" / "signing.key",
        "other_signing_key": root / "trust-other" / "MOJ-PROBATION" / "signing.key",
        "pkg": root / "pkg",
        "pkg2": root / "pkg2",
        "pkg_other_key": root / "pkg-other-key",
        "hub": root / "hub",
    }


def _encode_args(world: dict[str, Path], out: Path, key: Path | None = None) -> list[str]:
    return [
        "encode",
        str(world["prepared"]),
        "--key",
        str(key or world["key"]),
        "--signing-key",
        str(world["signing_key"]),
        "--agreement",
        str(world["agreement"]),
        "--out",
        str(out),
    ]


def hub_state(home: Path) -> tuple[list[str], int, int]:
    """What the hub holds: its stored files, submissions and audit entries."""
    files = sorted(
        str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and "sqlite" not in p.name
    )
    con = sqlite3.connect(home / "hub.sqlite")
    try:
        subs = con.execute("SELECT count(*) FROM submissions").fetchone()[0]
        audit = con.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    finally:
        con.close()
    return files, subs, audit


# -- prepare ---------------------------------------------------------------------------


def test_prepare_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = boldhub(
        "prepare", str(tmp_path / "nope.csv"), "--dataset", "probation", "--out", str(out)
    )
    assert_one_line_error(proc, "nope.csv", "not found")
    assert not out.exists()


def test_prepare_unknown_dataset(world: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = boldhub("prepare", str(world["probation"]), "--dataset", "housing", "--out", str(out))
    assert_one_line_error(proc, "unknown dataset 'housing'", "homelessness, probation")
    assert not out.exists()


def test_prepare_wrong_export_for_dataset(world: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = boldhub(
        "prepare",
        str(world["probation"]),
        "--dataset",
        "homelessness",
        "--org",
        "E08000025",
        "--out",
        str(out),
    )
    assert_one_line_error(proc, "columns", "missing", "--dataset")
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"\x00\x01PK\x03\x04" + os.urandom(2000), "binary"),
        (b"EventID,FirstName,LastName\n", "no data rows"),
        (b"\n\n", "no header"),
    ],
    ids=["empty", "binary", "header-only", "blank"],
)
def test_prepare_unreadable_input(tmp_path: Path, content: bytes, needle: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    out = tmp_path / "out"
    proc = boldhub("prepare", str(bad), "--dataset", "probation", "--out", str(out))
    assert_one_line_error(proc, "bad.csv", needle)
    assert not out.exists()


def test_prepare_council_dataset_needs_org(world: dict[str, Path], tmp_path: Path) -> None:
    proc = boldhub(
        "prepare",
        str(world["homelessness"]),
        "--dataset",
        "homelessness",
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_line_error(proc, "--org")


def test_prepare_unknown_org(world: dict[str, Path], tmp_path: Path) -> None:
    proc = boldhub(
        "prepare",
        str(world["homelessness"]),
        "--dataset",
        "homelessness",
        "--org",
        "E99",
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_line_error(proc, "unknown organisation code 'E99'")


# -- keys and encode -------------------------------------------------------------------


def test_keys_create_refuses_to_overwrite(world: dict[str, Path]) -> None:
    before = world["key"].read_bytes()
    proc = boldhub("keys", "create", "--out", str(world["key"]))
    assert_one_line_error(proc, "already exists")
    assert world["key"].read_bytes() == before


def test_keys_create_is_owner_only(tmp_path: Path) -> None:
    proc = boldhub("keys", "create", "--out", str(tmp_path / "k.key"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600


def test_encode_missing_key(world: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    proc = boldhub(*_encode_args(world, out, tmp_path / "none.key"))
    assert_one_line_error(proc, "none.key", "boldhub keys create")
    assert not out.exists()


def test_encode_key_readable_by_others(world: dict[str, Path], tmp_path: Path) -> None:
    key = tmp_path / "open.key"
    shutil.copy(world["key"], key)
    key.chmod(0o644)
    proc = boldhub(*_encode_args(world, tmp_path / "pkg", key))
    assert_one_line_error(proc, "chmod 600")
    assert not (tmp_path / "pkg").exists()


def test_encode_not_a_prepared_folder(world: dict[str, Path], tmp_path: Path) -> None:
    args = _encode_args(world, tmp_path / "pkg")
    args[1] = str(tmp_path)
    proc = boldhub(*args)
    assert_one_line_error(proc, "not a prepared folder", "boldhub prepare")
    assert not (tmp_path / "pkg").exists()


def test_encode_wrong_key_format(world: dict[str, Path], tmp_path: Path) -> None:
    key = tmp_path / "bad.key"
    key.write_text("hello\n")
    key.chmod(0o600)
    proc = boldhub(*_encode_args(world, tmp_path / "pkg", key))
    assert_one_line_error(proc, "not a BOLD Hub key file")


def test_encode_with_a_key_the_agreement_does_not_name(
    world: dict[str, Path], tmp_path: Path
) -> None:
    proc = boldhub(*_encode_args(world, tmp_path / "pkg", world["other_key"]))
    assert_one_line_error(proc, "not agreement bold-demo's", "fingerprint")
    assert not (tmp_path / "pkg").exists()


def test_encode_with_another_organisations_signing_key(
    world: dict[str, Path], tmp_path: Path
) -> None:
    args = _encode_args(world, tmp_path / "pkg")
    args[args.index("--signing-key") + 1] = str(world["council_signing_key"])
    assert_one_line_error(boldhub(*args), "not the one MOJ-PROBATION registered")
    assert not (tmp_path / "pkg").exists()


def test_encode_writes_a_signed_package_with_a_progress_bar(
    world: dict[str, Path], tmp_path: Path
) -> None:
    proc = boldhub(*_encode_args(world, tmp_path / "pkg"))
    assert proc.returncode == 0, proc.stderr
    assert "encoding prepared" in proc.stderr and "100%" not in proc.stdout
    assert sorted(p.name for p in (tmp_path / "pkg").iterdir()) == [
        "attributes.parquet",
        "encodings.parquet",
        "manifest.json",
        "manifest.sig",
    ]
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text())
    assert manifest["agreement_id"] == "bold-demo"
    assert manifest["encoding"]["scheme"] == "boldhub-fbf-v6"
    assert "key" not in json.dumps(manifest).replace("key_fingerprint", "").replace(
        "signing_key_id", ""
    )


# -- ingest ----------------------------------------------------------------------------


def _copy_package(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _ingest_refused(world: dict[str, Path], package: Path, *needles: str) -> None:
    before = hub_state(world["hub"])
    proc = boldhub("ingest", str(package), "--home", str(world["hub"]))
    assert_one_line_error(proc, *needles)
    assert hub_state(world["hub"]) == before
    assert not list(world["hub"].rglob("*.partial"))


def test_ingest_missing_package(world: dict[str, Path], tmp_path: Path) -> None:
    _ingest_refused(world, tmp_path / "nothing", "not found")


def test_ingest_a_file_not_a_package(world: dict[str, Path]) -> None:
    _ingest_refused(world, world["probation"], "not a package folder")


def _resign(pkg: Path, signing_key: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the manifest and sign it again with ``signing_key``, as a faulty or
    dishonest encoder could: the signature is then valid, so a later check must refuse."""
    manifest = json.loads((pkg / "manifest.json").read_text())
    change(manifest)
    raw = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (pkg / "manifest.json").write_bytes(raw)
    (pkg / "manifest.sig").write_text(signing.sign(signing.load_signing_key(signing_key), raw))


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("encodings.parquet", ("hash check failed", "encodings.parquet")),
        ("attributes.parquet", ("hash check failed", "attributes.parquet")),
        ("manifest.json", ("signature check failed", "changed after signing")),
        ("manifest.sig", ("signature check failed",)),
    ],
)
def test_ingest_one_changed_byte_in_any_file(
    world: dict[str, Path], tmp_path: Path, name: str, needles: tuple[str, ...]
) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    data = bytearray((pkg / name).read_bytes())
    if name.endswith(".parquet"):
        i = len(data) // 2
    else:  # a byte inside a hash or the signature, so that the file still parses
        i = data.rindex(b'"sha256": "' if name == "manifest.json" else b"signature: ") + 14
    data[i] = ord("0") if data[i] != ord("0") else ord("1")
    (pkg / name).write_bytes(bytes(data))
    _ingest_refused(world, pkg, *needles)


def test_ingest_changed_count(world: dict[str, Path], tmp_path: Path) -> None:
    """Edited after signing: the signature check refuses it."""
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    manifest = json.loads((pkg / "manifest.json").read_text())
    manifest["record_count"] += 1
    (pkg / "manifest.json").write_text(json.dumps(manifest))
    _ingest_refused(world, pkg, "signature check failed")


def test_ingest_changed_count_signed_by_its_council(world: dict[str, Path], tmp_path: Path) -> None:
    """Signed with the wrong count (a faulty encoder): the count check refuses it."""
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")

    def more(m: dict[str, Any]) -> None:
        m["record_count"] += 1
        m["files"]["encodings.parquet"]["rows"] += 1

    _resign(pkg, world["signing_key"], more)
    _ingest_refused(world, pkg, "count check failed", "encodings.parquet")


def test_ingest_refuses_a_small_file_declaring_millions_of_rows_before_decoding_it(
    world: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed, with the right hash, but its footer declares 40 million rows where the
    manifest says a few hundred: refused from the footer, with nothing decoded (issue 17:
    such a file, 176 KB, was decoded whole before its rows were counted)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from boldhub.errors import PackageError
    from boldhub.hub.ingest import ingest
    from boldhub.hub.store import open_hub
    from boldhub.privacy.package import sha256_file

    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    huge = pkg / "attributes.parquet"
    pq.write_table(pa.table({"record_key": pa.nulls(40_000_000)}), huge)
    assert huge.stat().st_size < 1024 * 1024

    def swap(m: dict[str, Any]) -> None:
        m["files"]["attributes.parquet"]["sha256"] = sha256_file(huge)

    _resign(pkg, world["signing_key"], swap)
    decoded: list[str] = []
    real_read = pq.read_table

    def watch(source: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(str(source)) == huge:
            decoded.append(str(source))
        return real_read(source, *args, **kwargs)

    monkeypatch.setattr(pq, "read_table", watch)
    before = hub_state(world["hub"])
    with pytest.raises(PackageError, match=r"count check failed: attributes\.parquet has 40000000"):
        ingest(open_hub(world["hub"]), pkg)
    assert decoded == []
    assert hub_state(world["hub"]) == before


def test_ingest_damaged_manifest(world: dict[str, Path], tmp_path: Path) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    (pkg / "manifest.json").write_text("{not json")
    _ingest_refused(world, pkg, "manifest check failed", "not valid JSON")


def test_ingest_unsigned_package(world: dict[str, Path], tmp_path: Path) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    (pkg / "manifest.sig").unlink()
    _ingest_refused(world, pkg, "signature check failed", "no manifest.sig")


def test_ingest_unknown_dataset_in_manifest(world: dict[str, Path], tmp_path: Path) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    _resign(pkg, world["signing_key"], lambda m: m.update(dataset="benefits"))
    _ingest_refused(world, pkg, "unknown dataset 'benefits'")


def test_ingest_wrong_key_fingerprint(world: dict[str, Path]) -> None:
    _ingest_refused(world, world["pkg_other_key"], "key check failed", "different linkage key")


@pytest.mark.parametrize("signer", ["council_signing_key", "other_signing_key"])
def test_ingest_signed_by_another_key(world: dict[str, Path], tmp_path: Path, signer: str) -> None:
    """Signed by another council's registered key, or by a key nobody registered."""
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    _resign(pkg, world[signer], lambda m: None)
    _ingest_refused(world, pkg, "signature check failed", "registered for MOJ-PROBATION")


def test_ingest_another_council_cannot_submit_in_a_partys_name(
    world: dict[str, Path], tmp_path: Path
) -> None:
    """The council's own valid signature on a manifest that names another organisation."""
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")

    def claim(m: dict[str, Any]) -> None:
        # Data the council may supply, so that its signature is what gives it away.
        m["organisation"], m["dataset"] = "E08000025", "homelessness"
        m["source"] = "homelessness:E08000025"

    _resign(pkg, world["signing_key"], claim)
    _ingest_refused(world, pkg, "signature check failed", "registered for E08000025")


def test_ingest_parameters_that_differ_from_the_agreement(
    world: dict[str, Path], tmp_path: Path
) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    _resign(pkg, world["signing_key"], lambda m: m["encoding"].update(name_filter_weight=80))
    _ingest_refused(world, pkg, "parameter check failed", "name_filter_weight")


def test_ingest_unknown_agreement(world: dict[str, Path], tmp_path: Path) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    _resign(pkg, world["signing_key"], lambda m: m.update(agreement_id="another-agreement"))
    _ingest_refused(world, pkg, "agreement check failed", "not registered")


def test_ingest_from_an_organisation_outside_the_agreement(
    world: dict[str, Path], tmp_path: Path
) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")

    def claim(m: dict[str, Any]) -> None:
        m["organisation"], m["source"] = "DHSC-NDTMS", "probation:DHSC-NDTMS"

    _resign(pkg, world["signing_key"], claim)
    _ingest_refused(world, pkg, "agreement check failed", "not a party")


def test_ingest_same_package_twice_is_one_submission(world: dict[str, Path]) -> None:
    before = hub_state(world["hub"])
    proc = boldhub("ingest", str(world["pkg"]), "--home", str(world["hub"]))
    assert proc.returncode == 0, proc.stderr
    assert "already ingested" in proc.stdout
    assert hub_state(world["hub"]) == before


# -- hub commands ----------------------------------------------------------------------


def test_link_missing_home(tmp_path: Path) -> None:
    proc = boldhub("link", "--home", str(tmp_path / "nohub"))
    assert_one_line_error(proc, "does not exist")
    assert not (tmp_path / "nohub").exists()


def test_links_export_before_any_run(world: dict[str, Path], tmp_path: Path) -> None:
    proc = boldhub("links", "export", "--home", str(world["hub"]), "--out", str(tmp_path / "l.csv"))
    assert_one_line_error(proc, "no linkage run yet", "boldhub link")
    assert not (tmp_path / "l.csv").exists()


def test_links_export_wrong_format(world: dict[str, Path], tmp_path: Path) -> None:
    proc = boldhub(
        "links", "export", "--home", str(world["hub"]), "--out", str(tmp_path / "l.xlsx")
    )
    assert_one_line_error(proc, ".csv or .parquet")


def test_report_before_any_run(world: dict[str, Path], tmp_path: Path) -> None:
    proc = boldhub("report", "--home", str(world["hub"]), "--out", str(tmp_path / "r"))
    assert_one_line_error(proc, "no linkage run yet")
    assert not (tmp_path / "r").exists()


def test_home_is_not_a_hub(tmp_path: Path) -> None:
    proc = boldhub("audit", "verify", "--home", str(tmp_path))
    assert_one_line_error(proc, "not a BOLD Hub home")


# -- synth and demo --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"), [(["--persons", "0"], "at least 1"), (["--councils", "11"], "council")]
)
def test_synth_bad_arguments(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = boldhub("synth", "--out", str(tmp_path / "s"), *args)
    assert_one_line_error(proc, needle)
    assert not (tmp_path / "s").exists()


def test_demo_refuses_a_used_folder(world: dict[str, Path]) -> None:
    proc = boldhub("demo", "--out", str(world["root"]))
    assert_one_line_error(proc, "not empty")
