"""Revoking sessions: per role or per user "issued before T" cutoffs, and single sessions.

This is IAM's "revoke active sessions" (a deny on ``aws:TokenIssueTime`` older than T), kept
as data: every verification asks ``is_revoked`` with the session's claims. Rules live in the
state database (``broker.storage.revocations``), shared by every replica and front end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from broker.sts.session_token import SessionClaims

if TYPE_CHECKING:
    from broker.audit.sink import AuditSink
    from broker.sts.state import StsState

__all__ = [
    "Revocation",
    "RevocationSource",
    "record_revocation",
    "revoke",
]

Kind = Literal["role", "user", "session"]


@dataclass(frozen=True)
class Revocation:
    """One rule: sessions of ``value`` (role ARN, user, session id) issued before ``before``."""

    kind: Kind
    value: str
    before: datetime

    def applies(self, claims: SessionClaims) -> bool:
        if self.kind == "session":
            return claims.session_id == self.value
        subject = claims.role_arn if self.kind == "role" else claims.user
        return subject == self.value and claims.issued_at < self.before

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "before": self.before.isoformat()}


class RevocationSource(Protocol):
    """Revocation rules: ``broker.storage.SqlRevocations`` in the state database."""

    def is_revoked(self, claims: SessionClaims) -> bool: ...

    def add(self, rule: Revocation) -> None: ...


def record_revocation(rule: Revocation, audit: AuditSink, revocations: RevocationSource) -> None:
    """Audit first (fail closed: no audit, no revocation), then record the rule."""
    from broker.audit.admin import audited_change

    audited_change(audit, "RevokeSessions", rule.to_json(), lambda: revocations.add(rule))


def revoke(
    rule: Revocation,
    state: StsState,
    *,
    at_store_clock: bool = False,
    recorded: Callable[[], None] | None = None,
) -> Revocation:
    """Revoke per ``rule`` in the state every verification looks at (every replica).
    ``broker sts revoke`` and the TUI's revoke both come here.

    On a shared (PostgreSQL) database a role or user cutoff is widened by ``MAX_CLOCK_SKEW``
    and, when ``at_store_clock`` (the caller meant "now"), taken from the database's clock
    rather than this machine's: replicas
    stamp issue times with their own clocks, each within that bound of the database's
    (``broker.storage.clock_skew``), so every session minted before the revocation is covered
    however the machines' clocks differ. ``recorded`` runs once the rule is committed (the
    client's cache stamp: ``broker.store.revocation_stamp``).

    Returns:
        the rule as recorded (its cutoff may differ from ``rule``'s as above).

    Raises:
        AuditError: the audit log cannot be written; nothing was revoked.
        StateStoreUnavailableError: the database cannot be reached; nothing was revoked.
    """
    from broker.storage.clock_skew import MAX_CLOCK_SKEW

    shared = state.shared
    # Replicas' clocks differ by up to MAX_CLOCK_SKEW; the embedded SQLite has one clock,
    # this machine's, so its cutoff is the one asked for (sessions minted after it live).
    if rule.kind != "session" and shared.database.dialect != "sqlite":
        before = shared.database.now() if at_store_clock else rule.before
        rule = Revocation(rule.kind, rule.value, before + MAX_CLOCK_SKEW)
    record_revocation(rule, shared.audit, shared.revocations)
    if recorded is not None:
        recorded()
    return rule
