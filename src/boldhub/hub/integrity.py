"""Stored means signed: every file the hub keeps for a submission is still the file its
organisation signed.

Ingest moves a package's verified files into the stores unchanged (hub.ingest), so each
can be checked at any time against what was signed: the stored manifest against the
sha256 recorded when it was accepted and against its signature by the organisation's key
in the agreement, and each data file against the sha256 that manifest declares.
``boldhub store verify`` runs this and names every file that differs or is missing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from boldhub.agreements.enforce import Terms, terms_of
from boldhub.hub.ingest import stored_files
from boldhub.hub.store import Hub
from boldhub.hub.store.models import Submission
from boldhub.hub.store.trust import Agreement
from boldhub.privacy import signing
from boldhub.privacy.package import MANIFEST_FILE, SIGNATURE_FILE, Manifest, sha256_file


@dataclass
class StoreCheck:
    submissions: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_store(hub: Hub) -> StoreCheck:
    """Check every stored submission's four files; problems name the submission, its
    source and the file, never a path on the hub's disk."""
    with hub.sessions() as session:
        subs = list(session.execute(select(Submission).order_by(Submission.id)).scalars())
        keys = {a.id: terms_of(a.document) for a in session.execute(select(Agreement)).scalars()}
    check = StoreCheck(submissions=len(subs))
    for sub in subs:
        where = f"submission {sub.id} ({sub.source}, {sub.period})"
        paths = stored_files(hub, sub.id)
        missing = sorted(name for name, path in paths.items() if not path.is_file())
        check.files += len(paths) - len(missing)
        if missing:
            check.problems.append(f"{where}: {', '.join(missing)} missing from the store")
        if MANIFEST_FILE in missing:
            continue
        raw = paths[MANIFEST_FILE].read_bytes()
        if hashlib.sha256(raw).hexdigest() != sub.manifest_sha256:
            check.problems.append(
                f"{where}: {MANIFEST_FILE} is not the manifest accepted (its sha256 differs)"
            )
            continue
        # The bytes ingest verified and parsed (their sha256 is the one it recorded).
        manifest = Manifest.from_stored(json.loads(raw))
        if SIGNATURE_FILE not in missing:
            check.problems += _signature_problems(where, raw, paths, manifest, keys)
        for name, declared in manifest.files.items():
            if name not in missing and sha256_file(paths[name]) != declared.sha256:
                check.problems.append(
                    f"{where}: {name} differs from the file its signed manifest names "
                    "(its sha256 differs)"
                )
    return check


def _signature_problems(
    where: str,
    raw: bytes,
    paths: dict[str, Path],
    manifest: Manifest,
    keys: dict[str, Terms],
) -> list[str]:
    terms = keys.get(manifest.agreement_id)
    party = terms.party(manifest.organisation) if terms is not None else None
    if party is None or not party.signing_key:
        return [
            f"{where}: no signing key of {manifest.organisation} under agreement "
            f"{manifest.agreement_id} to check {SIGNATURE_FILE} with"
        ]
    sig = paths[SIGNATURE_FILE]
    text = sig.read_text(encoding="ascii", errors="replace")
    if not signing.verify(signing.parse_public_key(party.signing_key), raw, text):
        return [
            f"{where}: {SIGNATURE_FILE} is not {manifest.organisation}'s signature of the "
            f"stored {MANIFEST_FILE}"
        ]
    return []
