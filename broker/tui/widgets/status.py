"""The status line: a spinner with a verb for background work, and flash messages (k9s).

The spinner appears only after ~200 ms so fast calls do not flicker. Info flashes clear after
3 s; errors stay until the next action (``clear_error``). Both are decided on one 0.1 s ticker
against ``clock`` (monotonic seconds; a test sets its own and calls ``tick``), not by timers
of their own, so the windows are tested without waiting for them.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

__all__ = ["FlashLevel", "StatusLine"]

SPINNER_DELAY = 0.2
INFO_SECONDS = 3.0


class FlashLevel(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_GLYPH = {FlashLevel.INFO: "ℹ", FlashLevel.WARNING: "⚠", FlashLevel.ERROR: "✗"}
_ASCII = {FlashLevel.INFO: "i", FlashLevel.WARNING: "!", FlashLevel.ERROR: "x"}


class StatusLine(Widget):
    """One line under the main view."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status--info",
        "status--warning",
        "status--error",
        "status--busy",
    }

    busy: reactive[str | None] = reactive(None)
    flash_text: reactive[str | None] = reactive(None)
    flash_level: reactive[FlashLevel] = reactive(FlashLevel.INFO)
    frame: reactive[int] = reactive(0)

    def __init__(self, *, spinner: str, ascii_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spinner = spinner
        self.ascii_only = ascii_only
        self.clock: Callable[[], float] = time.monotonic
        self._busy_since: float | None = None
        self._pending: str | None = None
        self._flash_until: float | None = None
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self._ticker = self.set_interval(0.1, self.tick, pause=True)

    def start(self, verb: str) -> None:
        """Background work began; the spinner shows if it is still running after 200 ms."""
        self._pending = verb
        self._busy_since = self.clock()
        self._wake()

    def stop(self) -> None:
        """Background work ended."""
        self._pending = None
        self._busy_since = None
        self.busy = None
        self._rest_if_idle()

    def tick(self) -> None:
        """One step of the ticker: show the spinner once work has run 200 ms, clear an info
        flash once it has shown 3 s."""
        now = self.clock()
        if self._flash_until is not None and now >= self._flash_until:
            self._clear_flash()
        if self._pending is not None and self._busy_since is not None:
            if now - self._busy_since >= SPINNER_DELAY:
                self.busy = self._pending
                self.frame = (self.frame + 1) % len(self.spinner)
        self._rest_if_idle()

    def flash(self, text: str, level: FlashLevel = FlashLevel.INFO) -> None:
        """Show a message; info and warnings clear after 3 s, errors stay."""
        self.flash_text = text
        self.flash_level = level
        self._flash_until = None if level is FlashLevel.ERROR else self.clock() + INFO_SECONDS
        self._wake()

    def clear_error(self) -> None:
        """The next action clears a standing error."""
        if self.flash_level is FlashLevel.ERROR:
            self._clear_flash()

    def _clear_flash(self) -> None:
        self.flash_text = None
        self._flash_until = None

    def _wake(self) -> None:
        if self._ticker is not None:
            self._ticker.resume()

    def _rest_if_idle(self) -> None:
        """Pause the ticker while there is neither work to show nor a flash to clear."""
        if self._ticker is not None and self._pending is None and self._flash_until is None:
            self._ticker.pause()

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.busy:
            frame = self.spinner[self.frame % len(self.spinner)]
            dots = "..." if self.ascii_only else "…"
            line.append(
                f" {frame} {self.busy}{dots}", style=self.get_component_rich_style("status--busy")
            )
        if self.flash_text:
            glyphs = _ASCII if self.ascii_only else _GLYPH
            style = self.get_component_rich_style(f"status--{self.flash_level.value}")
            line.append(f"  {glyphs[self.flash_level]} {self.flash_text}", style=style)
        return line
