"""Bad input to every command: one line saying what is wrong and what to do, a non-zero
exit, and nothing half-written (no partial --out, no change at the hub)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from boldhub.council.encode import encode
from boldhub.council.prepare import prepare
from boldhub.privacy.keys import create_key
from boldhub.synth import generate
from tests.support.cli import assert_one_line_error, boldhub


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Exports, a prepared folder, two keys, three packages, and a hub holding one."""
    root = tmp_path_factory.mktemp("cli")
    summary = generate(root / "exports", persons=300, councils=1, seed=3)
    prepared = root / "prepared"
    prepare(summary.files["probation:MOJ-PROBATION"], "probation", prepared)
    key = create_key(root / "a.key")
    other_key = create_key(root / "b.key")
    encode(prepared, key, root / "pkg")
    encode(prepared, key, root / "pkg2")
    encode(prepared, other_key, root / "pkg-other-key")
    proc = boldhub("ingest", str(root / "pkg"), "--home", str(root / "hub"))
    assert proc.returncode == 0, proc.stderr
    return {
        "root": root,
        "probation": summary.files["probation:MOJ-PROBATION"],
        "homelessness": summary.files["homelessness:E08000025"],
        "prepared": prepared,
        "key": root / "a.key",
        "pkg": root / "pkg",
        "pkg2": root / "pkg2",
        "pkg_other_key": root / "pkg-other-key",
        "hub": root / "hub",
    }


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
    proc = boldhub(
        "encode", str(world["prepared"]), "--key", str(tmp_path / "none.key"), "--out", str(out)
    )
    assert_one_line_error(proc, "none.key", "boldhub keys create")
    assert not out.exists()


def test_encode_key_readable_by_others(world: dict[str, Path], tmp_path: Path) -> None:
    key = tmp_path / "open.key"
    shutil.copy(world["key"], key)
    key.chmod(0o644)
    proc = boldhub(
        "encode", str(world["prepared"]), "--key", str(key), "--out", str(tmp_path / "pkg")
    )
    assert_one_line_error(proc, "chmod 600")
    assert not (tmp_path / "pkg").exists()


def test_encode_not_a_prepared_folder(world: dict[str, Path], tmp_path: Path) -> None:
    proc = boldhub(
        "encode", str(tmp_path), "--key", str(world["key"]), "--out", str(tmp_path / "pkg")
    )
    assert_one_line_error(proc, "not a prepared folder", "boldhub prepare")
    assert not (tmp_path / "pkg").exists()


def test_encode_wrong_key_format(world: dict[str, Path], tmp_path: Path) -> None:
    key = tmp_path / "bad.key"
    key.write_text("hello\n")
    key.chmod(0o600)
    proc = boldhub(
        "encode", str(world["prepared"]), "--key", str(key), "--out", str(tmp_path / "pkg")
    )
    assert_one_line_error(proc, "not a BOLD Hub key file")


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


@pytest.mark.parametrize("name", ["encodings.parquet", "attributes.parquet"])
def test_ingest_one_changed_byte(world: dict[str, Path], tmp_path: Path, name: str) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    data = bytearray((pkg / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (pkg / name).write_bytes(bytes(data))
    _ingest_refused(world, pkg, "hash check failed", name)


def test_ingest_changed_count(world: dict[str, Path], tmp_path: Path) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    manifest = json.loads((pkg / "manifest.json").read_text())
    manifest["record_count"] += 1
    (pkg / "manifest.json").write_text(json.dumps(manifest))
    _ingest_refused(world, pkg, "count check failed")


def test_ingest_damaged_manifest(world: dict[str, Path], tmp_path: Path) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    (pkg / "manifest.json").write_text("{not json")
    _ingest_refused(world, pkg, "not valid JSON")


def test_ingest_unknown_dataset_in_manifest(world: dict[str, Path], tmp_path: Path) -> None:
    pkg = _copy_package(world["pkg2"], tmp_path / "pkg")
    manifest = json.loads((pkg / "manifest.json").read_text())
    manifest["dataset"] = "benefits"
    (pkg / "manifest.json").write_text(json.dumps(manifest))
    _ingest_refused(world, pkg, "unknown dataset 'benefits'")


def test_ingest_wrong_key_fingerprint(world: dict[str, Path]) -> None:
    _ingest_refused(world, world["pkg_other_key"], "key check failed", "different linkage key")


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
