"""The key service over HTTP: the FastAPI app through HttpTransport, then the real
`boldhub keyservice` commands and server on a loopback port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from boldhub.cli.main import app
from boldhub.errors import KeyServiceError
from boldhub.keyservice import oprf, protocol
from boldhub.keyservice.app import create_app
from boldhub.keyservice.client import HttpTransport, OprfClient, local_key_function
from boldhub.keyservice.service import KeyService
from boldhub.privacy.keys import LinkageKey, create_key
from tests.support.cli import assert_one_line_error, boldhub
from tests.support.server import free_port, running_boldhub

KEY = LinkageKey(bytes(range(32)))
AGREEMENT = "homelessness-pilot-2026"
URL = "http://testserver"


@pytest.fixture
def service(tmp_path: Path) -> KeyService:
    svc = KeyService.open(tmp_path / "ks", create=True)
    svc.add_key(AGREEMENT, KEY)
    return svc


@pytest.fixture
def http(service: KeyService) -> Iterator[TestClient]:
    with TestClient(create_app(service), base_url=URL) as client:
        yield client


def _client(http: TestClient, token: str, batch_size: int = protocol.DEFAULT_BATCH) -> OprfClient:
    return OprfClient(HttpTransport(URL, token, AGREEMENT, client=http), batch_size=batch_size)


def _post(http: TestClient, token: str, body: object) -> httpx.Response:
    return http.post(
        f"/v1/agreements/{AGREEMENT}/evaluate",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_round_trip_gives_what_the_in_process_service_gives(
    service: KeyService, http: TestClient
) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 1000)
    values = [f"person {i}".encode() for i in range(30)] + [b"person 0"]
    client = _client(http, token, batch_size=8)
    outputs = client.evaluate("surname", values)
    assert outputs == local_key_function(KEY, AGREEMENT).evaluate("surname", values)
    assert client.fingerprint == service.fingerprint(AGREEMENT)
    assert service.remaining(AGREEMENT, "E08000025") == 1000 - 30  # one duplicate
    granted = [r for r in service.audit() if r.outcome == "granted"]
    assert [r.requested for r in granted] == [8, 8, 8, 6]


def test_the_public_key_is_published_with_its_fingerprint(
    service: KeyService, http: TestClient
) -> None:
    body = http.get(f"/v1/agreements/{AGREEMENT}/public-key").json()
    assert body["public_key"] == service.public_key(AGREEMENT).hex()
    assert body["fingerprint"] == protocol.fingerprint(service.public_key(AGREEMENT))
    assert body["suite"] == "OPRF(ristretto255, SHA-512)" and body["mode"] == 0
    missing = http.get("/v1/agreements/nope/public-key")
    assert missing.status_code == 404
    assert "no key for agreement nope" in missing.json()["detail"]


def test_over_quota_is_429_with_what_is_left_and_whom_to_ask(
    service: KeyService, http: TestClient
) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 5)
    response = _post(
        http, token, {"domain": "dob-salt", "elements": [e.hex() for e in _elements(6)]}
    )
    assert response.status_code == 429
    detail = response.json()["detail"]
    assert "has 5 left" in detail and "administrator" in detail
    with pytest.raises(KeyServiceError, match=r"refused \(429\).*has 5 left"):
        _client(http, token).evaluate("d", [f"{i}".encode() for i in range(6)])
    assert service.remaining(AGREEMENT, "E08000025") == 5


def test_a_bad_or_missing_token_is_401(service: KeyService, http: TestClient) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 5)
    assert _post(http, token + "x", {"domain": "dob-salt", "elements": []}).status_code == 401
    response = http.post(
        f"/v1/agreements/{AGREEMENT}/evaluate", json={"domain": "dob-salt", "elements": []}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    with pytest.raises(KeyServiceError, match=r"refused \(401\)"):
        _client(http, "bks_0_wrong").evaluate("d", [b"x"])


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ("not json", 400, "not JSON"),
        ({"elements": []}, 400, '"domain" is missing or not valid'),
        ({"domain": "Dob Salt", "elements": []}, 400, "lower-case letters"),
        ({"domain": "dob-salt", "elements": "abc"}, 400, 'no list "elements"'),
        ({"domain": "dob-salt", "elements": ["zz" * 32]}, 400, "element 0 is not 64 hex digits"),
        (
            {"domain": "dob-salt", "elements": [bytes(32).hex()]},
            400,
            "element 0 is not a valid ristretto255",
        ),
        (
            {"domain": "dob-salt", "elements": [bytes(32).hex()] * (protocol.MAX_BATCH + 1)},
            413,
            "at most 50000",
        ),
        ({"domain": "dob-salt", "elements": ["00" * 10**6] * 4}, 413, "send at most"),
    ],
)
def test_bad_input_is_a_4xx_with_a_clear_message_and_is_audited(
    service: KeyService, http: TestClient, body: object, status: int, needle: str
) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 10**6)
    content = body if isinstance(body, str) else json.dumps(body)
    response = http.post(
        f"/v1/agreements/{AGREEMENT}/evaluate",
        content=content,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == status
    detail = response.json()["detail"]
    assert needle in detail
    assert "Traceback" not in response.text and "/" not in detail.replace("/v1", "")
    last = service.audit()[-1]
    assert last.outcome.startswith(f"refused ({status})") and last.party == "E08000025"
    assert service.remaining(AGREEMENT, "E08000025") == 10**6


def test_the_audit_needs_the_admin_token_and_shows_every_request(
    service: KeyService, http: TestClient
) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 3)
    admin = service.new_admin_token()
    _client(http, token).evaluate("d", [b"a", b"b"])
    _post(
        http, token, {"domain": "dob-salt", "elements": [e.hex() for e in _elements(2)]}
    )  # over quota
    _post(http, "nope", {"domain": "dob-salt", "elements": []})
    assert http.get("/v1/audit").status_code == 401
    assert http.get("/v1/audit", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    body = http.get("/v1/audit", headers={"Authorization": f"Bearer {admin}"}).json()
    assert body["verified"] is True and body["problem"] is None
    outcomes = [(r["party"], r["requested"], r["outcome"]) for r in body["rows"]]
    assert outcomes[-6:] == [
        ("E08000025", 2, "granted"),
        ("E08000025", 2, "refused (429): over quota"),
        ("?", 0, "refused (401): bad token"),
        ("?", 0, "refused (401): bad administrator token"),
        ("?", 0, "refused (401): bad administrator token"),
        ("admin", 0, "audit read"),
    ]


def _elements(n: int) -> list[bytes]:
    return oprf.blind_batch([f"e{i}".encode() for i in range(n)]).elements


def _admin(*args: str) -> str:
    """An administrator command, in process (the server is the real subprocess)."""
    result = CliRunner().invoke(app, ["keyservice", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_the_real_server_and_commands(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "ks")]
    key = create_key(tmp_path / "linkage.key")
    added = _admin(
        "add-key", *home, "--agreement", AGREEMENT, "--key", str(tmp_path / "linkage.key")
    )
    party = ["--agreement", AGREEMENT, "--party", "E08000025"]
    token = _admin("add-party", *home, *party, "--quota", "4").strip()
    assert token.startswith("bks_")
    assert_one_line_error(
        boldhub(
            "keyservice", "grant", *home, "--agreement", "nope", "--party", "X", "--quota", "4"
        ),
        "no key for agreement nope",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = ["keyservice", "serve", *home, "--port", str(port)]
    with running_boldhub(serve, port, tmp_path / "serve.log", "/healthz"):
        client = OprfClient(HttpTransport(url, token, AGREEMENT))
        assert client.fingerprint in added
        values = [b"1980-02-29", b"1975-01-01"]
        outputs = client.evaluate("dob", values)
        assert outputs == local_key_function(key, AGREEMENT).evaluate("dob", values)
        with pytest.raises(KeyServiceError, match="has 2 left"):
            client.evaluate("dob", [b"1", b"2", b"3"])
        # Granted from another process while the server runs: the next request sees it.
        assert "remaining=12" in _admin("grant", *home, *party, "--quota", "10")
        assert len(client.evaluate("dob", [b"1", b"2", b"3"])) == 3
    log = (tmp_path / "serve.log").read_text()
    assert "outcome=granted" in log and "outcome=refused (429)" in log
    for element in outputs:
        assert element.hex() not in log
    audit = _admin("audit", *home)
    assert "audit: verified (6 rows)" in audit
    assert sum(line.endswith("  granted") for line in audit.splitlines()) == 2
    assert "over quota" in audit and "raised by 10" in audit


def test_an_unreachable_service_is_a_user_error() -> None:
    transport = HttpTransport(f"http://127.0.0.1:{free_port()}", "bks_0_x", AGREEMENT, timeout=5)
    with pytest.raises(KeyServiceError, match="could not be reached"):
        OprfClient(transport).evaluate("d", [b"x"])


def test_a_council_encodes_through_the_key_service_without_the_key(tmp_path: Path) -> None:
    """`boldhub encode --key-service URL` (the party's token in the environment) gives the
    encodings `--key` gives, and each distinct value it asked for is one audited evaluation."""
    import pyarrow.parquet as pq

    from boldhub.council.mapping import suggested_mapping
    from boldhub.council.prepare import prepare
    from boldhub.council.read import read_export
    from boldhub.schemas import get_dataset
    from tests import corpus
    from tests.support.council_page import make_keys

    keys = make_keys(tmp_path / "keys", corpus.ORG)
    agreement = json.loads(keys.agreement.read_text())["id"]
    export = corpus.write_delimited(tmp_path / "export.csv", "utf-8", ",")
    mapping = suggested_mapping(get_dataset(corpus.DATASET), read_export(export).header)
    home = ["--home", str(tmp_path / "ks")]
    _admin("add-key", *home, "--agreement", agreement, "--key", str(keys.key))
    token = _admin(
        "add-party", *home, "--agreement", agreement, "--party", corpus.ORG, "--quota", "1000"
    ).strip()
    port = free_port()
    packages = {}
    with running_boldhub(
        ["keyservice", "serve", *home, "--port", str(port)],
        port,
        tmp_path / "serve.log",
        "/healthz",
    ):
        for how in ("key", "service"):
            prepared = tmp_path / f"prepared-{how}"
            prepare(export, corpus.DATASET, prepared, corpus.ORG, mapping=mapping)
            via = (
                ["--key", str(keys.key)]
                if how == "key"
                else ["--key-service", f"http://127.0.0.1:{port}"]
            )
            proc = boldhub(
                "encode", str(prepared), *via, "--out", str(tmp_path / f"pkg-{how}"),
                "--signing-key", str(keys.signing_key), "--agreement", str(keys.agreement),
                env={"BOLDHUB_KEY_SERVICE_TOKEN": token},
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            table = pq.read_table(tmp_path / f"pkg-{how}" / "encodings.parquet")
            packages[how] = table.drop_columns(["record_key"]).to_pylist()
    assert packages["key"] == packages["service"]
    granted = [r for r in KeyService.open(tmp_path / "ks").audit() if r.outcome == "granted"]
    assert granted and sum(r.requested for r in granted) < 1000
    log = (tmp_path / "serve.log").read_text()
    assert token not in log
