"""The key service's server side: agreement keys, parties, quotas and the audit.

The service holds one OPRF key per agreement, derived with DeriveKeyPair from the
agreement's linkage-key seed, and evaluates blinded elements for the agreement's parties.
It never sees a value or an output: only group elements that are uniformly random to it,
and their count. Its state is one SQLite file in its home folder:

- ``agreements``: the secret scalar, the public element and its fingerprint;
- ``parties``: each party's code, the Argon2 hash of its bearer token (the token itself is
  shown once, when the party is added), its quota and what it has used;
- ``domain_caps``: a party's quota in one domain (its dates of birth, its postcodes, ...)
  and what it has used there, so that a party cannot spend the evaluations its numbers
  need on dates of birth; each domain has its own key (``protocol.domain_secret``), so a
  request cannot claim one domain and carry another's values;
- ``audit``: append-only, one row per request, granted or refused, and per administrator
  action; each row stores SHA-256 of the previous row's hash and its own content, and
  ``audit_head`` the last row, so that an edit, an insertion or a deletion anywhere is
  found by ``verify_audit``.

A request is all or nothing: a batch larger than the party's remaining quota, or holding
one element that is not a group element, is refused whole; nothing is evaluated or
charged, and the refusal is audited. Logs and audit rows carry codes and counts, never
element bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from boldhub import clock
from boldhub.errors import (
    BadToken,
    BatchTooLarge,
    InvalidElement,
    KeyServiceRefused,
    KeyServiceStateError,
    OverQuota,
    UnknownAgreement,
)
from boldhub.keyservice import oprf, protocol
from boldhub.privacy.keys import LinkageKey

DATABASE = "keyservice.sqlite"
GENESIS = "0" * 64
# A party's quota when none is given in process (local_key_function): no limit in practice.
UNLIMITED = 2**62
UNKNOWN_PARTY = "?"

log = logging.getLogger("boldhub.keyservice")

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Argon2id at OWASP's minimum for passwords (19 MiB, 2 passes, 1 lane) rather than
# argon2-cffi's default (64 MiB, 3 passes, 4 lanes): a token is 256 random bits, which no
# work factor needs to protect, and it is verified on every request (0.6 s a request at the
# default on a busy 2-core machine, 0.07 s here).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verified against when a token names no party, so that a wrong token id costs as
    much time as a wrong secret and tells nothing about which ids exist."""
    return _HASHER.hash(secrets.token_urlsafe(32))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS agreements (
    id TEXT PRIMARY KEY,
    secret_key BLOB NOT NULL,
    public_key BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS parties (
    agreement TEXT NOT NULL REFERENCES agreements(id),
    party TEXT NOT NULL,
    token_id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    quota INTEGER NOT NULL CHECK (quota >= 0),
    used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= quota),
    added_at TEXT NOT NULL,
    PRIMARY KEY (agreement, party)
);
CREATE TABLE IF NOT EXISTS domain_caps (
    agreement TEXT NOT NULL,
    party TEXT NOT NULL,
    domain TEXT NOT NULL,
    cap INTEGER NOT NULL CHECK (cap >= 0),
    used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= cap),
    PRIMARY KEY (agreement, party, domain),
    FOREIGN KEY (agreement, party) REFERENCES parties(agreement, party)
);
CREATE TABLE IF NOT EXISTS admin (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token_id TEXT NOT NULL,
    token_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    party TEXT NOT NULL,
    agreement TEXT NOT NULL,
    requested INTEGER NOT NULL,
    granted INTEGER NOT NULL,
    remaining INTEGER,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    domain TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
"""


@dataclass(frozen=True)
class AuditRow:
    """One request or administrator action. ``requested`` and ``granted`` count elements;
    ``remaining`` is the party's quota after it (None when no party is known)."""

    seq: int
    at: str
    party: str
    agreement: str
    requested: int
    granted: int
    remaining: int | None
    outcome: str
    prev_hash: str
    hash: str
    domain: str = ""  # the domain a request named ("" for administrator actions)

    def content(self) -> str:
        fields: list[object] = [
            self.seq,
            self.at,
            self.party,
            self.agreement,
            self.requested,
            self.granted,
            self.remaining,
            self.outcome,
        ]
        # Rows without a domain hash as they did before domains were recorded, so that
        # an audit begun then still verifies.
        if self.domain:
            fields.append(self.domain)
        return json.dumps(fields, separators=(",", ":"))


def _row_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


@dataclass(frozen=True)
class AuditCheck:
    ok: bool
    rows: int
    problem: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """The evaluated elements, in the order of the request, and the quota left."""

    elements: list[bytes]
    remaining: int


def check_code(value: str, what: str) -> str:
    if not _CODE.fullmatch(value):
        raise KeyServiceStateError(
            f"{what} {value!r} is not a code: use letters, digits and . _ : - "
            "(at most 128, starting with a letter or digit)"
        )
    return value


def _new_token(prefix: str) -> tuple[str, str, str]:
    """(token, token id, Argon2 hash): the id finds the row, the hash checks the rest."""
    token_id = secrets.token_hex(6)
    token = f"{prefix}_{token_id}_{secrets.token_urlsafe(32)}"
    return token, token_id, _HASHER.hash(token)


def _token_id(token: str | None, prefix: str) -> str | None:
    parts = (token or "").split("_", 2)
    if len(parts) != 3 or parts[0] != prefix:
        return None
    return parts[1]


def _verify(token_hash: str, token: str) -> bool:
    try:
        return _HASHER.verify(token_hash, token)
    except (VerificationError, InvalidHashError):
        return False


class KeyService:
    """The key service on one SQLite file (``None``: in memory, for tests and the demo).

    Safe to share between threads: database work is serialised by a lock and by SQLite's
    write lock (administrator commands may run in another process), while the group
    arithmetic of a request runs outside both.
    """

    def __init__(self, database: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            ":memory:" if database is None else str(database),
            timeout=30,
            isolation_level=None,
            check_same_thread=False,
        )
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(audit)")}
        if "domain" not in columns:  # a service begun before domains were recorded
            self._db.execute("ALTER TABLE audit ADD COLUMN domain TEXT NOT NULL DEFAULT ''")

    @classmethod
    def open(cls, home: Path, *, create: bool = False) -> KeyService:
        """The service whose state is in ``home``; ``create`` makes the folder (0700) and
        the database (0600) when they are missing."""
        path = home / DATABASE
        if not path.is_file():
            if not create:
                raise KeyServiceStateError(
                    f"{home} holds no key service; start one with "
                    f"`boldhub keyservice add-key --home {home} ...`"
                )
            home.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Created owner-only before SQLite opens it: it will hold secret keys.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        return cls(path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding SQLite's write lock from its first statement, so
        that a quota is read and charged without another request in between."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- the audit ---------------------------------------------------------------------

    def _append(
        self,
        db: sqlite3.Connection,
        *,
        party: str,
        agreement: str,
        requested: int,
        granted: int,
        remaining: int | None,
        outcome: str,
        domain: str = "",
    ) -> None:
        last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        row = AuditRow(
            seq=seq,
            at=clock.now().isoformat(),
            party=party,
            agreement=agreement,
            requested=requested,
            granted=granted,
            remaining=remaining,
            outcome=outcome,
            prev_hash=prev,
            hash="",
            domain=domain,
        )
        digest = _row_hash(prev, row.content())
        db.execute(
            "INSERT INTO audit (seq, at, party, agreement, requested, granted, remaining, "
            "outcome, prev_hash, hash, domain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                row.at,
                party,
                agreement,
                requested,
                granted,
                remaining,
                outcome,
                prev,
                digest,
                domain,
            ),
        )
        # Kept apart from the rows, so that deleting the newest rows (which leaves a
        # valid, shorter chain) is found too.
        db.execute("INSERT OR REPLACE INTO audit_head VALUES (1, ?, ?)", (seq, digest))
        log.info(
            "audit seq=%d party=%s agreement=%s domain=%s requested=%d granted=%d outcome=%s",
            seq,
            party,
            agreement,
            domain or "-",
            requested,
            granted,
            outcome,
        )

    def _administered(
        self,
        db: sqlite3.Connection,
        agreement: str,
        party: str,
        remaining: int | None,
        outcome: str,
        domain: str = "",
    ) -> None:
        """Audit an administrator's action (nothing requested or granted): on a party, or
        on the service itself (party "admin", agreement "-")."""
        self._append(
            db,
            party=party,
            agreement=agreement,
            requested=0,
            granted=0,
            remaining=remaining,
            outcome=outcome,
            domain=domain,
        )

    def audit(self) -> list[AuditRow]:
        rows = self._read(
            "SELECT seq, at, party, agreement, requested, granted, remaining, outcome, "
            "prev_hash, hash, domain FROM audit ORDER BY seq"
        )
        return [AuditRow(*row) for row in rows]

    def verify_audit(self) -> AuditCheck:
        """Whether every row is unchanged, in place, and none was added or removed."""
        rows = self.audit()
        head = self._read("SELECT seq, hash FROM audit_head")
        prev = GENESIS
        for expected, row in enumerate(rows, start=1):
            if row.seq != expected:
                return AuditCheck(False, len(rows), f"row {expected} is missing")
            if row.prev_hash != prev:
                return AuditCheck(
                    False, len(rows), f"row {row.seq} does not follow row {expected - 1}"
                )
            if _row_hash(prev, row.content()) != row.hash:
                return AuditCheck(False, len(rows), f"row {row.seq} was edited")
            prev = row.hash
        recorded = (int(head[0][0]), str(head[0][1])) if head else (0, GENESIS)
        if recorded != (len(rows), prev):
            return AuditCheck(
                False, len(rows), f"rows after {len(rows)} were deleted (head is row {recorded[0]})"
            )
        return AuditCheck(True, len(rows))

    # -- administration ----------------------------------------------------------------

    def add_key(self, agreement: str, key: LinkageKey) -> str:
        """Hold ``agreement``'s OPRF key, derived from the linkage key's seed; returns the
        key's fingerprint (the key file's, as `boldhub keys fingerprint` prints it). A key
        is never replaced (every output would change), nor shared by two agreements (their
        outputs would link)."""
        check_code(agreement, "agreement")
        pair = oprf.derive_key_pair(key.secret, protocol.key_info(agreement))
        fingerprint = protocol.fingerprint(pair.public)
        with self._write() as db:
            if db.execute("SELECT 1 FROM agreements WHERE id = ?", (agreement,)).fetchone():
                raise KeyServiceStateError(
                    f"the key service already holds a key for agreement {agreement}; "
                    "a key is never replaced (every keyed value would change): "
                    "register a new agreement id instead"
                )
            other = db.execute(
                "SELECT id FROM agreements WHERE public_key = ?", (pair.public,)
            ).fetchone()
            if other:
                raise KeyServiceStateError(
                    f"this key is already agreement {other[0]}'s; each agreement needs its "
                    "own key: make one with `boldhub keys create`"
                )
            db.execute(
                "INSERT INTO agreements VALUES (?, ?, ?, ?, ?)",
                (agreement, pair.secret, pair.public, fingerprint, clock.now().isoformat()),
            )
            self._append(
                db,
                party="admin",
                agreement=agreement,
                requested=0,
                granted=0,
                remaining=None,
                outcome=f"key added (fingerprint {fingerprint})",
            )
        return fingerprint

    def add_party(self, agreement: str, party: str, quota: int) -> str:
        """Admit ``party`` to ``agreement`` with ``quota`` evaluations; returns its bearer
        token, which the service does not keep (only its Argon2 hash)."""
        check_code(party, "party")
        _check_quota(quota)
        token, token_id, token_hash = _new_token("bks")
        with self._write() as db:
            self._need_agreement(db, agreement)
            exists = db.execute(
                "SELECT 1 FROM parties WHERE agreement = ? AND party = ?", (agreement, party)
            ).fetchone()
            if exists:
                raise KeyServiceStateError(
                    f"party {party} is already in agreement {agreement}; "
                    "raise its quota with `boldhub keyservice grant`"
                )
            db.execute(
                "INSERT INTO parties VALUES (?, ?, ?, ?, ?, 0, ?)",
                (agreement, party, token_id, token_hash, quota, clock.now().isoformat()),
            )
            self._administered(db, agreement, party, quota, "party added")
        return token

    def grant(self, agreement: str, party: str, quota: int) -> int:
        """Raise ``party``'s quota by ``quota`` evaluations; returns what it has left."""
        _check_quota(quota)
        with self._write() as db:
            remaining = self._need_party(db, agreement, party)
            db.execute(
                "UPDATE parties SET quota = quota + ? WHERE agreement = ? AND party = ?",
                (quota, agreement, party),
            )
            self._administered(db, agreement, party, remaining + quota, f"quota raised by {quota}")
        return remaining + quota

    def set_cap(self, agreement: str, party: str, domain: str, cap: int) -> int:
        """Set ``party``'s quota in ``domain`` to ``cap`` evaluations in all (what it has
        used there counts against it); returns what it has left there."""
        _check_quota(cap)
        problem = protocol.domain_problem(domain)
        if problem is not None:
            raise KeyServiceStateError(problem)
        with self._write() as db:
            self._need_party(db, agreement, party)
            row = db.execute(
                "SELECT used FROM domain_caps WHERE agreement = ? AND party = ? AND domain = ?",
                (agreement, party, domain),
            ).fetchone()
            used = 0 if row is None else int(row[0])
            if cap < used:
                raise KeyServiceStateError(
                    f"party {party} has already used {used} evaluations in {domain}; "
                    f"a cap there must be at least {used}"
                )
            db.execute(
                "INSERT INTO domain_caps (agreement, party, domain, cap, used) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (agreement, party, domain) "
                "DO UPDATE SET cap = excluded.cap",
                (agreement, party, domain, cap, used),
            )
            self._administered(db, agreement, party, cap - used, f"cap set to {cap}", domain=domain)
        return cap - used

    def caps(self, agreement: str, party: str) -> dict[str, tuple[int, int]]:
        """``party``'s caps: domain -> (cap, used)."""
        rows = self._read(
            "SELECT domain, cap, used FROM domain_caps WHERE agreement = ? AND party = ? "
            "ORDER BY domain",
            (agreement, party),
        )
        return {str(d): (int(c), int(u)) for d, c, u in rows}

    def new_admin_token(self) -> str:
        """A new administrator token (for ``GET /v1/audit``); the previous one stops
        working. Shown once: only its hash is kept."""
        token, token_id, token_hash = _new_token("bka")
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO admin VALUES (1, ?, ?)", (token_id, token_hash))
            self._administered(db, "-", "admin", None, "admin token issued")
        return token

    def check_admin(self, token: str | None) -> None:
        """Whether ``token`` is the administrator's; a refusal is audited."""
        rows = self._read("SELECT token_id, token_hash FROM admin")
        token_id = _token_id(token, "bka")
        stored = rows[0] if rows and rows[0][0] == token_id else (None, _dummy_hash())
        if not (_verify(str(stored[1]), token or "") and stored[0] is not None):
            self.refuse(
                "-",
                UNKNOWN_PARTY,
                0,
                BadToken(
                    "this needs the key service's administrator token "
                    "(boldhub keyservice admin-token)"
                ),
                outcome="bad administrator token",
            )

    def read_audit(self, token: str | None) -> tuple[AuditCheck, list[AuditRow]]:
        """The audit, for the administrator: the read is on it too."""
        self.check_admin(token)
        with self._write() as db:
            self._administered(db, "-", "admin", None, "audit read")
        return self.verify_audit(), self.audit()

    # -- what anyone may ask -------------------------------------------------------------

    def public_key(self, agreement: str) -> bytes:
        rows = self._read("SELECT public_key FROM agreements WHERE id = ?", (agreement,))
        if not rows:
            raise UnknownAgreement(_unknown(agreement))
        return bytes(rows[0][0])

    def fingerprint(self, agreement: str) -> str:
        return protocol.fingerprint(self.public_key(agreement))

    def remaining(self, agreement: str, party: str) -> int | None:
        with self._lock:
            return self._remaining(self._db, agreement, party)

    # -- requests ------------------------------------------------------------------------

    def authenticate(self, agreement: str, token: str | None) -> str:
        """The party that ``token`` belongs to in ``agreement``, checked against its Argon2
        hash; a refusal is audited."""
        token_id = _token_id(token, "bks")
        rows = self._read(
            "SELECT a.id, p.party, p.token_hash FROM agreements a LEFT JOIN parties p "
            "ON p.agreement = a.id AND p.token_id = ? WHERE a.id = ?",
            (token_id, agreement),
        )
        if not rows:
            self.refuse(agreement, UNKNOWN_PARTY, 0, UnknownAgreement(_unknown(agreement)))
        party, token_hash = rows[0][1], rows[0][2]
        if not _verify(str(token_hash or _dummy_hash()), token or "") or party is None:
            self.refuse(
                agreement,
                UNKNOWN_PARTY if party is None else str(party),
                0,
                BadToken(
                    f"the token is missing, wrong, or not for agreement {agreement}; "
                    "use the token the key service administrator gave your organisation"
                ),
            )
        return str(party)

    def refuse(
        self,
        agreement: str,
        party: str,
        requested: int,
        error: KeyServiceRefused,
        *,
        outcome: str | None = None,
        domain: str = "",
    ) -> NoReturn:
        """Audit a refusal, then raise it. ``outcome`` names it on the audit (by default,
        its kind); the row has the counts, never the message."""
        with self._write() as db:
            remaining = None if party == UNKNOWN_PARTY else self._remaining(db, agreement, party)
            self._append(
                db,
                party=party,
                agreement=agreement,
                requested=requested,
                granted=0,
                remaining=remaining,
                outcome=f"refused ({error.status}): {outcome or _outcome(error)}",
                domain=domain,
            )
        raise error

    def evaluate(
        self, agreement: str, domain: str, elements: Sequence[bytes], *, token: str | None
    ) -> Evaluation:
        """BlindEvaluate a batch in ``domain`` for the party ``token`` belongs to."""
        return self.evaluate_as(agreement, self.authenticate(agreement, token), domain, elements)

    def evaluate_as(
        self, agreement: str, party: str, domain: str, elements: Sequence[bytes]
    ) -> Evaluation:
        """BlindEvaluate a batch in ``domain`` for ``party``, already authenticated (or
        trusted: a caller in the same process, such as ``local_key_function``). It is
        charged to the party's quota and to its cap in that domain, if it has one."""
        n = len(elements)
        problem = protocol.domain_problem(domain)
        if problem is not None:
            self.refuse(agreement, party, n, KeyServiceRefused(problem), outcome="bad domain")
        if n > protocol.MAX_BATCH:
            self.refuse(agreement, party, n, BatchTooLarge(_too_large(n)), domain=domain)
        with self._lock:
            secret = self._secret(agreement)
            remaining = self._left(self._db, agreement, party, domain)
        if secret is None:
            self.refuse(agreement, party, n, UnknownAgreement(_unknown(agreement)), domain=domain)
        if remaining is None:
            self.refuse(
                agreement,
                party,
                n,
                BadToken(f"party {party} is not in agreement {agreement}"),
                domain=domain,
            )
        # Checked before any arithmetic, so a party over its quota costs the service
        # nothing; checked again below, under the write lock, before anything is charged.
        if n > remaining:
            self.refuse(
                agreement,
                party,
                n,
                OverQuota(_over_quota(party, agreement, n, remaining, domain)),
                domain=domain,
            )
        try:
            evaluated = oprf.blind_evaluate_batch(protocol.domain_secret(secret, domain), elements)
        except InvalidElement as exc:
            self.refuse(
                agreement,
                party,
                n,
                KeyServiceRefused(_invalid(exc.index)),
                outcome=f"invalid element {exc.index}",
                domain=domain,
            )
        with self._write() as db:
            remaining = self._left(db, agreement, party, domain) or 0
            if n <= remaining:
                db.execute(
                    "UPDATE parties SET used = used + ? WHERE agreement = ? AND party = ?",
                    (n, agreement, party),
                )
                db.execute(
                    "UPDATE domain_caps SET used = used + ? "
                    "WHERE agreement = ? AND party = ? AND domain = ?",
                    (n, agreement, party, domain),
                )
                self._append(
                    db,
                    party=party,
                    agreement=agreement,
                    requested=n,
                    granted=n,
                    remaining=remaining - n,
                    outcome="granted",
                    domain=domain,
                )
                return Evaluation(evaluated, remaining - n)
        self.refuse(
            agreement,
            party,
            n,
            OverQuota(_over_quota(party, agreement, n, remaining, domain)),
            domain=domain,
        )

    @classmethod
    def _left(cls, db: sqlite3.Connection, agreement: str, party: str, domain: str) -> int | None:
        """What ``party`` may still ask in ``domain``: its quota left, or its cap there
        left if that is less."""
        total = cls._remaining(db, agreement, party)
        row = db.execute(
            "SELECT cap - used FROM domain_caps WHERE agreement = ? AND party = ? AND domain = ?",
            (agreement, party, domain),
        ).fetchone()
        if total is None or row is None:
            return total
        return min(total, int(row[0]))

    # -- helpers -------------------------------------------------------------------------

    def _secret(self, agreement: str) -> bytes | None:
        row = self._db.execute(
            "SELECT secret_key FROM agreements WHERE id = ?", (agreement,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    @staticmethod
    def _remaining(db: sqlite3.Connection, agreement: str, party: str) -> int | None:
        row = db.execute(
            "SELECT quota - used FROM parties WHERE agreement = ? AND party = ?",
            (agreement, party),
        ).fetchone()
        return None if row is None else int(row[0])

    @classmethod
    def _need_party(cls, db: sqlite3.Connection, agreement: str, party: str) -> int:
        """What ``party`` has left of its quota; an error that says what to do when the
        agreement or the party is not known."""
        cls._need_agreement(db, agreement)
        remaining = cls._remaining(db, agreement, party)
        if remaining is None:
            raise KeyServiceStateError(
                f"party {party} is not in agreement {agreement}; "
                "add it with `boldhub keyservice add-party`"
            )
        return remaining

    @staticmethod
    def _need_agreement(db: sqlite3.Connection, agreement: str) -> None:
        if not db.execute("SELECT 1 FROM agreements WHERE id = ?", (agreement,)).fetchone():
            raise KeyServiceStateError(
                f"the key service holds no key for agreement {agreement}; "
                "add it with `boldhub keyservice add-key`"
            )


def _check_quota(quota: int) -> None:
    if quota < 0 or quota > UNLIMITED:
        raise KeyServiceStateError(f"a quota is a count of evaluations from 0 to {UNLIMITED}")


def _unknown(agreement: str) -> str:
    return f"the key service holds no key for agreement {agreement}; check the agreement id"


def _too_large(n: int) -> str:
    return (
        f"a request may carry at most {protocol.MAX_BATCH} elements, not {n}; send smaller batches"
    )


def _over_quota(party: str, agreement: str, n: int, remaining: int, domain: str) -> str:
    return (
        f"over quota: this request asks for {n} evaluations in {domain} and party {party} "
        f"has {remaining} left there under agreement {agreement}; nothing was evaluated or "
        "charged. Ask the key service administrator to raise the quota (boldhub keyservice "
        "grant, or cap for one domain)"
    )


def _invalid(index: int) -> str:
    return (
        f"element {index} is not a valid ristretto255 element (or is the identity); "
        "nothing was evaluated or charged"
    )


def _outcome(error: KeyServiceRefused) -> str:
    """The audit's short name for a refusal: the row has the counts, not the message."""
    return {
        BadToken: "bad token",
        UnknownAgreement: "unknown agreement",
        BatchTooLarge: "batch too large",
        OverQuota: "over quota",
    }.get(type(error), "malformed request")
