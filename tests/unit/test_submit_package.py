"""What leaves for the hub: exactly the signed package, checked before any connection."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from boldhub.council import submit
from boldhub.council.encode import encode
from boldhub.council.mapping import suggested_mapping
from boldhub.council.prepare import prepare
from boldhub.council.read import read_export
from boldhub.council.submit import HttpHubClient
from boldhub.errors import PackageError
from boldhub.privacy.agreement import load_agreement
from boldhub.privacy.keys import load_key
from boldhub.privacy.signing import load_signing_key
from boldhub.schemas import get_dataset
from tests import corpus
from tests.support.council_page import make_keys

PACKAGE_FILES = ["attributes.parquet", "encodings.parquet", "manifest.json", "manifest.sig"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("submit-package")
    keys = make_keys(root / "keys", corpus.ORG)
    export = corpus.write_delimited(root / "export.csv", "utf-8", ",")
    header = read_export(export).header
    mapping = suggested_mapping(get_dataset(corpus.DATASET), header)
    prepare(export, corpus.DATASET, root / "prepared", corpus.ORG, mapping=mapping)
    encode(
        root / "prepared",
        load_key(keys.key),
        root / "package",
        agreement=load_agreement(keys.agreement),
        signing_key=load_signing_key(keys.signing_key),
    )
    return root


@pytest.fixture
def package(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built / "package", tmp_path / "package"))


@pytest.fixture
def posts(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every body the client sends; the hub answers each with a new submission."""
    sent: list[bytes] = []

    def post(url: str, content: Iterator[bytes], **_: Any) -> httpx.Response:
        sent.append(b"".join(content))
        return httpx.Response(201, json={"id": "S1", "source": "x", "records": 7, "created": True})

    monkeypatch.setattr(submit.httpx, "post", post)
    return sent


def test_only_the_signed_files_are_sent(package: Path, posts: list[bytes]) -> None:
    HttpHubClient("http://hub.test", "token").submit(package)
    with tarfile.open(fileobj=io.BytesIO(posts[0])) as tar:
        assert sorted(tar.getnames()) == PACKAGE_FILES


def test_a_clear_text_export_left_in_the_folder_is_never_sent(
    built: Path, package: Path, posts: list[bytes]
) -> None:
    shutil.copy(built / "export.csv", package / "other-file.csv")
    with pytest.raises(PackageError) as caught:
        HttpHubClient("http://hub.test", "token").submit(package)
    message = str(caught.value)
    assert "other-file.csv" in message and "does not list" in message
    assert "move it out of the folder" in message
    assert str(package.parent) not in message  # the folder's name, not where it lives
    assert posts == []


def test_a_file_changed_after_signing_is_never_sent(package: Path, posts: list[bytes]) -> None:
    data = bytearray((package / "attributes.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (package / "attributes.parquet").write_bytes(bytes(data))
    with pytest.raises(PackageError, match=r"hash check failed: attributes\.parquet"):
        HttpHubClient("http://hub.test", "token").submit(package)
    assert posts == []


def test_a_missing_signature_or_a_subfolder_is_refused(package: Path) -> None:
    from boldhub.privacy.package import package_files

    assert [p.name for p in package_files(package)] == PACKAGE_FILES
    (package / "notes").mkdir()
    with pytest.raises(PackageError, match="holds notes"):
        package_files(package)
    (package / "notes").rmdir()
    (package / "manifest.sig").unlink()
    with pytest.raises(PackageError, match=r"manifest\.sig is missing"):
        package_files(package)
