"""``o``: the AWS console sign-in URL for a session, copy-ready (docs/tui.md §6, §9).

The URL signs whoever holds it in to the console for 15 minutes, so it is shown only here: never
logged, never written to a file (``y`` copies it; ``p`` shows the last copy). A browser is opened
only where one would appear in front of the person (not over SSH, not without a display), from
a thread so a slow browser launch never blocks the app.
"""

from __future__ import annotations

import os
import sys
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, Static, TextArea

from broker.tui.screens.modal import BrokerModal

__all__ = ["ConsoleLinkModal"]


class ConsoleLinkModal(BrokerModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "copy", "copy"),
        Binding("o", "open", "open in browser"),
        Binding("escape,q", "close", "close"),
    ]

    def __init__(self, profile: str, url: str) -> None:
        super().__init__()
        self.profile = profile
        self.url = url

    def compose(self) -> ComposeResult:
        with Vertical(id="console-box", classes="dialog"):
            yield Label(f"AWS console for {self.profile}", classes="dialog-title")
            yield Static(
                "Anyone holding this link is signed in as this session for 15 minutes: "
                "do not paste it anywhere shared.",
                id="console-warning",
            )
            yield TextArea(
                self.url, read_only=True, soft_wrap=True, id="console-url", language=None
            )
            yield Label("", id="console-browser", classes="dialog-hint")
            yield Label("y copy · o open in browser · esc closes", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        self.action_open()

    def _browser_possible(self) -> bool:
        from broker.terminal_ui import browser_possible

        return browser_possible(os.environ, sys.platform)

    def action_open(self) -> None:
        note = self.query_one("#console-browser", Label)
        if not self._browser_possible():
            note.update("No browser here (over SSH or without a display): y copies the link.")
            return
        note.update("Opening your browser…")
        self._launch()

    @work(thread=True, exclusive=True, exit_on_error=False, group="browser")
    def _launch(self) -> None:
        import webbrowser

        try:
            opened = webbrowser.open(self.url, new=2)
        except webbrowser.Error:
            opened = False
        text = (
            "Opened in your browser." if opened else "The browser did not start: y copies the link."
        )
        self.app.call_from_thread(self._browser_said, text)

    def _browser_said(self, text: str) -> None:
        if self.is_attached:
            self.query_one("#console-browser", Label).update(text)

    def action_copy(self) -> None:
        copy = getattr(self.app, "copy", None)
        if copy is not None:
            copy("console sign-in link", self.url)

    def action_close(self) -> None:
        self.dismiss(None)
