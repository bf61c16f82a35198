"""``p``: the last copied text as selectable text, for terminals where OSC 52 did not reach the
clipboard (docs/tui.md §6). It is also printed to stdout when the app exits."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, TextArea

from broker.tui.screens.modal import BrokerModal

__all__ = ["CopiedScreen"]


class CopiedScreen(BrokerModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="copied-box", classes="dialog"):
            yield Label(
                "Last copied — select it here; it is also printed when you quit",
                classes="dialog-title",
            )
            yield TextArea(self.text, read_only=True, id="copied-text", language=None)
            yield Label("esc closes", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        self.dismiss(None)
