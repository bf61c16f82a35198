"""The ``:`` command line with completion (k9s): ``:portal /pay``, ``:sessions``, ``:sim``…"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.suggester import SuggestFromList
from textual.widgets import Input

from broker.tui.screens.modal import BrokerModal
from broker.tui.views import command_names

__all__ = ["CommandLine"]


class CommandLine(BrokerModal[str | None]):
    """Returns the typed command, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "close")]

    def compose(self) -> ComposeResult:
        yield Input(
            ":",
            id="command",
            suggester=SuggestFromList(command_names(), case_sensitive=False),
        )

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_close(self) -> None:
        self.dismiss(None)
