"""The directory view on the shipped demo directory."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from broker.tui.screens.directory import DirectoryScreen
from tests.functional.screen_text import flat_text

pytestmark = [
    pytest.mark.anyio,
]


async def test_users_listed_and_effective_access_follows_the_cursor(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("colon", *"users", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DirectoryScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = flat_text(app)
        assert "Portal › Directory" in text
        assert "alice alice@example.com" in text
        access = str(app.screen.query_one("#dir-access", Static).render())
        assert access.startswith("Effective access of alice:")
        assert "AdministratorAccess · via group platform-admins" in access
        await pilot.press("down", "down")  # carol
        await app.workers.wait_for_complete()
        await pilot.pause()
        access = str(app.screen.query_one("#dir-access", Static).render())
        assert access.startswith("Effective access of carol:")
        assert "DataScientist · via group data-science" in access
        assert "AdministratorAccess" not in access
