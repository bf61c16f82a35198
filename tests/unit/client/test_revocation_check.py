"""The client's check of cached credentials against the STS's revocation rules, and the stamp
that lets ``credential-process``'s fast path skip it until the rules change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.client.revocation import revocation_check
from broker.minters.base import Credentials
from broker.store.revocation_stamp import (
    NO_LIST,
    UNCHECKABLE,
    may_serve,
    revocation_stamp,
    touch_revocation_stamp,
)
from broker.sts.revocation import Revocation, revoke
from broker.sts.session_token import SessionClaims, sign_session
from broker.sts.state_handle import StateHandle
from tests.state_support import embedded_state

NOW = datetime.now(UTC).replace(microsecond=0)


def _credentials(home: Path, session_id: str, role: str = "Dev") -> Credentials:
    claims = SessionClaims(
        kind="assumed-role",
        access_key_id="BRKSCLIENTCHECK00001",
        session_id=session_id,
        arn=f"arn:aws:sts::444444444444:assumed-role/{role}/someone@example.com",
        account="444444444444",
        user="someone@example.com",
        issued_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(hours=1),
        role_arn=f"arn:aws:iam::444444444444:role/{role}",
    )
    token, secret = sign_session(embedded_state(home).ring, claims)
    return Credentials(claims.access_key_id, secret, token, claims.expires_at)


def _revoke(home: Path, rule: Revocation) -> None:
    """As ``broker sts revoke`` does: the rule into the state, then the stamp."""
    revoke(rule, embedded_state(home), recorded=lambda: touch_revocation_stamp(home))


def test_only_the_revoked_session_is_reported(broker_home: Path) -> None:
    revoked, kept = _credentials(broker_home, "s-1"), _credentials(broker_home, "s-2")
    check = revocation_check(StateHandle(broker_home, None))
    assert not check(revoked)
    _revoke(broker_home, Revocation("session", "s-1", NOW))
    assert check(revoked)
    assert not check(kept)


def test_a_role_cutoff_reports_sessions_issued_before_it(broker_home: Path) -> None:
    dev, ops = _credentials(broker_home, "s-3"), _credentials(broker_home, "s-4", role="Ops")
    _revoke(broker_home, Revocation("role", "arn:aws:iam::444444444444:role/Dev", NOW))
    check = revocation_check(StateHandle(broker_home, None))
    assert check(dev) and not check(ops)


@pytest.mark.parametrize("token", ["opaque", "a.b.c", "x" * 5000])
def test_a_token_that_is_not_one_of_ours_matches_no_rule(broker_home: Path, token: str) -> None:
    _revoke(broker_home, Revocation("session", "s-1", NOW))
    foreign = Credentials("ASIAFOREIGN000000001", "s" * 40, token, NOW + timedelta(hours=1))
    assert not revocation_check(StateHandle(broker_home, None))(foreign)


def test_the_stamp_changes_with_every_revocation_and_is_never_served_from_a_database(
    broker_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert revocation_stamp(broker_home) == NO_LIST
    assert may_serve(NO_LIST, broker_home)
    _revoke(broker_home, Revocation("session", "s-1", NOW))
    first = revocation_stamp(broker_home)
    assert first != NO_LIST and not may_serve(NO_LIST, broker_home)
    _revoke(broker_home, Revocation("session", "s-2", NOW))
    assert revocation_stamp(broker_home) != first and not may_serve(first, broker_home)
    monkeypatch.setenv("BROKER_DATABASE_URL", "postgresql://127.0.0.1/unused")
    assert revocation_stamp(broker_home) == UNCHECKABLE
    assert not may_serve(UNCHECKABLE, broker_home)
