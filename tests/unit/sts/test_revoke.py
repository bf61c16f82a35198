"""``revoke``: the one revocation path of ``broker sts revoke`` and the TUI — audited first, so
a revocation nobody can account for never takes effect, then honoured by every check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.audit import AuditLog
from broker.errors import AuditError
from broker.sts.revocation import Revocation, RevocationList, revoke
from broker.sts.session_token import SessionClaims

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _claims(session_id: str) -> SessionClaims:
    return SessionClaims(
        kind="assumed-role",
        access_key_id="BRKSEXAMPLE0000001",
        session_id=session_id,
        arn="arn:aws:sts::444444444444:assumed-role/Dev/alice@example.com",
        account="444444444444",
        user="alice",
        issued_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(hours=1),
        role_arn="arn:aws:iam::444444444444:role/Dev",
    )


def test_a_session_revocation_is_audited_then_applies_to_that_session_only(
    broker_home: Path,
) -> None:
    revoke(Revocation("session", "s-1", NOW), data_dir=broker_home)
    rules = RevocationList(broker_home / "sts" / "revocations.json")
    assert rules.is_revoked(_claims("s-1"))
    assert not rules.is_revoked(_claims("s-2"))
    events = list(AuditLog(broker_home / "audit" / "audit.jsonl").events())
    assert [e["eventName"] for e in events] == ["RevokeSessions"]
    assert events[0]["requestParameters"]["value"] == "s-1"


def test_no_audit_no_revocation(broker_home: Path) -> None:
    (broker_home / "audit").write_text("not a directory")  # the audit log cannot be written
    with pytest.raises(AuditError):
        revoke(Revocation("session", "s-1", NOW), data_dir=broker_home)
    assert not (broker_home / "sts" / "revocations.json").exists()
