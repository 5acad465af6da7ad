"""Every exception the package raises on purpose, in three families.

    Exception
     ├── UserError               shown to the user as one line, no traceback, exit code 2
     │    ├── InputFileError     a file that cannot be read or is not what it claims to be
     │    ├── SchemaError        a dataset, column or value the schema does not allow
     │    ├── PackageError       a submission package that fails a check at the hub
     │    │    └── ManifestUnreadable   no manifest, or one that is not JSON
     │    ├── HubStateError      the hub's home is missing, or lacks what the command needs
     │    ├── NotAdmitted        what an agreement does not let an organisation submit
     │    ├── UploadTooLarge     an upload over the hub's size limit
     │    ├── NotYours           a package naming another organisation than the uploader's
     │    └── HubUnavailable     a council page with no hub to submit to
     ├── Refused                 a request a service answers with a refusal page or problem
     │    ├── Denied             the access rules say no; the message names what is needed
     │    ├── Problem            an API answer as an RFC 9457 problem (status, title, detail)
     │    ├── BodyTooLarge       a council page post over the upload limit
     │    └── CSRFError          a council page post without its session's token
     ├── Declined (ValueError)   an input one path cannot take; its caller handles it, and
     │    │                      the user never sees it as an error
     │    ├── DateError          a cell that is not a date: the row's reason says so
     │    ├── ModelMismatch      a saved model that no longer fits: the run trains anew
     │    └── NotCompilable      SQL the NumPy scorer cannot evaluate: Splink scores instead
     └── anything else           a bug: shown with a traceback, so it can be reported

A UserError message says what is wrong *and* what to do about it. It never contains an
identifier in clear: messages may end up in the hub's logs.
"""

from __future__ import annotations

from typing import Literal


class UserError(Exception):
    """A problem the user can fix. The CLI prints ``boldhub: <message>`` and exits 2."""

    exit_code = 2


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


class UploadTooLarge(UserError):
    """The upload exceeds the hub's size limit."""


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


class DateError(Declined):
    """A cell that is not a date; ``impossible`` when its parts just do not form one."""

    def __init__(self, impossible: bool) -> None:
        super().__init__("impossible" if impossible else "unrecognised")
        self.impossible = impossible


class ModelMismatch(Declined):
    """A saved model whose comparisons are not those of the current model."""


class NotCompilable(Declined):
    """Settings whose SQL linkage/compiled.py cannot evaluate exactly as the engine would."""
