"""The audit view over a real hash-chained log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broker.audit import cloudtrail_event
from broker.storage.audit_chain import SqlAuditLog
from broker.tui.screens.audit import AuditScreen
from tests.functional.screen_text import flat_text
from tests.state_support import embedded_state

pytestmark = pytest.mark.anyio

ROLE = "arn:aws:iam::111122223333:role/Developer"


def _write(home) -> SqlAuditLog:
    log = embedded_state(home).shared.audit
    for n, (name, user, error) in enumerate(
        [("AssumeRole", "alice", None), ("GetSessionToken", "bob", "AccessDenied")]
    ):
        log.append(
            cloudtrail_event(
                name,
                user_identity={"type": "IAMUser", "userName": user},
                request_id=f"req-{n}",
                request_parameters={"roleArn": ROLE} if name == "AssumeRole" else {},
                error_code=error,
                now=datetime(2026, 1, 2, 9, n, tzinfo=UTC),
            )
        )
    return log


async def _open(app, pilot) -> None:
    await pilot.press("colon", *"audit", "enter")
    await pilot.pause()
    assert isinstance(app.screen, AuditScreen)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_newest_first_with_chain_status_and_filter(make_app, broker_home) -> None:
    _write(broker_home)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await _open(app, pilot)
        text = flat_text(app)
        assert "Audit(2) ✓ chain verified (2 events)" in text
        assert text.index("GetSessionToken") < text.index("AssumeRole")  # newest first
        assert "AccessDenied" in text
        await pilot.press("slash", *"user=alice", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = flat_text(app)
        assert "Audit(1)" in text and "GetSessionToken" not in text and ROLE in text


async def test_a_tampered_log_says_the_chain_is_broken(make_app, broker_home) -> None:
    _write(broker_home)
    with embedded_state(broker_home).shared.database.transaction() as cursor:
        cursor.execute(
            "UPDATE audit_events SET record = replace(record, ?, ?)", ('"alice"', '"mallory"')
        )  # the chain now differs from what it hashed
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await _open(app, pilot)
        assert "✗ CHAIN BROKEN" in flat_text(app)
