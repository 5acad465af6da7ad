"""Receive a package over HTTP into a private temporary folder, safely, then ingest it.

A package travels as an uncompressed tar of its folder's files (what ``boldhub submit``
sends) or as the separate files of a web form. Either way the files land in a fresh
temporary folder under the hub's home; only plain files with package-like names are
accepted (no paths, links or devices), the total size is capped while streaming, and the
folder is removed whatever happens. Ingest then verifies everything before storing
anything.
"""

from __future__ import annotations

import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from boldhub.errors import ManifestUnreadable, NotYours, PackageError, UploadTooLarge
from boldhub.hub.ingest import IngestResult, ingest
from boldhub.hub.store import Hub
from boldhub.privacy.package import MANIFEST_FILE, read_manifest

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}\.(json|parquet|sig|pub)$")
MAX_FILES = 16


def staging_dir(hub: Hub) -> Path:
    base = hub.path("tmp")
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="upload-", dir=base))


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise PackageError(
            f"upload check failed: {name!r} is not a package file name; send only the files "
            "`boldhub encode` wrote"
        )
    return name


def unpack_tar(data: IO[bytes], dest: Path, limit: int) -> None:
    try:
        with tarfile.open(fileobj=data, mode="r|") as tar:
            total = 0
            for count, member in enumerate(tar, start=1):
                if not member.isfile():
                    raise PackageError("upload check failed: the archive may hold plain files only")
                name = _check_name(member.name.removeprefix("./"))
                total += member.size
                if count > MAX_FILES:
                    raise PackageError("upload check failed: too many files for a package")
                if total > limit:
                    raise UploadTooLarge(
                        f"the upload is larger than the hub's limit of {limit:,} bytes"
                    )
                src = tar.extractfile(member)
                assert src is not None
                with (dest / name).open("xb") as out:
                    shutil.copyfileobj(src, out)
    except tarfile.TarError as exc:
        raise PackageError(f"upload check failed: not a tar archive of a package ({exc})") from None
    except FileExistsError:
        raise PackageError("upload check failed: a file appears twice in the archive") from None


def write_files(files: Iterable[tuple[str, bytes]], dest: Path, limit: int) -> None:
    total = 0
    for name, content in files:
        total += len(content)
        if total > limit:
            raise UploadTooLarge(f"the upload is larger than the hub's limit of {limit:,} bytes")
        try:
            with (dest / _check_name(name)).open("xb") as out:
                out.write(content)
        except FileExistsError:
            raise PackageError(f"upload check failed: {name} was sent twice") from None


def package_organisation(folder: Path) -> str:
    try:
        return read_manifest(folder).organisation
    except ManifestUnreadable:
        # The folder is the hub's private staging folder: its path stays out of the answer.
        raise PackageError(
            f"upload check failed: no readable {MANIFEST_FILE}; send the whole package folder"
        ) from None


def ingest_upload(hub: Hub, folder: Path, *, organisation: str, actor: str) -> IngestResult:
    """Ingest an uploaded folder for ``organisation``; the folder is always removed."""
    try:
        owner = package_organisation(folder)
        if owner != organisation:
            raise NotYours(
                f"this package is for organisation {owner}, but you submit for {organisation}; "
                "sign in as a submitter of that organisation"
            )
        return ingest(hub, folder, actor=actor)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
