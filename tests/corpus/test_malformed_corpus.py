"""Every malformed input of cases.yaml meets one clear error and leaves nothing behind.

A command-line case runs the real entry point (``boldhub.cli.main.run``) in this process:
exit code 2, ``boldhub: `` and the message on stderr, no traceback, nothing under ``--out``
or beside it, and the hub unchanged. An API case must answer the case's 4xx as an RFC 9457
problem whose detail holds the expected fragment, with the hub's database, stores and
staging folder as they were. No message may show a path on the hub's disk, a traceback or
any identifier of the input.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from boldhub.cli.main import run
from boldhub.hub.accounts import create_token, create_user
from boldhub.hub.api.app import create_app
from boldhub.hub.api.deps import app_settings
from boldhub.hub.store import open_hub
from tests.corpus import builders
from tests.corpus.builders import MALFORMED, ORG, SENTINELS, PackageWorld

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = YAML(typ="safe").load((HERE / "cases.yaml").read_text())
PREPARE = ["prepare", "--dataset", "homelessness", "--org", ORG]
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PackageWorld:
    return builders.build_world(tmp_path_factory.mktemp("corpus-world"))


@dataclass
class Api:
    client: TestClient
    submitter: dict[str, str]
    admin: dict[str, str]
    admin_id: int


@pytest.fixture(scope="module")
def api(world: PackageWorld) -> Iterator[Api]:
    app = create_app(world.hub_home)
    hub = open_hub(world.hub_home)
    with hub.sessions() as s, s.begin():
        people = {}
        for org, role in ((ORG, "submitter"), ("HUB", "admin")):
            user = create_user(
                s, email=f"{role}@corpus.example", name=role, organisation=org,
                role=role, password=None, actor="corpus",
            )  # fmt: skip
            people[role] = (user.id, {"Authorization": f"Bearer {create_token(s, user, 'c')}"})
    with TestClient(app) as client:
        yield Api(client, people["submitter"][1], people["admin"][1], people["admin"][0])
    hub.engine.dispose()
    app.state.hub.engine.dispose()


def hub_state(home: Path) -> tuple[int, int, list[str]]:
    """Submissions, audit entries and every file under the hub's home (the database's
    journal files aside: they come and go with any read)."""
    con = sqlite3.connect(home / "hub.sqlite")
    try:
        subs = con.execute("SELECT count(*) FROM submissions").fetchone()[0]
        audit = con.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    finally:
        con.close()
    files = sorted(
        str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and "sqlite" not in p.name
    )
    return subs, audit, files


def assert_clean(message: str, *, shown_paths: tuple[Path, ...], hidden: tuple[Path, ...]) -> None:
    """No traceback, no identifier of the input, no path but those the user gave."""
    assert "Traceback" not in message and 'File "' not in message, message
    assert "site-packages" not in message, message
    for value in SENTINELS:
        assert value.lower() not in message.lower(), (value, message)
    for path in sorted(shown_paths, key=lambda p: -len(str(p))):
        message = message.replace(str(path), "<given>")
    for path in hidden:
        assert str(path) not in message, (path, message)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The real entry point, in this process: (exit code, stderr)."""
    capsys.readouterr()
    code = 0
    with mock.patch.object(sys, "argv", ["boldhub", *args]):
        try:
            run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def make_input(case: dict[str, Any], folder: Path, world: PackageWorld | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if "file" in case:
        path = folder / Path(case["file"]).name
        shutil.copyfile(MALFORMED / case["file"], path)
        return path
    if "package" in case:
        assert world is not None
        pkg = world.copy(folder / "package")
        builders.PACKAGES[case["package"]](pkg, world)
        return pkg
    if "prepared" in case:
        assert world is not None
        prepared = world.copy(folder / "prepared", world.prepared)
        builders.PREPARED[case["prepared"]](prepared)
        return prepared
    name = case.get("name", "export.csv" if case["via"] == "prepare" else "folder")
    path = folder / name
    if "build" in case:
        builders.FILES[case["build"]](path)
    return path


def _arguments(case: dict[str, Any], inputs: Path, profiles: Path) -> tuple[list[str], list[Path]]:
    shown: list[Path] = []
    if "personal" in case:
        personal = inputs / ("personal-" + Path(case["personal"]).name)
        shutil.copyfile(MALFORMED / case["personal"], personal)
        shown.append(personal)
    args = [
        a.replace("{personal}", str(shown[0]) if shown else "").replace("{profiles}", str(profiles))
        for a in case.get("args", [])
    ]
    if "profile" in case:
        profile = profiles / Path(case["profile"]).name
        shutil.copyfile(MALFORMED / case["profile"], profile)
        args += ["--mapping", str(profile)]
        shown.append(profile)
    return args, shown


def check_prepare(case: dict[str, Any], tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, work, profiles = tmp / "in", tmp / "work", tmp / "profiles"
    for folder in (work, profiles):
        folder.mkdir()
    builders.profile_for_corpus(profiles)
    given = make_input(case, inputs, None)
    args, shown = _arguments(case, inputs, profiles)
    code, err = run_cli([*PREPARE, str(given), "--out", str(work / "out"), *args], capsys)
    assert_one_line(code, err, case["expect"])
    assert_clean(err, shown_paths=(given, *shown, profiles), hidden=(tmp,))
    assert list(work.iterdir()) == []  # nothing under --out, nor a temporary folder beside it


def assert_one_line(code: int, err: str, expect: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("boldhub: "), err
    assert expect.lower() in lines[0].lower(), (expect, lines[0])


def check_agreement(case: dict[str, Any], tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    given = make_input(case, tmp / "in", None)
    before = sorted(tmp.rglob("*"))
    code, err = run_cli(["agreement", "validate", str(given)], capsys)
    assert code == 2, err
    assert case["expect"].lower() in err.lower(), (case["expect"], err)
    for line in err.splitlines():
        # Each problem as FILE:LINE: field: message, or one user error.
        assert line.startswith(("boldhub: ", f"{given}:", f"{given.name}:")), err
    assert_clean(err, shown_paths=(given,), hidden=(tmp,))
    assert sorted(tmp.rglob("*")) == before


def check_ingest(
    case: dict[str, Any], tmp: Path, world: PackageWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    given = make_input(case, tmp / "in", world)
    before = hub_state(world.hub_home)
    code, err = run_cli(["ingest", str(given), "--home", str(world.hub_home)], capsys)
    assert_one_line(code, err, case["expect"])
    assert_clean(err, shown_paths=(given,), hidden=(world.hub_home, world.root))
    assert hub_state(world.hub_home) == before


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def check_encode(
    case: dict[str, Any], tmp: Path, world: PackageWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    given, work = make_input(case, tmp / "in", world), tmp / "work"
    work.mkdir()
    out = given / "package" if case.get("out_inside") else work / "out"
    before = _listing(tmp / "in")
    code, err = run_cli(["encode", str(given), *world.encode_args(), "--out", str(out)], capsys)
    assert_one_line(code, err, case["expect"])
    assert_clean(err, shown_paths=(given, out), hidden=(world.root,))
    assert list(work.iterdir()) == []
    assert _listing(tmp / "in") == before  # no keymap, nothing half-written beside it


def check_http(case: dict[str, Any], world: PackageWorld, api: Api, send: Any) -> None:
    before = hub_state(world.hub_home)
    r = send()
    assert r.status_code == case["status"], r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    detail = r.json()["detail"]
    assert case["expect"].lower() in detail.lower(), (case["expect"], detail)
    assert_clean(detail, shown_paths=(), hidden=(world.hub_home, world.root))
    assert hub_state(world.hub_home) == before


def check_upload(
    case: dict[str, Any], world: PackageWorld, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = builders.BODIES[case["body"]](world)
    app: Any = api.client.app
    if "limit" in case:
        small = app.state.settings.model_copy(update={"max_upload_bytes": case["limit"]})
        monkeypatch.setitem(app.dependency_overrides, app_settings, lambda: small)
    headers = {**api.submitter, "Content-Type": "application/x-tar"}
    check_http(
        case,
        world,
        api,
        lambda: api.client.post("/api/v1/submissions", content=body, headers=headers),
    )


def check_api(case: dict[str, Any], world: PackageWorld, api: Api) -> None:
    path = case["path"].replace("{me}", str(api.admin_id))
    headers = {} if case.get("anonymous") else dict(api.admin)
    kwargs: dict[str, Any] = {"headers": headers}
    if "json" in case:
        kwargs["json"] = case["json"]
    elif "raw" in case:
        kwargs["content"] = case["raw"].encode()
        headers["Content-Type"] = "application/json"
    check_http(case, world, api, lambda: api.client.request(case["method"], path, **kwargs))


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
    return pytest.param(case, id=case["id"], marks=marks)


# A bomb that gets through expands for minutes: a case that is not quick is a failure.
@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_malformed_input_meets_one_clear_error_and_nothing_is_kept(
    case: dict[str, Any],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    via = case["via"]
    if via == "prepare":
        check_prepare(case, tmp_path, capsys)
    elif via == "agreement":
        check_agreement(case, tmp_path, capsys)
    elif via == "encode":
        check_encode(case, tmp_path, request.getfixturevalue("world"), capsys)
    elif via == "ingest":
        check_ingest(case, tmp_path, request.getfixturevalue("world"), capsys)
    elif via == "upload":
        world, api = request.getfixturevalue("world"), request.getfixturevalue("api")
        check_upload(case, world, api, monkeypatch)
    else:
        assert via == "api", via
        check_api(case, request.getfixturevalue("world"), request.getfixturevalue("api"))


def test_the_corpus_covers_every_kind_of_input() -> None:
    kinds: dict[str, int] = {}
    for case in CASES:
        kinds[case["kind"]] = kinds.get(case["kind"], 0) + 1
    assert len(CASES) >= 60 and len({c["id"] for c in CASES}) == len(CASES)
    assert set(kinds) == {
        "csv", "xlsx", "xml", "mapping", "agreement", "prepared", "package", "upload", "api"
    }  # fmt: skip
    assert min(kinds.values()) >= 5, kinds
