"""``ctrl+o``: jump mode (posting). Every focusable pane of the screen gets a letter drawn over
its top-left corner; typing the letter focuses that pane, any other key leaves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Label

from broker.tui.screens.modal import BrokerModal

__all__ = ["JUMP_KEYS", "JumpOverlay", "jump_targets", "start_jump"]

JUMP_KEYS = "asdfgqwertzxcvbyuiophjklnm"
"""Home row first: the letters a hand finds without looking."""


def jump_targets(widgets: Sequence[Widget]) -> dict[str, Widget]:
    """A letter for each visible focusable widget, in focus order."""
    shown = [w for w in widgets if w.region.area > 0]
    return dict(zip(JUMP_KEYS, shown, strict=False))


class JumpOverlay(BrokerModal[Widget | None]):
    """Labels over the screen below; dismissed with the chosen widget, or ``None``."""

    def __init__(self, targets: dict[str, Widget]) -> None:
        super().__init__()
        self.targets = targets

    def compose(self) -> ComposeResult:
        for key, widget in self.targets.items():
            label = Label(f" {key} ", classes="jump-label")
            label.styles.offset = (widget.region.x, widget.region.y)
            yield label

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(self.targets.get(event.character or ""))


def start_jump(app: App[Any]) -> bool:
    """Label the current screen's panes and focus the one chosen; ``False`` if there are none."""
    targets = jump_targets(app.screen.focus_chain)
    if not targets:
        return False

    def chosen(widget: Widget | None) -> None:
        if widget is not None and widget.is_attached:
            widget.focus()

    app.push_screen(JumpOverlay(targets), chosen)
    return True
