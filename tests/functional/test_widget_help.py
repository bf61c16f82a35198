"""``F1`` shows the focused widget's help (docs/tui.md §2): what it is and its own keys, read from
its class, then the screen's keys; with nothing of its own the screen's help. ``?`` stays the help
for everything."""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Static

from broker.tui.focus_help import about, focus_help, own_bindings
from broker.tui.screens.help import HelpScreen
from broker.tui.screens.portal import PortalScreen
from broker.tui.screens.widget_help import WidgetHelpScreen
from broker.tui.widgets.focus_targets import PortalFilter, SessionsTable
from tests.functional.conftest import sign_in_with_roles
from tests.functional.screen_text import flat_text, screen_lines
from tests.functional.test_sessions import _open

pytestmark = pytest.mark.anyio


def _body(app) -> str:
    return str(app.screen.query_one("#widget-help-body", Static).render())


async def test_f1_on_the_portal_filter_says_what_it_filters(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        sign_in_with_roles(app)
        await pilot.pause()
        footer = screen_lines(app)[-1]
        assert "? help" in footer and "f1" not in footer  # ? is the help key outside text boxes
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.focused, PortalFilter)
        assert "f1 help" in screen_lines(app)[-1]  # a text box takes ?: the footer offers F1
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, WidgetHelpScreen)
        text = flat_text(app)
        assert "Help: Portal filter" in text
        assert "Filters the roles as you type" in text
        assert "ctrl+w" in text and "Delete left to start of word" in text  # Input's own keys
        body = _body(app)  # the rest is below the fold, one scroll away
        assert "Also on Portal:" in body and "toggle favourite" in body
        assert "Keys and colours" not in text  # not the ? screen
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)
        assert isinstance(app.focused, PortalFilter)


async def test_f1_on_the_sessions_table_lists_the_tables_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one(SessionsTable)
        table.focus()
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, WidgetHelpScreen)
        text = flat_text(app)
        assert "Help: Sessions table" in text
        assert "enter" in text and "Select" in text and "Cursor down" in text
        body = _body(app)
        for binding in DataTable.BINDINGS:  # every key the table itself answers
            assert isinstance(binding, Binding)
            assert binding.description in body, binding
        assert "Also on Sessions:" in body and "revoke (always confirms" in body


async def test_question_mark_from_widget_help_opens_every_key(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("f1", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Portal:" in flat_text(app)


class Bare(Widget, can_focus=True):
    pass


class Quiet(Widget, can_focus=True):
    """A pane with a description and no keys."""


class _Keyed(DataTable[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "open it"),
        Binding("x", "drop", "drop it"),
    ]


def test_a_widget_with_nothing_of_its_own_falls_back_to_the_screen() -> None:
    screen = PortalScreen()
    shown = focus_help(Bare(), screen)
    assert shown == focus_help(None, screen)
    assert shown.title == "Portal" and shown.screen_title is None
    assert shown.about == "Accounts → roles, favourites and recent first."
    assert ("m", "mint for the highlighted role") in shown.keys


class PlainPortal(PortalScreen):
    pass


def test_a_screen_without_text_of_its_own_is_not_described_by_its_base() -> None:
    shown = focus_help(None, PlainPortal())
    assert (shown.title, shown.about) == ("Portal", "")
    assert ("m", "mint for the highlighted role") in shown.keys  # its keys are inherited


def test_a_description_alone_is_enough() -> None:
    shown = focus_help(Quiet(), PortalScreen())
    assert shown.title == "Quiet"
    assert shown.about == "A pane with a description and no keys."
    assert shown.keys == () and shown.screen_title == "Portal"


def test_a_subclass_key_shadows_its_bases_meaning() -> None:
    rows = dict((b.key, b.description) for b in own_bindings(_Keyed))
    assert rows["enter"] == "open it"  # not DataTable's "Select"
    assert rows["x"] == "drop it" and rows["up"] == "Cursor up"
    assert list(rows).count("enter") == 1


def test_help_attribute_wins_over_the_docstring() -> None:
    assert about(SessionsTable).startswith("Every cached profile")
    assert about(_Keyed) == about(DataTable)  # no text of its own: its base's
