"""The two families of errors.

    Exception
     ├── UserError             shown to the user as one line, no traceback, exit code 2
     │    ├── InputFileError   a file that cannot be read or is not what it claims to be
     │    ├── SchemaError      a dataset, column or value the schema does not allow
     │    ├── PackageError     a submission package that fails a check at the hub
     │    └── HubStateError    the hub's home is missing, or lacks what the command needs
     └── anything else         a bug: shown with a traceback, so it can be reported

A UserError message says what is wrong *and* what to do about it. It never contains an
identifier in clear: messages may end up in the hub's logs.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix. The CLI prints ``boldhub: <message>`` and exits 2."""

    exit_code = 2


class InputFileError(UserError):
    """A file that is missing, empty, unreadable or of the wrong format."""


class SchemaError(UserError):
    """An unknown dataset, or columns and values the canonical schema does not allow."""


class PackageError(UserError):
    """A submission package that fails a check (manifest, hash, counts, encoding)."""


class HubStateError(UserError):
    """The hub's home folder is missing, or lacks what the command needs."""
