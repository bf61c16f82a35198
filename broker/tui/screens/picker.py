"""A picker modal: a titled list of ``(label, value)`` items; typing filters at once (lazygit).
Used by the ``y`` copy menu and the simulator's principal picker."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList

from broker.tui.screens.modal import BrokerModal

__all__ = ["Picker"]


class Picker(BrokerModal[tuple[str, str] | None]):
    """Returns the chosen ``(label, value)``, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "close")]

    def __init__(self, title: str, items: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.items = items

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(placeholder="type to filter", id="picker-filter")
            yield OptionList(*(what for what, _ in self.items), id="picker-options")

    def on_mount(self) -> None:
        self.query_one("#picker-filter", Input).focus()

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        words = event.value.lower().split()
        options.add_options(
            [what for what, _ in self.items if all(w in what.lower() for w in words)]
        )
        options.highlighted = 0 if options.option_count else None

    @on(Input.Submitted, "#picker-filter")
    def _submit(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._pick(str(options.get_option_at_index(options.highlighted).prompt))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(str(event.option.prompt))

    def _pick(self, what: str) -> None:
        for label, text in self.items:
            if label == what:
                self.dismiss((label, text))
                return

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key in ("down", "up"):
            options = self.query_one(OptionList)
            options.action_cursor_down() if key == "down" else options.action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
