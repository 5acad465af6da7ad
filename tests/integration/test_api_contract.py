"""The API keeps the promises of its own OpenAPI document (Schemathesis), for every role.

Schemathesis reads `/openapi.json` from the app, generates requests for every operation
(valid ones and broken ones) and sends them in process to a hub that has councils, users,
submissions, a linkage run and an approved release, signed with one role's API token.
Each answer must not be a 5xx, must have a status code, a content type and a body that
the document declares for that operation. The generation is derandomised: the same code
gets the same requests every time, so that a failure here is a failure on every machine
(Hypothesis also draws a few strings from the project's own source, so editing the code
may change some of them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis import Case

from boldhub.errors import UserError
from boldhub.hub import audit as audit_log
from boldhub.hub import service
from boldhub.hub.api.app import openapi_document
from tests.support.apiworld import ROLE_HOLDERS, ApiWorld, linked_hub
from tests.support.hubworld import build_packages

TAR = "application/x-tar"

SEED = 20261207
# Fuzzed requests per operation and role, besides the coverage phase's own: about 250
# requests per role, and the file runs in about 30 s on two idle cores.
MAX_EXAMPLES = 5
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Uploads are tar archives; Schemathesis sends the bytes it makes up as they are (they
# are refused: a package needs signed files Schemathesis cannot make).
schemathesis.serializer.alias(TAR, "application/octet-stream")


def _no_linkage(hub: object, **_: object) -> None:
    raise UserError("this test hub links nothing more: its one run was made when it was set up")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    packages = build_packages(tmp_path_factory.mktemp("packages"), persons=100)
    home = tmp_path_factory.mktemp("hub") / "home"
    with pytest.MonkeyPatch.context() as mp, linked_hub(home, packages) as linked:
        # Schemathesis starts runs dozens of times and a real one takes seconds: from here
        # on a run fails at once (the route's checks all come before it), which the hub
        # records as the last run's error.
        mp.setattr(service, "run_linkage", _no_linkage)
        yield linked


def _config() -> schemathesis.Config:
    checks: dict[str, Any] = {"enabled": False}
    checks.update({name: {"enabled": True} for name in CHECKS})
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "checks": checks,
            # Each role signs with its own token; made-up ones would only meet 401s.
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
            },
            # Two methods no route has are enough to see that every path answers a
            # problem for them; each further one only adds a hundred more 405s.
            "phases": {
                "stateful": {"enabled": False},
                "coverage": {"unexpected-methods": ["DELETE", "PUT"]},
            },
        }
    )


# The document is the one the service serves (checked below); made without a hub, so that
# the operations are known when tests are collected.
schema = schemathesis.openapi.from_dict(openapi_document(), config=_config())


@schema.parametrize()
@pytest.mark.parametrize("role", list(ROLE_HOLDERS))
def test_the_api_keeps_its_documented_contract(case: Case, world: ApiWorld, role: str) -> None:
    response = case.call_and_validate(headers=world.auth(ROLE_HOLDERS[role], role), app=world.app)
    world.wait_for_linkage()
    if case.method == "PATCH" and response.status_code == 200:
        # An admin changed someone's role: the next requests are still each role's.
        world.restore_roles()


def test_the_hub_is_consistent_after_all_that(world: ApiWorld) -> None:
    hub = world.app.state.hub
    with hub.sessions() as session:
        chain = audit_log.verify(session)
    assert chain.ok, chain.problem
    assert world.restore_roles() == []
    runs = world.client.get("/api/v1/linkage-runs", headers=world.auth("HUB", "admin")).json()
    assert len(runs["runs"]) == 1 and runs["running_since"] is None
    (release,) = world.client.get("/api/v1/releases", headers=world.auth("HUB", "admin")).json()
    assert release["status"] == "approved"
    assert not list((world.home / "tmp").glob("upload-*"))


# -- the document ----------------------------------------------------------------------


def test_the_document_is_the_one_the_service_serves(world: ApiWorld) -> None:
    assert world.client.get("/openapi.json").json() == openapi_document()


def test_every_error_is_documented_as_a_problem() -> None:
    document = openapi_document()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    problem = document["components"]["schemas"]["ProblemDetail"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["required"])
    errors = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    errors += 1
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
                    schema_ref = response["content"]["application/problem+json"]["schema"]
                    assert schema_ref == {"$ref": "#/components/schemas/ProblemDetail"}
            if path.startswith("/api/"):
                assert "401" in operation["responses"], (method, path)
    assert errors > 40


def test_every_model_field_is_described() -> None:
    schemas = openapi_document()["components"]["schemas"]
    for name, model in schemas.items():
        assert model.get("description"), name
        for field, spec in model.get("properties", {}).items():
            assert spec.get("description"), (name, field)


def test_the_upload_body_is_documented_as_a_tar() -> None:
    upload = openapi_document()["paths"]["/api/v1/submissions"]["post"]
    assert list(upload["requestBody"]["content"]) == [TAR]
    assert set(upload["responses"]) >= {"200", "201", "413", "422"}


# -- defects the audit and Schemathesis found --------------------------------------------


def _documented(path: str, method: str) -> set[str]:
    return set(openapi_document()["paths"][path][method]["responses"])


def test_a_body_that_is_not_text_is_a_documented_bad_request(world: ApiWorld) -> None:
    # Schemathesis sent bytes that are not UTF-8: FastAPI answers 400, which was neither
    # documented nor titled (it said "Error").
    me = world.client.get("/api/v1/users/me", headers=world.auth("HUB", "admin")).json()
    r = world.client.patch(
        f"/api/v1/users/{me['id']}/role",
        content=b"\xff\xfe{",
        headers={"Content-Type": "application/json", **world.auth("HUB", "admin")},
    )
    assert r.status_code == 400 and r.json()["title"] == "Bad request"
    assert "400" in _documented("/api/v1/users/{user_id}/role", "patch")


def test_a_second_run_while_one_runs_is_a_conflict(
    world: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It was a 400 Bad request, as if the request were at fault, not the hub's state.
    release = threading.Event()

    def slow_failure(hub: object, **_: object) -> None:
        release.wait(30)
        raise UserError("stopped by the test")

    monkeypatch.setattr(service, "run_linkage", slow_failure)
    operator = world.auth("HUB", "linkage_operator")
    try:
        assert world.client.post("/api/v1/linkage-runs", headers=operator).status_code == 202
        again = world.client.post("/api/v1/linkage-runs", headers=operator)
    finally:
        release.set()
        world.wait_for_linkage()
    assert again.status_code == 409 and "in progress" in again.json()["detail"]


def test_deciding_on_a_decided_release_is_a_conflict(world: ApiWorld) -> None:
    # It was a 400 Bad request, as if the request were at fault, not the release's state.
    (release,) = world.client.get("/api/v1/releases", headers=world.auth("HUB", "admin")).json()
    assert release["status"] == "approved"
    r = world.client.post(
        f"/api/v1/releases/{release['id']}/decisions",
        json={"decision": "reject", "comment": "too late"},
        headers=world.auth("HUB", "output_checker"),
    )
    assert r.status_code == 409 and "only a draft" in r.json()["detail"]


def test_registering_a_registered_body_is_a_conflict(world: ApiWorld) -> None:
    # It was a 400 Bad request, as if the request were malformed.
    r = world.client.post(
        "/api/v1/organisations",
        json={"code": "MOJ-PROBATION", "name": "Probation again", "kind": "central"},
        headers=world.auth("HUB", "admin"),
    )
    assert r.status_code == 409 and "MOJ-PROBATION" in r.json()["detail"]
