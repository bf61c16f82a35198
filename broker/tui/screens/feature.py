"""A view whose core piece may not have landed yet: it says so plainly, naming the issue."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from broker.errors import NotYetAvailableError
from broker.tui.screens.base import BrokerScreen

__all__ = ["FeatureScreen"]


class FeatureScreen(BrokerScreen):
    """Base for views backed by one core feature (``services`` feature name)."""

    FEATURE: ClassVar[str] = ""
    TITLE_TEXT: ClassVar[str] = ""

    def compose_body(self) -> ComposeResult:
        yield Static(self.TITLE_TEXT, id="view-title", classes="view-title")
        yield Static("", id="view-body", classes="empty")

    def on_mount(self) -> None:
        try:
            self.broker.services.require(self.FEATURE)
        except NotYetAvailableError as exc:
            self.query_one("#view-body", Static).update(f"{exc}.")
            return
        self.feature_ready()

    def feature_ready(self) -> None:
        """Called when the core piece is installed; subclasses wire the real view here."""
        self.query_one("#view-body", Static).update(
            f"{self.TITLE_TEXT}: the core has landed but this view is not yet wired in the TUI."
        )
