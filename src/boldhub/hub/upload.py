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
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import IO

from anyio import CapacityLimiter, to_thread
from starlette.datastructures import UploadFile

from boldhub.errors import ManifestUnreadable, NotYours, PackageError, UploadTooLarge, UserError
from boldhub.hub.accounts import Principal
from boldhub.hub.ingest import IngestResult, ingest
from boldhub.hub.store import Hub, disk_space
from boldhub.hub.store import staging_dir as store_staging_dir
from boldhub.privacy.package import MANIFEST_FILE, SIGNATURE_FILE, read_manifest

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}\.(json|parquet|sig|pub)$")
MAX_FILES = 16


def staging_dir(hub: Hub) -> Path:
    return store_staging_dir(hub, "upload-")


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise PackageError(
            f"upload check failed: {name!r} is not a package file name; send only the files "
            "`boldhub encode` wrote"
        )
    return name


_BLOCK = 512
_CHUNK = 1024 * 1024


def _member_kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "a folder"
    if member.issym() or member.islnk():
        return "a link"
    return "a device or other special file"


def _check_complete(data: IO[bytes]) -> None:
    """A tar written whole ends with two zero blocks; a body cut short on the way (a
    dropped connection, a proxy's limit) does not, even when it stops between files."""
    if not data.seekable():
        return
    head = data.read(_BLOCK)
    if len(head) < _BLOCK or head[257:262] != b"ustar":
        raise PackageError(_NOT_TAR)
    size = data.seek(0, 2)
    data.seek(max(size - 2 * _BLOCK, 0))
    if size % _BLOCK or size < 3 * _BLOCK or data.read(2 * _BLOCK).strip(b"\0"):
        raise PackageError(_CUT_SHORT)
    data.seek(0)


_NOT_TAR = (
    "upload check failed: the body is not an uncompressed tar archive of a package folder; "
    "send it with `boldhub submit`"
)
_CUT_SHORT = (
    "upload check failed: the archive ends early, so it was cut short on the way to the hub "
    "(a dropped connection or a proxy's size limit); send the package again"
)


def unpack_tar(data: IO[bytes], dest: Path, limit: int) -> None:
    _check_complete(data)
    try:
        with tarfile.open(fileobj=data, mode="r|") as tar:
            total = 0
            for count, member in enumerate(tar, start=1):
                if member.issparse():
                    # A few bytes that unpack to gigabytes of zeros: no package has them.
                    raise PackageError(
                        f"upload check failed: {member.name!r} in the archive is a sparse "
                        "file; send the package with `boldhub submit`, which never makes one"
                    )
                if not member.isfile():
                    raise PackageError(
                        f"upload check failed: {member.name!r} in the archive is "
                        f"{_member_kind(member)}; send only the files of the package folder"
                    )
                name = _check_name(member.name.removeprefix("./"))
                total += member.size
                if count > MAX_FILES:
                    raise PackageError("upload check failed: too many files for a package")
                if total > limit:
                    raise UploadTooLarge(limit)
                src = tar.extractfile(member)
                assert src is not None
                with disk_space("the upload"), (dest / name).open("xb") as out:
                    shutil.copyfileobj(src, out)
    except tarfile.ReadError as exc:
        if str(exc) in ("unexpected end of data", "truncated header"):
            raise PackageError(_CUT_SHORT) from None
        raise PackageError(_NOT_TAR) from None
    except tarfile.TarError:
        raise PackageError(
            "upload check failed: the archive is damaged; send the package again with "
            "`boldhub submit`"
        ) from None
    except FileExistsError:
        raise PackageError("upload check failed: a file appears twice in the archive") from None


async def save_uploads(files: Sequence[UploadFile], dest: Path, limit: int) -> None:
    """Copy a form's uploaded files into ``dest`` a chunk at a time, refusing the upload
    as soon as it passes ``limit`` bytes in all (nothing is read whole into memory)."""
    if len(files) > MAX_FILES:
        raise PackageError("upload check failed: too many files for a package")
    total = 0
    for upload in files:
        name = _check_name(upload.filename or "")
        try:
            with disk_space("the upload"), (dest / name).open("xb") as out:
                while chunk := await upload.read(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise UploadTooLarge(limit)
                    out.write(chunk)
        except FileExistsError:
            raise PackageError(f"upload check failed: {name} was sent twice") from None


def check_upload_complete(folder: Path) -> None:
    """The files a package cannot be checked without, named as the sender knows them:
    the hub's staging folder is never named (it is the hub's, not the sender's)."""
    missing = [n for n in (MANIFEST_FILE, SIGNATURE_FILE) if not (folder / n).is_file()]
    if missing:
        raise PackageError(
            f"upload check failed: the upload has no {' and no '.join(missing)}; "
            f"`boldhub encode` wrote {' and '.join(missing)} into the package folder beside "
            "the .parquet files, so send every file of that folder: manifest.json, "
            "manifest.sig and the .parquet files"
        )
    try:
        listed = set(read_manifest(folder).files)
    except ManifestUnreadable:
        raise PackageError(
            f"upload check failed: {MANIFEST_FILE} cannot be read as a BOLD Hub manifest; "
            "send the package folder exactly as `boldhub encode` wrote it"
        ) from None
    absent = sorted(n for n in listed if not (folder / n).is_file())
    if absent:
        raise PackageError(
            f"upload check failed: the upload has no {', '.join(absent)}, which the manifest "
            "lists; send every file of the package folder"
        )


def package_organisation(folder: Path) -> str:
    check_upload_complete(folder)
    return read_manifest(folder).organisation


def _hide_folder(exc: UserError, folder: Path) -> None:
    """Put "the upload" for the staging folder's path, should a check name it: no answer
    shows a path on the hub's disk."""
    text = str(exc)
    for form in (str(folder), folder.name):
        text = text.replace(f"{form}/", "the upload's ").replace(form, "the upload")
    exc.args = (text, *exc.args[1:])


def ingest_upload(hub: Hub, folder: Path, *, organisation: str, actor: str) -> IngestResult:
    """Ingest an uploaded folder for ``organisation``; the folder is always removed."""
    try:
        owner = package_organisation(folder)
        if owner != organisation:
            raise NotYours(
                f"this package is for organisation {owner}, but you submit for {organisation}; "
                "sign in as a submitter of that organisation"
            )
        return ingest(hub, folder, actor=actor, private=True)
    except UserError as exc:
        _hide_folder(exc, folder)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def ingest_in_turn(
    slots: CapacityLimiter, hub: Hub, folder: Path, sender: Principal
) -> IngestResult:
    """``ingest_upload`` for ``sender`` in a worker thread, at most ``slots`` at once:
    each ingest holds its package's tables in memory while it checks them, and fifty at
    once took 8.5 GiB under the load benchmark. Uploads still arrive in parallel; they
    wait their turn here."""
    return await to_thread.run_sync(
        partial(ingest_upload, hub, folder, organisation=sender.organisation, actor=sender.actor),
        limiter=slots,
    )
