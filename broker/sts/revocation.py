"""Revoking sessions: per role or per user "issued before T" cutoffs, and single sessions.

This is IAM's "revoke active sessions" (a deny on ``aws:TokenIssueTime`` older than T), kept
as data: every verification asks ``is_revoked`` with the session's claims. Rules live in
``<data>/sts/revocations.json`` (0600), shared by every replica reading that directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from broker.errors import ConfigError
from broker.private_files import PrivateFiles
from broker.sts.session_token import SessionClaims

if TYPE_CHECKING:
    from broker.audit.sink import AuditSink

__all__ = [
    "Revocation",
    "RevocationList",
    "RevocationSource",
    "default_revocation_file",
    "record_revocation",
    "revoke",
]

_files = PrivateFiles(ConfigError)

Kind = Literal["role", "user", "session"]


def default_revocation_file() -> Path:
    from broker.config.loader import data_dir

    return data_dir() / "sts" / "revocations.json"


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
    """Revocation rules: this file list, or ``broker.storage.SqlRevocations`` shared by
    replicas."""

    def is_revoked(self, claims: SessionClaims) -> bool: ...

    def add(self, rule: Revocation) -> None: ...


class RevocationList:
    """The rules file, re-read only when it changes (one ``stat`` per check)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_revocation_file()
        self._stamp: tuple[int, int] | None = None
        self._rules: tuple[Revocation, ...] = ()

    def rules(self) -> tuple[Revocation, ...]:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return ()
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp != self._stamp:
            raw = _files.read_json(self.path, [])
            self._rules = tuple(
                Revocation(item["kind"], item["value"], datetime.fromisoformat(item["before"]))
                for item in raw
            )
            self._stamp = stamp
        return self._rules

    def is_revoked(self, claims: SessionClaims) -> bool:
        return any(rule.applies(claims) for rule in self.rules())

    def add(self, rule: Revocation) -> None:
        with _files.locked(self.path):
            current = _files.read_json(self.path, [])
            _files.write_json(self.path, [*current, rule.to_json()])


def record_revocation(rule: Revocation, audit: AuditSink, revocations: RevocationSource) -> None:
    """Audit first (fail closed: no audit, no revocation), then record the rule."""
    import uuid

    from broker.audit import cloudtrail_event

    audit.append(
        cloudtrail_event(
            "RevokeSessions",
            user_identity={"type": "BrokerAdmin"},
            request_id=uuid.uuid4().hex,
            request_parameters=rule.to_json(),
            event_source="broker.local",
            event_type="BrokerAdminCall",
        )
    )
    revocations.add(rule)


def revoke(
    rule: Revocation, *, data_dir: Path | None = None, at_store_clock: bool = False
) -> Revocation:
    """Revoke per ``rule`` where every verification looks: the shared-state database with
    ``BROKER_DATABASE_URL`` (every replica), else ``data_dir``'s audit log and rules file.
    ``broker sts revoke`` and the TUI's revoke both come here.

    With the database, a role or user cutoff is widened by ``MAX_CLOCK_SKEW`` and, when
    ``at_store_clock`` (the caller meant "now"), taken from the database's clock rather than
    this machine's: replicas stamp issue times with their own clocks, each within that bound of
    the database's (``broker.storage.clock_skew``), so every session minted before the
    revocation is covered however the machines' clocks differ.

    Returns:
        the rule as recorded (its cutoff may differ from ``rule``'s as above).

    Raises:
        AuditError: the audit log cannot be written; nothing was revoked.
        StateStoreUnavailableError: the database cannot be reached; nothing was revoked.
    """
    import os

    if os.environ.get("BROKER_DATABASE_URL"):
        from broker.storage.clock_skew import MAX_CLOCK_SKEW
        from broker.storage.shared_state import open_shared_state

        state = open_shared_state(pool_size=1)
        try:
            if rule.kind != "session":
                before = state.database.now() if at_store_clock else rule.before
                rule = Revocation(rule.kind, rule.value, before + MAX_CLOCK_SKEW)
            record_revocation(rule, state.audit, state.revocations)
        finally:
            state.close()
        return rule
    from broker.audit import AuditLog

    record_revocation(
        rule,
        AuditLog(data_dir / "audit" / "audit.jsonl" if data_dir else None),
        RevocationList(data_dir / "sts" / "revocations.json" if data_dir else None),
    )
    return rule
