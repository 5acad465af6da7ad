"""Stored means signed (issue 17): the hub keeps exactly the bytes it verified, and `boldhub
store verify` finds and names a stored file that changed.

Before, ingest decoded the data files and wrote them again, so the stored Parquet was not
the file whose sha256 the organisation signed, and nothing could show that it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from boldhub.hub.ingest import ingest, stored_files
from boldhub.hub.integrity import verify_store
from boldhub.hub.store import Hub, open_hub
from boldhub.hub.upload import ingest_upload, staging_dir
from boldhub.privacy.package import PACKAGE_FILES
from tests.support.cli import assert_one_line_error, boldhub
from tests.support.hubworld import Packages, build_packages


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return build_packages(tmp_path_factory.mktemp("stored-signed"), persons=120, seed=3)


def _hub(packages: Packages, home: Path) -> Hub:
    hub = open_hub(home, create=True)
    packages.register_agreement(hub)
    return hub


def _bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in PACKAGE_FILES}


def test_ingest_keeps_the_verified_bytes_and_leaves_the_package_as_it_was(
    packages: Packages, tmp_path: Path
) -> None:
    hub = _hub(packages, tmp_path / "hub")
    (_, package), (other_source, other) = sorted(packages.by_source.items())[:2]
    sent = _bytes(package)
    result = ingest(hub, package)
    stored = {
        name: path.read_bytes() for name, path in stored_files(hub, result.submission_id).items()
    }
    assert stored == sent
    assert _bytes(package) == sent
    assert list((tmp_path / "hub" / "tmp").iterdir()) == []  # no staging left behind

    # An upload: the hub's own staging folder is moved into the store, then removed.
    folder = staging_dir(hub)
    for name in PACKAGE_FILES:
        shutil.copyfile(other / name, folder / name)
    org = other_source.split(":", 1)[1]
    uploaded = ingest_upload(hub, folder, organisation=org, actor="test")
    stored = {n: p.read_bytes() for n, p in stored_files(hub, uploaded.submission_id).items()}
    assert stored == _bytes(other)
    assert not folder.exists()
    assert verify_store(hub).ok


def test_a_refusal_names_the_senders_folder_not_the_hubs_staging(
    packages: Packages, tmp_path: Path
) -> None:
    home = tmp_path / "hub"
    _hub(packages, home)
    broken = tmp_path / "my-package"
    shutil.copytree(sorted(packages.by_source.values())[0], broken)
    (broken / "attributes.parquet").unlink()
    proc = boldhub("ingest", str(broken), "--home", str(home))
    assert_one_line_error(proc, "attributes.parquet is missing", "my-package")
    assert "ingest-" not in proc.stderr
    assert list((home / "tmp").iterdir()) == []


def test_store_verify_finds_and_names_every_changed_or_missing_file(
    packages: Packages, tmp_path: Path
) -> None:
    home = tmp_path / "hub"
    hub = _hub(packages, home)
    ids = {source: ingest(hub, p).submission_id for source, p in packages.by_source.items()}
    proc = boldhub("store", "verify", "--home", str(home))
    assert proc.returncode == 0, proc.stderr
    assert f"store intact: {4 * len(ids)} files of {len(ids)} submissions" in proc.stdout

    a, b, c = sorted(ids.values())[:3]
    attrs = stored_files(hub, a)["attributes.parquet"]
    data = bytearray(attrs.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    attrs.write_bytes(bytes(data))
    stored_files(hub, b)["manifest.sig"].unlink()
    manifest = stored_files(hub, c)["manifest.json"]
    manifest.write_bytes(manifest.read_bytes().replace(b'"record_count"', b'"record_count" '))

    check = verify_store(hub)
    assert len(check.problems) == 3, check.problems
    assert any(a in p and "attributes.parquet differs" in p for p in check.problems)
    assert any(b in p and "manifest.sig missing" in p for p in check.problems)
    assert any(c in p and "manifest.json is not the manifest accepted" in p for p in check.problems)

    proc = boldhub("store", "verify", "--home", str(home))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and str(home) not in proc.stdout + proc.stderr
    assert "store check FAILED: 3 problems" in proc.stderr
    assert a in proc.stdout and "attributes.parquet" in proc.stdout
