"""The terminal app opens the one state once, on first need, shares it between its operations
(the audit view, the credential report) and closes it when it exits.

Opens are counted through the app's injected opener, which opens the real state (the data
directory's SQLite) and hands it back behind a wrapper that only counts ``close``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from broker.audit import cloudtrail_event
from broker.sts.state import StsState
from broker.sts.state_handle import open_for_one_process
from broker.tui.app import BrokerApp, app_services
from broker.tui.options import TuiOptions
from broker.tui.screens.audit import AuditScreen
from broker.tui.screens.reports import ReportsScreen
from broker.tui.state import TuiState, save_state
from tests.functional.screen_text import flat_text
from tests.state_support import embedded_state

pytestmark = pytest.mark.anyio


class _Counted:
    """The real opened state; counts how often it is closed."""

    def __init__(self, state: StsState) -> None:
        self._state = state
        self.closed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)

    def close(self) -> None:
        self.closed += 1
        self._state.close()


async def _wait(app: BrokerApp, pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_two_operations_share_one_opened_state_closed_on_exit(broker_home: Path) -> None:
    embedded_state(broker_home).shared.audit.append(
        cloudtrail_event(
            "GetSessionToken",
            user_identity={"type": "IAMUser", "userName": "svc-one"},
            request_id="req-1",
            request_parameters={},
            now=datetime(2026, 1, 2, 9, 0, tzinfo=UTC),
        )
    )
    save_state(broker_home, TuiState(welcome_seen=True))
    opened: list[_Counted] = []

    def opener(database_url: str | None, data_dir: Path) -> StsState:
        assert (database_url, data_dir) == (None, broker_home)  # what the app resolved
        opened.append(_Counted(open_for_one_process(database_url, data_dir)))
        return opened[-1]  # type: ignore[return-value]

    services = app_services(opener)
    app = BrokerApp(services, TuiOptions())
    async with app.run_test(size=(120, 30)) as pilot:
        await _wait(app, pilot)
        assert opened == []  # nothing needed the state yet: not opened
        await pilot.press("colon", *"audit", "enter")
        await _wait(app, pilot)
        assert isinstance(app.screen, AuditScreen)
        assert "Audit(1)" in flat_text(app)
        await pilot.press("slash", *"user=svc-one", "enter")  # a second read of the chain
        await _wait(app, pilot)
        await pilot.press("colon", *"reports", "enter")  # the credential report reads it too
        await _wait(app, pilot)
        assert isinstance(app.screen, ReportsScreen)
        assert app.screen.query_one("#credentials", DataTable).row_count > 0  # it ran
        assert len(opened) == 1
        assert opened[0].closed == 0
    assert len(opened) == 1
    assert opened[0].closed == 1  # closed as the app exited
    with pytest.raises(RuntimeError, match="closed"):
        services.state.state()
