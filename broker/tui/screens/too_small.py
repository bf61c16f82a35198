"""Shown instead of the app while the terminal is below 80×24 (btop): current and needed size."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from broker.tui.options import MIN_HEIGHT, MIN_WIDTH

__all__ = ["TooSmallScreen"]


class TooSmallScreen(Screen[None]):
    COVERS_SMALL_TERMINAL: ClassVar[bool] = True
    """The app checks this flag, so it need not import this module until a terminal is small."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit_app", "quit")]

    def compose(self) -> ComposeResult:
        yield Static("", id="too-small")

    def on_mount(self) -> None:
        self._paint(self.app.size.width, self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size.width, event.size.height
        self._paint(width, height)
        check = getattr(self.app, "check_size", None)
        if check is not None:
            check(width, height)

    def _paint(self, width: int, height: int) -> None:
        self.query_one("#too-small", Static).update(
            f"Terminal too small: {width}×{height}\nneeds {MIN_WIDTH}×{MIN_HEIGHT}\n\nq quits"
        )

    def action_quit_app(self) -> None:
        self.app.exit(0)
