"""Every exception the package raises on purpose, in three families.

    Exception
     ├── UserError               shown to the user as one line, no traceback, exit code 2
     │    ├── InputFileError     a file that cannot be read or is not what it claims to be
     │    ├── SchemaError        a dataset, column or value the schema does not allow
     │    ├── PackageError       a submission package that fails a check at the hub
     │    │    └── ManifestUnreadable   no manifest, or one that is not JSON
     │    ├── HubStateError      the hub's home is missing, or lacks what the command needs
     │    │    └── DiskFull       the hub's disk filled while storing; nothing was kept
     │    ├── NotAdmitted        what an agreement does not let an organisation submit
     │    ├── UploadTooLarge     an upload over the hub's size limit
     │    ├── NotYours           a package naming another organisation than the uploader's
     │    ├── TooManyAttempts    sign-in paused after repeated wrong passwords
     │    ├── HubUnavailable     a council page with no hub to submit to
     │    ├── SodiumMissing      no libsodium with ristretto255 for the key service
     │    ├── KeyServiceError    the key service refused or was unreachable (its client)
     │    └── KeyServiceStateError  a key service home lacking an agreement or a party
     ├── Refused                 a request a service answers with a refusal page or problem
     │    ├── Denied             the access rules say no; the message names what is needed
     │    ├── Problem            an API answer as an RFC 9457 problem (status, title, detail)
     │    ├── BodyTooLarge       a council page post over the upload limit
     │    ├── CSRFError          a council page post without its session's token
     │    └── KeyServiceRefused  a key service refusal, with its HTTP status (400)
     │         ├── BadToken       401: no token, a wrong one, or another agreement's
     │         ├── UnknownAgreement  404: no key held for the agreement
     │         ├── BatchTooLarge  413: more elements than one request may carry
     │         └── OverQuota      429: more elements than the party's remaining quota
     ├── Declined (ValueError)   an input one path cannot take; its caller handles it, and
     │    │                      the user never sees it as an error
     │    ├── DateError          a cell that is not a date: the row's reason says so
     │    ├── ModelMismatch      a saved model that no longer fits: the run trains anew
     │    ├── NotCompilable      SQL the NumPy scorer cannot evaluate: Splink scores instead
     │    ├── RepeatedYaml       a YAML alias in an agreement file: the loader names its line
     │    └── InvalidElement     bytes that are not a ristretto255 element: the key service
     │                           refuses the batch
     └── anything else           a bug: shown with a traceback, so it can be reported

A UserError message says what is wrong *and* what to do about it. It never contains an
identifier in clear: messages may end up in the hub's logs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal


class UserError(Exception):
    """A problem the user can fix. The CLI prints ``boldhub: <message>`` and exits 2."""

    exit_code = 2


class AgreementInvalid(UserError):
    """An agreement file with problems; ``problems`` holds each (``agreements.load.Problem``),
    shown one to a line as ``FILE:LINE: field: what is wrong and what to do``."""

    def __init__(self, problems: Sequence[Any]) -> None:
        self.problems = list(problems)
        super().__init__(
            "the agreement file has problems; fix each and check again with `boldhub "
            "agreement validate FILE`:\n" + "\n".join(map(str, self.problems))
        )


class AgreementFileError(AgreementInvalid):
    """An agreement file that is not YAML at all; ``problem`` names the line."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        super().__init__([problem])


class InputFileError(UserError):
    """A file that is missing, empty, unreadable or of the wrong format."""


class SchemaError(UserError):
    """An unknown dataset, or columns and values the canonical schema does not allow."""


class PackageError(UserError):
    """A submission package that fails a check (manifest, hash, counts, encoding)."""


class ManifestUnreadable(PackageError):
    """The folder has no manifest, or one that is not JSON at all."""


class HubStateError(UserError):
    """The hub's home folder is missing, or lacks what the command needs."""


class NotAdmitted(UserError):
    """What an agreement does not let an organisation submit. ``check`` names the rule:
    ``agreement`` (party, dataset, signing key) or ``key`` (the linkage key)."""

    def __init__(self, check: Literal["agreement", "key"], message: str) -> None:
        super().__init__(message)
        self.check = check


class DiskFull(HubStateError):
    """The hub's disk filled while it was storing something; nothing was kept."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"the hub's disk is full, so {what} could not be stored and nothing of it was "
            "kept; the hub's team must free space, then send it again"
        )


class UploadTooLarge(UserError):
    """The upload exceeds the hub's size limit of ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the upload is larger than the hub's limit of {limit:,} bytes")


class NotYours(UserError):
    """The package names another organisation than the uploader's."""


class HubUnavailable(UserError):
    """No hub client is configured for this page."""


class Refused(Exception):
    """A request refused by a service: turned into a page or a problem response."""


class Denied(Refused):
    """A refusal: its message names what would be needed."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Problem(Refused):
    """An API answer as an RFC 9457 problem."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


class BodyTooLarge(Refused):
    """A council page post over the upload limit."""


class CSRFError(Refused):
    """A form post without this session's token: refused with 403."""


class Declined(ValueError):
    """An input one path cannot take; the caller takes another or records why."""


class RepeatedYaml(Declined):
    """A mapping or list reached a second time, through a YAML alias, at ``path``."""

    def __init__(self, path: tuple[str | int, ...], where: str) -> None:
        super().__init__(where)
        self.path = path


class DateError(Declined):
    """A cell that is not a date; ``impossible`` when its parts just do not form one."""

    def __init__(self, impossible: bool) -> None:
        super().__init__("impossible" if impossible else "unrecognised")
        self.impossible = impossible


class ModelMismatch(Declined):
    """A saved model whose comparisons are not those of the current model."""


class NotCompilable(Declined):
    """Settings whose SQL linkage/compiled.py cannot evaluate exactly as the engine would."""


# The key service (boldhub.keyservice): its own refusals, what its clients and its
# administrator see, and the one input its cryptography declines.


class SodiumMissing(UserError):
    """No libsodium with ristretto255 (1.0.18 or newer) to run the key service's OPRF."""


class KeyServiceError(UserError):
    """A key service that refused a request or could not be reached, as its client (the
    encoder) reports it: the service's reason and what to do about it."""


class KeyServiceStateError(UserError):
    """A key service home that lacks what the command needs (an agreement, a party), or
    already holds what the command would add."""


class KeyServiceRefused(Refused):
    """A request the key service refuses, answered with HTTP ``status``; the refusal is on
    the service's audit. The base class is a malformed request (400)."""

    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadToken(KeyServiceRefused):
    """A missing or wrong bearer token, or one for another agreement."""

    status = 401


class UnknownAgreement(KeyServiceRefused):
    """An agreement the key service holds no key for."""

    status = 404


class BatchTooLarge(KeyServiceRefused):
    """More elements in one request than the service evaluates at once."""

    status = 413


class OverQuota(KeyServiceRefused):
    """A batch larger than the party's remaining quota: refused whole."""

    status = 429


class InvalidElement(Declined):
    """Bytes that are not a canonical ristretto255 element, or are the identity; ``index``
    is their place in the batch."""

    def __init__(self, index: int) -> None:
        super().__init__(f"element {index} is not a valid ristretto255 group element")
        self.index = index


class TooManyAttempts(UserError):
    """Sign-in paused for this email, or for this client, after repeated failures."""

    def __init__(self, wait: timedelta) -> None:
        self.minutes = max(1, math.ceil(wait.total_seconds() / 60))
        super().__init__(
            f"Too many failed sign-ins from this device. Wait {self.minutes} minutes and try "
            "again, or ask your hub's admin to set a new password."
        )
