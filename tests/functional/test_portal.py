"""The portal screen through Pilot: what is shown, what the keys do, what is remembered."""

from __future__ import annotations

import json

import pytest

from broker.tui.screens.portal import PortalScreen
from broker.tui.state import load_state
from broker.tui.widgets.role_list import RoleList
from tests.functional.conftest import ROLES, sign_in_with_roles
from tests.functional.screen_text import screen_text

pytestmark = pytest.mark.anyio


async def test_not_signed_in_says_how_to_sign_in(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Not signed in — press s to sign in" in text
        assert "not signed in · 0 live" in text
        assert "Accounts(0/0)" in text


async def test_roles_listed_with_name_and_id_together(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.pause()
        text = screen_text(app)
        assert "Accounts(3/3)" in text
        assert "alice@example.com · demo · 0 live" in text
        assert "payments-prod      1111 2222 3333  AdminAccess" in text
        assert "analytics          7777 8888 9999  DataScientist" in text
        # alphabetical: analytics before payments-dev before payments-prod
        assert text.index("analytics") < text.index("payments-dev") < text.index("payments-prod")


async def test_filter_narrows_titles_and_esc_clears(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("slash", *"pay read")
        await pilot.pause()
        text = screen_text(app)
        assert "Accounts(1/3) </pay read>" in text
        assert "ReadOnly" in text and "Developer" not in text and "analytics" not in text
        await pilot.press("enter")  # back to the list, filter kept
        assert app.screen.query_one(RoleList).has_focus
        assert app.screen.query_one(RoleList).current == ROLES[1]
        await pilot.press("escape")
        await pilot.pause()
        assert "Accounts(3/3)" in screen_text(app)
        assert isinstance(app.screen, PortalScreen)  # esc cleared the filter, did not go back


async def test_no_match_says_what_to_press(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("slash", *"xyzzy")
        await pilot.pause()
        assert 'No account matches "xyzzy" — esc clears.' in screen_text(app)


async def test_an_arn_finds_its_role(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        screen = app.screen
        assert isinstance(screen, PortalScreen)
        screen.set_filter("arn:aws:sts::444455556666:assumed-role/Developer/alice")
        await pilot.pause()
        assert app.screen.query_one(RoleList).current == ROLES[2]
        assert "Accounts(1/3)" in screen_text(app)


async def test_favourite_moves_first_numbered_and_persists(make_app, broker_home) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("G", "f")  # last row: payments-prod ReadOnly
        await pilot.pause()
        text = screen_text(app)
        assert "★ Favourites" in text
        starred = [line for line in text.splitlines() if "★1 payments-prod" in line]
        assert len(starred) == 1 and "ReadOnly" in starred[0]
        await pilot.press("g")
        assert app.screen.query_one(RoleList).current == ROLES[1]  # the favourite is first now
        await pilot.press("j", "j", "1")
        assert app.screen.query_one(RoleList).current == ROLES[1]
        await pilot.press("9")
        assert "No favourite 9 shown" in screen_text(app)
    saved = json.loads((broker_home / "tui-state.json").read_text())
    assert saved["favourites"] == [ROLES[1].key]
    assert load_state(broker_home).favourites == (ROLES[1].key,)


async def test_favourites_restored_on_next_launch(make_app, broker_home) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("f")
    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(again)
        await pilot.pause()
        assert "★1 analytics" in screen_text(again)


async def test_detail_line_names_role_arn_and_why(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        sign_in_with_roles(app)
        screen = app.screen
        assert isinstance(screen, PortalScreen)
        screen.set_filter("adminaccess")
        await pilot.pause()
        text = screen_text(app)
        assert "AdminAccess @ payments-prod (1111 2222 3333)" in text
        assert "via group:admins" in text


async def test_mint_without_sign_in_is_refused_plainly(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        assert "Nothing selected" in screen_text(app)
        assert isinstance(app.screen, PortalScreen)


async def test_copy_menu_copies_account_id(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("y")
        await pilot.pause()
        assert "role ARN" in screen_text(app)
        await pilot.press(*"acc", "enter")
        await pilot.pause()
        assert app.last_copied == "777788889999"
        assert "Copied account id, 1 line" in screen_text(app)


async def test_ten_thousand_roles_scroll_to_the_end(make_app) -> None:
    from broker.tui.model import PortalRole

    many = [
        PortalRole(f"{n:012d}", f"acct-{n:05d}", f"Role{r}", None)
        for n in range(1000)
        for r in range(10)
    ]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app, many)
        await pilot.press("G")
        await pilot.pause()
        text = screen_text(app)
        assert "Accounts(1,000/1,000)" in text
        assert "acct-00999" in text and "Role9" in text
        await pilot.press("slash", *"acct-00500 role3")
        await pilot.pause()
        assert "Accounts(1/1,000)" in screen_text(app)
        assert app.screen.query_one(RoleList).current == many[5003]


async def test_p_shows_the_last_copied_text_and_queues_it_for_stdout(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("p")
        await pilot.pause()
        assert "Nothing copied yet" in screen_text(app)
        await pilot.press("y", *"arn", "enter", "p")
        await pilot.pause()
        assert ROLES[3].role_arn in screen_text(app)
        assert app.print_on_exit == ROLES[3].role_arn


async def test_portal_loads_the_signed_in_persons_roles_from_the_directory(make_app) -> None:
    from tests.unit.tui.test_services import demo

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.signed_in("demo", demo("carol"))
        screen = app.screen
        assert isinstance(screen, PortalScreen)
        screen.load_roles()
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "Accounts(2/2)" in text
        assert text.count("DataScientist") >= 2
        assert "carol@example.com · demo" in text


async def test_o_on_a_role_without_a_cached_session_says_to_mint_first(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        sign_in_with_roles(app)
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)  # nothing asked of AWS, no dialog
        assert "No session for DataScientist @ analytics — m mints one, then o." in (
            screen_text(app)
        )
        assert not app.workers  # no console worker started


async def test_o_on_a_role_with_a_live_session_asks_for_its_profile(make_app) -> None:
    from datetime import timedelta

    from broker.tui.model import SessionRow
    from broker.tui.screens.error import ErrorModal
    from tests.functional.conftest import NOW

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        sign_in_with_roles(app)
        await pilot.pause()  # the store's index is read once the first screen is painted:
        await app.workers.wait_for_complete()  # let that read land before the planted row
        app.set_live_sessions(
            [
                SessionRow(
                    "analytics.ds",
                    "777788889999",
                    "analytics",
                    "DataScientist",
                    NOW + timedelta(hours=1),
                )
            ]
        )
        await pilot.pause()
        await pilot.press("o")
        for _ in range(50):  # bounded: the worker reads the real config and store
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if not isinstance(app.screen, PortalScreen):
                break
        # The real core was asked for that profile: the shipped config has no such one.
        assert isinstance(app.screen, ErrorModal), screen_text(app)
        assert "no profile 'analytics.ds'" in screen_text(app)
