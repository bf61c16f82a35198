"""``?``: every key and the colour legend; typing filters at once (lazygit, posting)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from broker.tui.expiry import ADVISORY_SECONDS, MANDATORY_SECONDS, Level, glyph
from broker.tui.screens.modal import BrokerModal

__all__ = ["HELP_KEYS", "HelpScreen", "legend"]

HELP_KEYS: tuple[tuple[str, str], ...] = (
    ("j k ↑ ↓", "move"),
    ("g G", "top, bottom"),
    ("pgup pgdn", "page"),
    ("enter l", "open (mint the highlighted role)"),
    ("esc h", "clear filter, else back one crumb"),
    ("/", "filter: name, id, email, role, tags; !term excludes; key=value; ARN"),
    (":", "commands: :portal :sessions :sim :audit :users :reports :signin; :portal /pay"),
    ("f", "toggle favourite ★"),
    ("1-9", "jump to favourite N"),
    ("m", "mint for the highlighted role"),
    ("o", "open console in browser"),
    ("y", "copy menu: env exports, credential_process profile, ARN, account id"),
    ("v", "show or hide secrets (credentials view)"),
    ("p", "show the last copied text (printed to stdout on exit)"),
    ("r R", "refresh selected, all"),
    ("ctrl+d", "revoke (always confirms; hidden with --readonly)"),
    ("s", "sign in"),
    ("? F1", "this help"),
    ("ctrl+p", "command palette: every action, themes"),
    ("tab", "next pane"),
    ("q ctrl+q", "quit (q closes a dialog)"),
)


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
        needle = term.lower().strip()
        keys = [f"{k:<12} {v}" for k, v in HELP_KEYS if needle in f"{k} {v}".lower()]
        colours = [f"{g:<12} {v}" for g, v in legend(ascii_only=ascii_only) if needle in v.lower()]
        parts = keys + (["", "Colours (each also has a glyph):", *colours] if colours else [])
        self.query_one("#help-body", Static).update("\n".join(parts) or f"nothing matches {term!r}")

    def action_close(self) -> None:
        self.dismiss(None)
