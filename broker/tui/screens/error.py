"""The error dialog: title, the one-line summary with the fix, details, and where the log is
(harlequin ``ErrorModal``). Any key closes it."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from broker.tui.screens.modal import BrokerModal

__all__ = ["ErrorModal"]


class ErrorModal(BrokerModal[None]):
    """Shows one error; any key closes it."""

    def __init__(self, title: str, summary: str, details: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.summary = summary
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box", classes="dialog"):
            yield Label(self.title_text, id="error-title", classes="dialog-title")
            yield Static(self.summary, id="error-summary", markup=False)
            if self.details:
                with VerticalScroll(id="error-details"):
                    yield Static(self.details, markup=False)
            yield Label("any key closes", classes="dialog-hint")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss(None)

    def on_click(self) -> None:
        self.dismiss(None)
