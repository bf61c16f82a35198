"""``F1``: what the focused widget is and its keys (``broker.tui.focus_help``); ``?`` from here
opens the help for everything."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from broker.tui.focus_help import FocusHelp, focus_help_lines
from broker.tui.screens.modal import BrokerModal

__all__ = ["WidgetHelpScreen"]


class WidgetHelpScreen(BrokerModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "close"),
        Binding("question_mark", "everything", "every key", tooltip="help for every key"),
    ]

    def __init__(self, help_: FocusHelp) -> None:
        super().__init__()
        self.help_ = help_

    def compose(self) -> ComposeResult:
        with Vertical(id="widget-help-box", classes="dialog"):
            yield Label(f"Help: {self.help_.title} — esc closes", classes="dialog-title")
            with VerticalScroll(id="widget-help-scroll"):
                yield Static(
                    "\n".join(focus_help_lines(self.help_)), id="widget-help-body", markup=False
                )

    def on_mount(self) -> None:
        self.query_one("#widget-help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_everything(self) -> None:
        from broker.tui.screens.help import HelpScreen

        self.dismiss(None)
        self.app.push_screen(HelpScreen())
