"""The key service in process: quotas are all or nothing, every request is on a hash-chained
audit, tokens are checked, outputs depend on the agreement's key and nothing else, and
nothing a party holds computes them without the service."""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from boldhub.errors import (
    BadToken,
    BatchTooLarge,
    KeyServiceError,
    KeyServiceRefused,
    KeyServiceStateError,
    OverQuota,
    UnknownAgreement,
)
from boldhub.keyservice import oprf, protocol
from boldhub.keyservice.client import LocalTransport, OprfClient, local_key_function
from boldhub.keyservice.service import DATABASE, KeyService
from boldhub.privacy.keys import LinkageKey
from boldhub.privacy.prf import KeyedFunction
from tests.unit.test_architecture import GRAPH, _room

KEY = LinkageKey(bytes(range(32)))
OTHER_KEY = LinkageKey(bytes(range(1, 33)))
THIRD_KEY = LinkageKey(bytes(range(2, 34)))
AGREEMENT = "homelessness-pilot-2026"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "ks"


@pytest.fixture
def service(home: Path) -> KeyService:
    svc = KeyService.open(home, create=True)
    svc.add_key(AGREEMENT, KEY)
    return svc


def _elements(n: int) -> list[bytes]:
    return oprf.blind_batch([f"v{i}".encode() for i in range(n)]).elements


def test_a_batch_over_the_remaining_quota_is_refused_whole(service: KeyService) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 10)
    assert len(service.evaluate(AGREEMENT, "dob-salt", _elements(6), token=token).elements) == 6
    with pytest.raises(OverQuota) as refused:
        service.evaluate(AGREEMENT, "dob-salt", _elements(5), token=token)
    assert refused.value.status == 429
    assert "has 4 left" in refused.value.detail
    assert "administrator" in refused.value.detail
    assert service.remaining(AGREEMENT, "E08000025") == 4  # nothing charged
    assert service.evaluate(AGREEMENT, "dob-salt", _elements(4), token=token).remaining == 0
    last = service.audit()[-2]
    assert (last.requested, last.granted, last.remaining) == (5, 0, 4)
    assert last.outcome == "refused (429): over quota"


def test_two_requests_at_once_cannot_both_spend_the_last_of_a_quota(service: KeyService) -> None:
    service.add_party(AGREEMENT, "E08000025", 10)
    batches = [_elements(6), _elements(6)]
    results: list[str] = []

    def ask(batch: list[bytes]) -> None:
        try:
            service.evaluate_as(AGREEMENT, "E08000025", "dob-salt", batch)
            results.append("granted")
        except OverQuota:
            results.append("refused")

    threads = [threading.Thread(target=ask, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["granted", "refused"]
    assert service.remaining(AGREEMENT, "E08000025") == 4


def test_every_request_granted_or_refused_is_one_audit_row(service: KeyService) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 5)
    before = len(service.audit())
    service.evaluate(AGREEMENT, "dob-salt", _elements(2), token=token)
    refusals: list[type[KeyServiceRefused]] = []
    for call in (
        lambda: service.evaluate(AGREEMENT, "dob-salt", _elements(1), token=token + "x"),
        lambda: service.evaluate(AGREEMENT, "dob-salt", _elements(1), token=None),
        lambda: service.evaluate("no-such-agreement", "dob-salt", _elements(1), token=token),
        lambda: service.evaluate(AGREEMENT, "dob-salt", _elements(4), token=token),
        lambda: service.evaluate(AGREEMENT, "dob-salt", [bytes(32)], token=token),
        lambda: service.evaluate_as(
            AGREEMENT, "E08000025", "dob-salt", [b""] * (protocol.MAX_BATCH + 1)
        ),
    ):
        with pytest.raises(KeyServiceRefused) as refused:
            call()
        refusals.append(type(refused.value))
    assert refusals == [
        BadToken,
        BadToken,
        UnknownAgreement,
        OverQuota,
        KeyServiceRefused,
        BatchTooLarge,
    ]
    rows = service.audit()[before:]
    assert [r.outcome for r in rows] == [
        "granted",
        "refused (401): bad token",
        "refused (401): bad token",
        "refused (404): unknown agreement",
        "refused (429): over quota",
        "refused (400): invalid element 0",
        "refused (413): batch too large",
    ]
    assert [r.party for r in rows] == [
        "E08000025",
        "E08000025",
        "?",
        "?",
        "E08000025",
        "E08000025",
        "E08000025",
    ]
    assert [r.granted for r in rows] == [2, 0, 0, 0, 0, 0, 0]
    assert service.remaining(AGREEMENT, "E08000025") == 3
    assert service.verify_audit().ok


def test_an_invalid_element_is_refused_with_its_place_and_nothing_is_charged(
    service: KeyService,
) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 100)
    batch = _elements(3)
    batch[1] = bytes([0xFF] * 31 + [0x7F])
    with pytest.raises(KeyServiceRefused, match="element 1 is not a valid ristretto255") as refused:
        service.evaluate(AGREEMENT, "dob-salt", batch, token=token)
    assert refused.value.status == 400
    assert service.remaining(AGREEMENT, "E08000025") == 100


def _tamper(home: Path, *statements: str) -> None:
    """What someone with the database file could do: the triggers do not stop them."""
    db = sqlite3.connect(home / DATABASE)
    db.executescript(
        "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + "".join(statements)
    )
    db.close()


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE audit SET requested = 1 WHERE seq = 3;", "row 3 was edited"),
        ("UPDATE audit SET outcome = 'granted' WHERE seq = 4;", "row 4 was edited"),
        ("DELETE FROM audit WHERE seq = 2;", "row 2 is missing"),
        ("DELETE FROM audit WHERE seq = 5;", "rows after 4 were deleted"),
        (
            "UPDATE audit SET seq = 9 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 4;"
            "UPDATE audit SET seq = 4 WHERE seq = 9;",
            "row 4 does not follow row 3",
        ),
    ],
)
def test_the_hash_chain_finds_an_edit_a_deletion_or_a_reordering(
    home: Path, service: KeyService, statement: str, problem: str
) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 5)
    service.evaluate(AGREEMENT, "dob-salt", _elements(2), token=token)
    with pytest.raises(OverQuota):
        service.evaluate(AGREEMENT, "dob-salt", _elements(9), token=token)
    service.evaluate(AGREEMENT, "dob-salt", _elements(1), token=token)
    assert service.verify_audit().ok and len(service.audit()) == 5
    _tamper(home, statement)
    check = KeyService.open(home).verify_audit()
    assert not check.ok
    assert check.problem is not None and problem in check.problem


def test_the_audit_is_append_only_in_the_database_too(home: Path, service: KeyService) -> None:
    db = sqlite3.connect(home / DATABASE)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET party = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    db.close()


def test_a_wrong_token_or_another_agreements_is_refused(service: KeyService) -> None:
    service.add_key("other-agreement", OTHER_KEY)
    token = service.add_party(AGREEMENT, "E08000025", 5)
    other = service.add_party("other-agreement", "E08000025", 5)
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), other, "", "bks_x_y", "Bearer"):
        with pytest.raises(BadToken):
            service.authenticate(AGREEMENT, bad)
    assert service.authenticate(AGREEMENT, token) == "E08000025"


def test_tokens_are_kept_only_as_argon2_hashes(home: Path, service: KeyService) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 5)
    admin = service.new_admin_token()
    service.evaluate(AGREEMENT, "dob-salt", _elements(1), token=token)
    stored = (home / DATABASE).read_bytes()
    for secret in (token, admin):
        assert secret.encode() not in stored
        assert secret.split("_", 2)[2].encode() not in stored
    hashes = sqlite3.connect(home / DATABASE).execute("SELECT token_hash FROM parties").fetchall()
    assert hashes[0][0].startswith("$argon2id$")
    service.check_admin(admin)
    with pytest.raises(BadToken):
        service.check_admin(token)


def test_the_service_logs_counts_never_element_bytes(
    service: KeyService, caplog: pytest.LogCaptureFixture
) -> None:
    token = service.add_party(AGREEMENT, "E08000025", 5)
    batch = _elements(3)
    with caplog.at_level(logging.DEBUG, logger="boldhub"):
        result = service.evaluate(AGREEMENT, "dob-salt", batch, token=token)
    logged = caplog.text
    assert "requested=3" in logged
    for element in batch + result.elements:
        assert element.hex() not in logged
        assert element.hex()[:16] not in logged


def test_database_and_home_are_owner_only(home: Path, service: KeyService) -> None:
    assert (home / DATABASE).stat().st_mode & 0o077 == 0
    assert home.stat().st_mode & 0o077 == 0


def test_administration_refuses_what_makes_no_sense(service: KeyService) -> None:
    with pytest.raises(KeyServiceStateError, match="never replaced"):
        service.add_key(AGREEMENT, OTHER_KEY)
    with pytest.raises(KeyServiceStateError, match="already agreement homelessness"):
        service.add_key("another-agreement", KEY)
    with pytest.raises(KeyServiceStateError, match="no key for agreement"):
        service.add_party("nope", "E08000025", 5)
    service.add_party(AGREEMENT, "E08000025", 5)
    with pytest.raises(KeyServiceStateError, match="already in agreement"):
        service.add_party(AGREEMENT, "E08000025", 5)
    with pytest.raises(KeyServiceStateError, match="not in agreement"):
        service.grant(AGREEMENT, "E09000001", 5)
    with pytest.raises(KeyServiceStateError, match="quota"):
        service.grant(AGREEMENT, "E08000025", -1)
    with pytest.raises(KeyServiceStateError, match="not a code"):
        service.add_party(AGREEMENT, "bad party/../", 5)
    assert service.grant(AGREEMENT, "E08000025", 7) == 12


def test_a_missing_home_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(KeyServiceStateError, match="holds no key service"):
        KeyService.open(tmp_path / "nothing")


# -- what the encoder sees ---------------------------------------------------------------


def _direct(key: LinkageKey, agreement: str, domain: str, value: bytes) -> bytes:
    """The PRF as only the key's holder can compute it."""
    pair = oprf.derive_key_pair(key.secret, protocol.key_info(agreement))
    secret = protocol.domain_secret(pair.secret, domain)
    return oprf.evaluate(secret, protocol.prf_input(domain, value))[:32]


def test_the_client_gives_the_prf_of_the_agreements_key(service: KeyService) -> None:
    service.add_party(AGREEMENT, "E08000025", 100)
    client: KeyedFunction = OprfClient(LocalTransport(service, AGREEMENT, party="E08000025"))
    values = [b"SMITH", b"JONES", b""]
    outputs = client.evaluate("surname", values)
    assert outputs == [_direct(KEY, AGREEMENT, "surname", v) for v in values]
    assert all(len(o) == 32 for o in outputs)
    assert client.fingerprint == protocol.fingerprint(service.public_key(AGREEMENT))
    assert client.fingerprint == service.fingerprint(AGREEMENT) == KEY.fingerprint
    assert len(client.fingerprint) == 32


def test_two_parties_of_one_agreement_get_equal_outputs_other_agreements_do_not(
    service: KeyService,
) -> None:
    service.add_key("probation-2026", THIRD_KEY)
    service.add_key("victims-2026", OTHER_KEY)
    tokens = {p: service.add_party(AGREEMENT, p, 10) for p in ("E08000025", "MOJ-PROBATION")}
    for agreement in ("probation-2026", "victims-2026"):
        service.add_party(agreement, "E08000025", 10)
    values = [b"1980-02-29", b"SW1A 1AA"]
    a, b = (
        OprfClient(LocalTransport(service, AGREEMENT, token=t)).evaluate("dob", values)
        for t in tokens.values()
    )
    assert a == b
    others = [
        OprfClient(LocalTransport(service, ag, party="E08000025")).evaluate("dob", values)
        for ag in ("probation-2026", "victims-2026")
    ]
    assert all(set(o).isdisjoint(a) for o in others)
    assert others[0] != others[1]
    # And the domain separates: the same value in another field is another output.
    c = OprfClient(LocalTransport(service, AGREEMENT, token=tokens["E08000025"])).evaluate(
        "postcode", values
    )
    assert set(c).isdisjoint(a)


def test_what_a_party_holds_does_not_compute_the_outputs(service: KeyService) -> None:
    """A party has the public key, its token, the protocol's constants and its own values.
    Every keyed function built from those alone misses the service's output: the output
    is the PRF of the secret scalar, which only the service holds."""
    token = service.add_party(AGREEMENT, "E08000025", 10)
    client = OprfClient(LocalTransport(service, AGREEMENT, token=token))
    value = b"SMITH"
    output = client.evaluate("surname", [value])[0]
    x = protocol.prf_input("surname", value)
    public = service.public_key(AGREEMENT)
    element = oprf.hash_to_group(x)
    from_token = oprf.derive_key_pair(hashlib.sha256(token.encode()).digest(), b"")
    from_public = oprf.derive_key_pair(
        hashlib.sha256(public).digest(), protocol.key_info(AGREEMENT)
    )
    attempts = {
        "HMAC-SHA256 keyed with pkS": hmac.new(public, x, hashlib.sha256).digest(),
        "HMAC-SHA256 keyed with the token": hmac.new(token.encode(), x, hashlib.sha256).digest(),
        "SHA-512 of pkS and the input": hashlib.sha512(public + x).digest(),
        "Finalize with pkS as the unblinded element": oprf._finalize_hash(x, public),
        "Finalize with H(x) unkeyed": oprf._finalize_hash(x, element),
        "Finalize with H(x) + pkS's bytes hashed": oprf._finalize_hash(
            x, hashlib.sha256(element + public).digest()
        ),
        "an OPRF key derived from the token": oprf.evaluate(from_token.secret, x),
        "an OPRF key derived from pkS": oprf.evaluate(from_public.secret, x),
        "the fingerprint as a key": hmac.new(
            service.fingerprint(AGREEMENT).encode(), x, hashlib.sha256
        ).digest(),
    }
    for name, attempt in attempts.items():
        assert attempt[:32] != output, name
    # Only the secret scalar, which stays in the service's database, gives it.
    assert _direct(KEY, AGREEMENT, "surname", value) == output


def test_equal_values_cost_one_evaluation() -> None:
    client = local_key_function(KEY, AGREEMENT, quota=3)
    values = [b"A", b"B", b"A", b"C", b"B", b"A"]
    outputs = client.evaluate("name", values)
    assert outputs[0] == outputs[2] == outputs[5] and outputs[1] == outputs[4]
    assert len(set(outputs)) == 3
    with pytest.raises(KeyServiceError, match="over quota"):
        client.evaluate("name", [b"D"])


def test_batches_and_workers_do_not_change_the_outputs() -> None:
    values = [f"value {i}".encode() for i in range(50)]
    expected = local_key_function(KEY, AGREEMENT).evaluate("d", values)
    client = local_key_function(KEY, AGREEMENT)
    client.batch_size, client.workers = 7, 2
    assert client.evaluate("d", values) == expected
    assert client.evaluate("d", []) == []


def test_a_domain_with_a_zero_character_is_refused() -> None:
    with pytest.raises(ValueError, match="zero character"):
        local_key_function(KEY, AGREEMENT).evaluate("a\x00b", [b"x"])


def test_the_keyservice_stays_out_of_the_hub_and_the_council() -> None:
    """The rule test_architecture.py would hold for a room of its own: the key service
    runs apart from the hub and the councils, and the encoder's side (privacy) knows it
    through the KeyedFunction protocol (and the key file's fingerprint)."""
    wrong = sorted(
        f"{a} imports {b}"
        for a, deps in GRAPH.items()
        for b in deps
        if (_room(a) == "keyservice" and _room(b) in {"hub", "outcomes", "council", "cli"})
        # The key file names its key as the key service does (privacy/keys.py); nothing
        # else of privacy depends on the service.
        or (_room(a) == "privacy" and a != "boldhub.privacy.keys" and _room(b) == "keyservice")
    )
    assert not wrong, wrong


# -- quotas per domain -------------------------------------------------------------------


def test_a_cap_in_one_domain_refuses_past_it_and_leaves_the_others(service: KeyService) -> None:
    token = service.add_party(AGREEMENT, "MOJ-PROBATION", 100)
    assert service.set_cap(AGREEMENT, "MOJ-PROBATION", "dob-salt", 5) == 5
    client = OprfClient(LocalTransport(service, AGREEMENT, token=token))
    client.evaluate("dob-salt", [f"1980-01-0{i}".encode() for i in range(1, 5)])
    with pytest.raises(KeyServiceError, match=r"over quota.*in dob-salt.*has 1 left there"):
        client.evaluate("dob-salt", [b"1981-01-01", b"1981-01-02"])
    # The numbers' evaluations are not the dates of birth's: the party's quota still holds.
    assert len(client.evaluate("pnc", [f"{i}".encode() for i in range(20)])) == 20
    assert service.caps(AGREEMENT, "MOJ-PROBATION") == {"dob-salt": (5, 4)}
    rows = [r for r in service.audit() if r.party == "MOJ-PROBATION"]
    assert [(r.domain, r.requested, r.outcome) for r in rows[-3:]] == [
        ("dob-salt", 4, "granted"),
        ("dob-salt", 2, "refused (429): over quota"),
        ("pnc", 20, "granted"),
    ]
    assert service.verify_audit().ok
    with pytest.raises(KeyServiceStateError, match="at least 4"):
        service.set_cap(AGREEMENT, "MOJ-PROBATION", "dob-salt", 3)


def test_a_request_cannot_claim_another_domain_to_escape_its_cap(service: KeyService) -> None:
    """Each domain has its own key: dates of birth sent as 'pnc' give outputs that match
    no date of birth's, so a cap on dob-salt cannot be dodged by naming another domain."""
    service.add_party(AGREEMENT, "E08000025", 100)
    values = [b"1980-01-01", b"1980-01-02"]
    client = OprfClient(LocalTransport(service, AGREEMENT, party="E08000025"))
    honest = client.evaluate("dob-salt", values)
    assert honest == [_direct(KEY, AGREEMENT, "dob-salt", v) for v in values]
    # The blinded elements of dob-salt's inputs, sent as a pnc request.
    blinded = oprf.blind_batch([protocol.prf_input("dob-salt", v) for v in values])
    evaluated = service.evaluate_as(AGREEMENT, "E08000025", "pnc", blinded.elements).elements
    dodged = oprf.finalize_batch(
        [protocol.prf_input("dob-salt", v) for v in values], blinded.blinds, evaluated
    )
    assert all(d[:32] != h for d, h in zip(dodged, honest, strict=True))


def test_a_request_without_a_valid_domain_is_refused_and_audited(service: KeyService) -> None:
    service.add_party(AGREEMENT, "E08000025", 10)
    with pytest.raises(KeyServiceRefused, match="lower-case letters"):
        service.evaluate_as(AGREEMENT, "E08000025", "DOB salt", _elements(1))
    assert service.audit()[-1].outcome == "refused (400): bad domain"
    assert service.remaining(AGREEMENT, "E08000025") == 10
