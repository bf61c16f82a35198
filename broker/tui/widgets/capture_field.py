"""A one-value entry for a bearer credential pasted from elsewhere (a SAMLResponse value).

Why not Textual's ``Input``: its paste keeps only the first line (a value copied from a browser
may be wrapped), and even masked it draws one bullet per character. This field keeps every
pasted character, any length (the app reads the terminal raw, so the 4095-character line limit
of a terminal's line editing never applies), and shows only how much it holds — never the
content. What the person types is shown only while it is a file path (a path is no secret).
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget

from broker.tui.saml_capture import is_file_path

__all__ = ["CaptureField"]


class CaptureField(Widget, can_focus=True):
    """Holds pasted or typed text; ``backspace`` drops a character, ``ctrl+u`` clears."""

    DEFAULT_CSS = """
    CaptureField { height: auto; min-height: 3; max-height: 7; border: tall $accent; padding: 0 1; }
    CaptureField:focus { border: tall $primary; }
    """

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.placeholder = placeholder
        self._text = ""

    @property
    def text(self) -> str:
        return self._text

    def clear(self) -> None:
        """Forget what was entered (after it was handed over, or refused)."""
        self._text = ""
        self.refresh()

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character is not None and character.isprintable()

    def render(self) -> Text:
        if not self._text:
            return Text(self.placeholder, style="dim")
        if is_file_path(self._text):
            return Text(f"file {self._text.strip()}")
        return Text(f"●●●●●●●● {len(self._text):,} characters pasted (not shown)")

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self._text += event.text
        self.refresh()

    def on_key(self, event: events.Key) -> None:
        if event.key == "backspace":
            self._text = self._text[:-1]
        elif event.key == "ctrl+u":
            self._text = ""
        elif event.character is not None and event.is_printable:
            self._text += event.character
        else:
            return  # enter, esc, tab: the dialog's keys
        event.stop()
        event.prevent_default()
        self.refresh()
