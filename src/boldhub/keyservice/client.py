"""The key service's client: the encoder's ``KeyedFunction`` (``boldhub.privacy.prf``).

``OprfClient.evaluate(domain, values)`` blinds each distinct value, sends the blinded
elements to the key service in batches through a transport, and finalizes what comes
back: the service sees random-looking elements and their count, never a value; the
client never holds the key. Two transports: ``HttpTransport`` for a key service over
HTTP, ``LocalTransport`` for one in the same process (``local_key_function`` builds one
in memory, for the demo and the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import httpx

from boldhub.errors import InvalidElement, KeyServiceError, KeyServiceRefused
from boldhub.keyservice import oprf, protocol
from boldhub.keyservice.service import UNLIMITED, KeyService
from boldhub.privacy.keys import LinkageKey

if TYPE_CHECKING:
    from boldhub.privacy.prf import KeyedFunction


class Transport(Protocol):
    """How a client reaches the key service for one agreement, as one party."""

    def public_key(self) -> bytes:
        """The agreement's public element pkS."""
        ...

    def evaluate(self, domain: str, elements: list[bytes]) -> list[bytes]:
        """BlindEvaluate of each blinded element under ``domain``'s key, in order, at most
        ``MAX_BATCH``."""
        ...


class LocalTransport:
    """A ``KeyService`` in this process. With ``token``, requests are authenticated as
    over HTTP; with ``party`` instead, the caller is trusted to be that party (it holds
    the service, keys included, anyway). Quotas and the audit apply either way."""

    def __init__(
        self,
        service: KeyService,
        agreement: str,
        *,
        token: str | None = None,
        party: str | None = None,
    ) -> None:
        if (token is None) == (party is None):
            raise ValueError("LocalTransport takes a token or a trusted party, not both")
        self.service, self.agreement = service, agreement
        self._token, self._party = token, party

    def public_key(self) -> bytes:
        try:
            return self.service.public_key(self.agreement)
        except KeyServiceRefused as exc:
            raise KeyServiceError(f"the key service refused: {exc.detail}") from exc

    def evaluate(self, domain: str, elements: list[bytes]) -> list[bytes]:
        try:
            if self._party is not None:
                result = self.service.evaluate_as(self.agreement, self._party, domain, elements)
            else:
                result = self.service.evaluate(self.agreement, domain, elements, token=self._token)
        except KeyServiceRefused as exc:
            raise KeyServiceError(f"the key service refused: {exc.detail}") from exc
        return result.elements


class HttpTransport:
    """A key service over HTTP (``boldhub keyservice serve``). ``client`` replaces the
    httpx client (tests pass FastAPI's TestClient)."""

    def close(self) -> None:
        self._client.close()

    def __init__(
        self,
        url: str,
        token: str,
        agreement: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 300.0,
    ) -> None:
        self.url, self.agreement = url.rstrip("/"), agreement
        self._token = token
        self._client = client or httpx.Client(timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        where = f"{self.url}/v1/agreements/{quote(self.agreement, safe='')}/{path}"
        try:
            response = self._client.request(method, where, **kwargs)
        except httpx.HTTPError as exc:
            raise KeyServiceError(
                f"the key service at {self.url} could not be reached ({type(exc).__name__}); "
                "check its address and that it is running"
            ) from exc
        if response.status_code != 200:
            raise KeyServiceError(
                f"the key service refused ({response.status_code}): {_detail(response)}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise KeyServiceError(f"the key service at {self.url} sent no JSON") from exc

    def public_key(self) -> bytes:
        body = self._call("GET", "public-key")
        public = _unhex(body.get("public_key"), "public key")
        if protocol.fingerprint(public) != body.get("fingerprint"):
            raise KeyServiceError("the key service's public key does not match its fingerprint")
        return public

    def evaluate(self, domain: str, elements: list[bytes]) -> list[bytes]:
        body = self._call(
            "POST",
            "evaluate",
            json={"domain": domain, "elements": [e.hex() for e in elements]},
            headers={"Authorization": f"Bearer {self._token}"},
        )
        evaluated = body.get("evaluated")
        if not isinstance(evaluated, list) or len(evaluated) != len(elements):
            raise KeyServiceError("the key service answered with the wrong number of elements")
        return [_unhex(e, "evaluated element") for e in evaluated]


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else response.reason_phrase


def _unhex(value: object, what: str) -> bytes:
    try:
        raw = bytes.fromhex(str(value))
    except ValueError:
        raw = b""
    if len(raw) != oprf.ELEMENT_BYTES:
        raise KeyServiceError(f"the key service sent a malformed {what}")
    return raw


class OprfClient:
    """``KeyedFunction`` over a key service: PRF(agreement key, domain, value), evaluated
    obliviously (RFC 9497, OPRF(ristretto255, SHA-512), mode 0x00).

    Equal values in one call are evaluated once. ``batch_size`` elements go in each
    request; ``workers`` requests are in flight at once (libsodium runs outside the GIL,
    so two workers use two cores). A request the service refuses ends the call with
    ``KeyServiceError``: batches already granted stay charged.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        batch_size: int = protocol.DEFAULT_BATCH,
        workers: int = 1,
    ) -> None:
        if not 1 <= batch_size <= protocol.MAX_BATCH:
            raise ValueError(f"batch_size must be from 1 to {protocol.MAX_BATCH}")
        self.transport, self.batch_size, self.workers = transport, batch_size, max(1, workers)
        self._public_key: bytes | None = None

    @property
    def public_key(self) -> bytes:
        if self._public_key is None:
            self._public_key = self.transport.public_key()
        return self._public_key

    @property
    def fingerprint(self) -> str:
        return protocol.fingerprint(self.public_key)

    def evaluate(self, domain: str, values: Sequence[bytes]) -> list[bytes]:
        unique = list(dict.fromkeys(values))
        inputs = [protocol.prf_input(domain, v) for v in unique]
        chunks = [inputs[i : i + self.batch_size] for i in range(0, len(inputs), self.batch_size)]
        if self.workers == 1 or len(chunks) < 2:
            outputs = [self._chunk(domain, chunk) for chunk in chunks]
        else:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="oprf") as pool:
                outputs = list(pool.map(lambda c: self._chunk(domain, c), chunks))
        by_value = dict(zip(unique, (o for chunk in outputs for o in chunk), strict=True))
        return [by_value[v] for v in values]

    def _chunk(self, domain: str, inputs: list[bytes]) -> list[bytes]:
        blinded = oprf.blind_batch(inputs)
        evaluated = self.transport.evaluate(domain, blinded.elements)
        try:
            finalized = oprf.finalize_batch(inputs, blinded.blinds, evaluated)
        except InvalidElement as exc:
            raise KeyServiceError(
                f"the key service returned an invalid element ({exc.index}); "
                "report this to its administrator"
            ) from exc
        return [f[: protocol.OUTPUT_BYTES] for f in finalized]


def local_key_function(
    key: LinkageKey, agreement_id: str, *, quota: int | None = None
) -> OprfClient:
    """A key service in memory holding ``key`` for ``agreement_id``, with one trusted
    party (quota ``quota``, or no limit), and a client of it: what the demo and the tests
    encode with. Real parties use ``HttpTransport`` and never hold the key."""
    service = KeyService()
    service.add_key(agreement_id, key)
    service.add_party(agreement_id, "local", UNLIMITED if quota is None else quota)
    return OprfClient(LocalTransport(service, agreement_id, party="local"))


if TYPE_CHECKING:
    # mypy checks here that the client is what the encoder expects.
    _IS_A_KEYED_FUNCTION: type[KeyedFunction] = OprfClient
