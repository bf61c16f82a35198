"""Revocations in the shared database: a cutoff written by one replica binds all at once.

IAM's "revoke active sessions" kept as rows: per role or per user "issued before T", and single
sessions by id. ``is_revoked`` asks on every verification. On PostgreSQL it is one indexed
query, so a revocation written through replica B refuses the session on replica A on its next
request. On the embedded SQLite the rules are kept in the process (``StateCache``) while the
database's change counter stands still, and every write of a rule moves it before committing:
a revocation through any process is honoured on the very next request there too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from broker.storage.clock import from_micros, micros
from broker.storage.corrupt_rows import ROW_ERRORS, corrupt_row
from broker.storage.database import Database
from broker.storage.state_cache import StateCache

__all__ = ["RevocationRule", "RuleFacts", "SessionFacts", "SqlRevocations"]

Kind = Literal["role", "user", "session"]


@dataclass(frozen=True)
class RevocationRule:
    """Sessions of ``value`` (role ARN, user, session id) issued before ``before``."""

    kind: Kind
    value: str
    before: datetime


class SessionFacts(Protocol):
    """What a verified session token says (the STS session claims have these fields)."""

    @property
    def session_id(self) -> str: ...

    @property
    def role_arn(self) -> str | None: ...

    @property
    def user(self) -> str | None: ...

    @property
    def issued_at(self) -> datetime: ...


class RuleFacts(Protocol):
    """A rule as the STS revocation module shapes it (``kind``, ``value``, ``before``)."""

    @property
    def kind(self) -> Kind: ...

    @property
    def value(self) -> str: ...

    @property
    def before(self) -> datetime: ...


class SqlRevocations:
    """Revocation rules over a ``Database``."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = database
        self._clock = clock
        self._index: StateCache[None, _RuleIndex] = StateCache(database)

    def add(self, rule: RuleFacts) -> None:
        """Record ``rule`` (idempotent)."""
        with self._db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO revocations (kind, value, before_us, created_us) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, value, before_us) DO NOTHING",
                (rule.kind, rule.value, micros(rule.before), micros(self._clock())),
            )

    def rules(self) -> tuple[RevocationRule, ...]:
        """Every rule, oldest first."""
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT kind, value, before_us FROM revocations ORDER BY created_us, kind, value"
            )
            found = cursor.fetchall()
        return tuple(self._rule(kind, value, before) for kind, value, before in found)

    def _rule(self, kind: Any, value: Any, before: Any) -> RevocationRule:
        if kind not in ("role", "user", "session"):
            raise corrupt_row(self._db, "revocations", "kind")
        try:
            cutoff = from_micros(int(before))
        except ROW_ERRORS:
            raise corrupt_row(self._db, "revocations", "before_us") from None
        return RevocationRule(kind, str(value), cutoff)

    def is_revoked(self, claims: SessionFacts) -> bool:
        """True if a rule covers the session ``claims`` describe (the revocation list's call)."""
        return self.is_revoked_session(
            session_id=claims.session_id,
            role_arn=claims.role_arn,
            user=claims.user,
            issued_at=claims.issued_at,
        )

    def is_revoked_session(
        self, *, session_id: str, role_arn: str | None, user: str | None, issued_at: datetime
    ) -> bool:
        """True if a rule covers this session."""
        version = self._db.state_version()
        if version is not None:
            index = self._index.get(None, self._load_index, version=version)
            return index.covers(session_id, role_arn, user, issued_at)
        issued = micros(issued_at)
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT 1 FROM revocations WHERE (kind = 'session' AND value = ?) "
                "OR (kind = 'role' AND value = ? AND before_us > ?) "
                "OR (kind = 'user' AND value = ? AND before_us > ?) LIMIT 1",
                (session_id, role_arn or "", issued, user or "", issued),
            )
            return cursor.fetchone() is not None

    def _load_index(self) -> _RuleIndex:
        return _RuleIndex(self.rules())


class _RuleIndex:
    """Every rule, indexed for one verification's question (the query's answer, in memory)."""

    def __init__(self, rules: tuple[RevocationRule, ...]) -> None:
        self.sessions = frozenset(r.value for r in rules if r.kind == "session")
        self.latest: dict[tuple[str, str], datetime] = {}
        for rule in rules:
            if rule.kind != "session":
                key = (rule.kind, rule.value)
                if key not in self.latest or rule.before > self.latest[key]:
                    self.latest[key] = rule.before

    def covers(
        self, session_id: str, role_arn: str | None, user: str | None, issued_at: datetime
    ) -> bool:
        if session_id in self.sessions:
            return True
        issued = micros(issued_at)  # compared as stored: whole microseconds
        role_cutoff = self.latest.get(("role", role_arn or ""))
        user_cutoff = self.latest.get(("user", user or ""))
        return any(
            cutoff is not None and micros(cutoff) > issued for cutoff in (role_cutoff, user_cutoff)
        )
