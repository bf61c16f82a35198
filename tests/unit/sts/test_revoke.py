"""``revoke``: the one revocation path of ``broker sts revoke`` and the TUI — audited first, so
a revocation nobody can account for never takes effect, then honoured by every check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.errors import AuditError
from broker.sts.revocation import Revocation, revoke
from broker.sts.session_token import SessionClaims
from tests.state_support import embedded_state

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
    tmp_path: Path,
) -> None:
    state = embedded_state(tmp_path)
    stamped: list[bool] = []
    revoke(Revocation("session", "s-1", NOW), state, recorded=lambda: stamped.append(True))
    rules = state.shared.revocations
    assert rules.is_revoked(_claims("s-1"))
    assert not rules.is_revoked(_claims("s-2"))
    events = list(state.shared.audit.records())
    assert [e["eventName"] for e in events] == ["RevokeSessions"]
    assert events[0]["requestParameters"]["value"] == "s-1"
    assert stamped == [True]


def test_no_audit_no_revocation(tmp_path: Path) -> None:
    state = embedded_state(tmp_path)
    with state.shared.database.transaction() as cursor:  # the chain cannot be written
        cursor.execute("DELETE FROM audit_head")
        cursor.execute("INSERT INTO audit_events (sequence, record, hash) VALUES (1, '{}', 'x')")
    stamped: list[bool] = []
    with pytest.raises(AuditError):
        revoke(Revocation("session", "s-1", NOW), state, recorded=lambda: stamped.append(True))
    assert not state.shared.revocations.is_revoked(_claims("s-1"))
    assert stamped == []
