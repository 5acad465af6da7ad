"""Issue 12 #11: one seed, one package, byte for byte (the demo's determinism)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boldhub.council.encode import encode
from boldhub.council.mapping import suggested_mapping
from boldhub.council.prepare import prepare
from boldhub.council.read import read_export
from boldhub.keyservice.client import local_key_function
from boldhub.privacy.agreement import AgreementSpec, parse_agreement
from boldhub.privacy.keys import load_key
from boldhub.privacy.signing import load_signing_key
from boldhub.schemas import get_dataset
from tests import corpus
from tests.support.council_page import Keys, make_keys

FILES = ("encodings.parquet", "attributes.parquet", "manifest.json", "manifest.sig")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Keys]:
    root = tmp_path_factory.mktemp("encode-seed")
    keys = make_keys(root / "keys", corpus.ORG)
    export = corpus.write_delimited(root / "export.csv", "utf-8", ",")
    mapping = suggested_mapping(get_dataset(corpus.DATASET), read_export(export).header)
    prepare(export, corpus.DATASET, root / "prepared", corpus.ORG, mapping=mapping)
    return root / "prepared", keys


def _agreement(keys: Keys) -> AgreementSpec:
    return parse_agreement(json.loads(keys.agreement.read_text()))


def _encode(
    prepared: tuple[Path, Keys], out: Path, seed: int | None
) -> tuple[dict[str, bytes], list[str]]:
    folder, keys = prepared
    work = Path(shutil.copytree(folder, out.parent / f"{out.name}-prepared"))
    spec = _agreement(keys)
    key_service = local_key_function(load_key(keys.key), spec.id)
    signer = load_signing_key(keys.signing_key)
    encode(work, key_service, out, agreement=spec, signing_key=signer, seed=seed)
    record_keys = pq.read_table(out / "attributes.parquet").column("record_key").to_pylist()
    return {f: (out / f).read_bytes() for f in FILES}, record_keys


def test_one_seed_gives_one_package_byte_for_byte(
    prepared: tuple[Path, Keys], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLDHUB_NOW", corpus.TODAY)  # the manifest's created_at
    first, keys_1 = _encode(prepared, tmp_path / "a", seed=7)
    second, keys_2 = _encode(prepared, tmp_path / "b", seed=7)
    assert keys_1 == keys_2 and len(set(keys_1)) == len(keys_1) == 7
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys_1)
    assert first == second
    other, keys_3 = _encode(prepared, tmp_path / "c", seed=8)
    assert set(keys_3).isdisjoint(keys_1)
    assert other["encodings.parquet"] != first["encodings.parquet"]


def test_without_a_seed_record_keys_are_fresh_every_time(
    prepared: tuple[Path, Keys], tmp_path: Path
) -> None:
    _, keys_1 = _encode(prepared, tmp_path / "a", seed=None)
    _, keys_2 = _encode(prepared, tmp_path / "b", seed=None)
    assert set(keys_1).isdisjoint(keys_2)
