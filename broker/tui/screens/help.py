"""``?``: every key and the colour legend; typing filters at once (lazygit, posting).

The keys are read from the screens' own bindings (``broker.tui.keymap``), never a hand-kept list."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from broker.tui.expiry import ADVISORY_SECONDS, MANDATORY_SECONDS, Level, glyph
from broker.tui.screens.modal import BrokerModal

__all__ = ["HelpScreen", "help_lines", "legend"]


def legend(*, ascii_only: bool = False) -> list[tuple[str, str]]:
    """Each expiry glyph with what it means (k9s #381: explain every colour)."""
    return [
        (
            glyph(Level.OK, ascii_only=ascii_only),
            f"valid, more than {ADVISORY_SECONDS // 60} min left",
        ),
        (
            glyph(Level.WARN, ascii_only=ascii_only),
            f"≤ {ADVISORY_SECONDS // 60} min: SDKs start refreshing (advisory window)",
        ),
        (
            glyph(Level.CRITICAL, ascii_only=ascii_only),
            f"≤ {MANDATORY_SECONDS // 60} min: SDK calls block on refresh (mandatory window)",
        ),
        (glyph(Level.EXPIRED, ascii_only=ascii_only), "expired (dimmed, sorted last)"),
        ("*" if ascii_only else "★", "favourite, with its number 1-9"),
        ("ALLOW / DENY", "policy decisions always in words too"),
    ]


def help_lines(term: str, *, ascii_only: bool = False, palette_key: str = "ctrl+p") -> list[str]:
    """The help text's lines: each screen's keys, then the colours; ``term`` keeps the rows
    (or whole sections, by title) that contain it."""
    from broker.tui.keymap import key_sections

    needle = term.lower().strip()
    lines: list[str] = []
    for section in key_sections(palette_key):
        whole = needle in section.title.lower()
        rows = [f"  {k:<12} {v}" for k, v in section.keys if whole or needle in f"{k} {v}".lower()]
        if rows:
            lines += [*([""] if lines else []), f"{section.title}:", *rows]
    colours = [f"  {g:<12} {v}" for g, v in legend(ascii_only=ascii_only) if needle in v.lower()]
    if colours:
        lines += [*([""] if lines else []), "Colours (each also has a glyph):", *colours]
    return lines


class HelpScreen(BrokerModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield Label("Keys and colours — type to filter, esc closes", classes="dialog-title")
            yield Input(placeholder="filter", id="help-filter")
            with VerticalScroll():
                yield Static("", id="help-body", markup=False)

    def on_mount(self) -> None:
        self._paint("")
        self.query_one("#help-filter", Input).focus()

    @on(Input.Changed, "#help-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._paint(event.value)

    def _paint(self, term: str) -> None:
        options = getattr(self.app, "options", None)
        ascii_only = bool(getattr(options, "ascii_only", False))
        palette = getattr(self.app, "COMMAND_PALETTE_BINDING", "ctrl+p")
        lines = help_lines(term, ascii_only=ascii_only, palette_key=palette)
        self.query_one("#help-body", Static).update("\n".join(lines) or f"nothing matches {term!r}")

    def action_close(self) -> None:
        self.dismiss(None)
