"""Sign in to an ``aws_federation`` SAML provider by pasting the response captured on its way
to AWS: the terminal app's ``broker login NAME --saml-response -|FILE``.

The value is a bearer credential for AWS until its assertion expires: the field never shows it
(``CaptureField``), an error names what is wrong and never quotes it, and the field is emptied
once the value is handed over. It is read by the same functions as the command line's flag
(``broker.tui.saml_capture``); a bad entry is one line in the dialog, which stays open to fix it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from broker.errors import UsageError
from broker.tui.saml_capture import captured_response, is_file_path
from broker.tui.screens.modal import BrokerModal
from broker.tui.widgets.capture_field import CaptureField

__all__ = ["SamlCaptureModal"]


class SamlCaptureModal(BrokerModal[str | None]):
    """Dismisses with the SAMLResponse value, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "sign in", priority=True),
        Binding("escape", "cancel", "cancel"),
    ]

    def __init__(self, provider: str, *, ascii_only: bool = False) -> None:
        super().__init__()
        self.provider = provider
        self.error_glyph = "x" if ascii_only else "✗"

    def compose(self) -> ComposeResult:
        with Vertical(id="capture-box", classes="dialog"):
            yield Static(
                f"Sign in to {self.provider}: paste the SAMLResponse value", classes="dialog-title"
            )
            yield Static(
                "Start the AWS application at your IdP, copy the SAMLResponse form value posted "
                "to AWS (browser network panel), and paste it here — or type the path of a "
                "file only you can read that holds it.",
                classes="hint",
                markup=False,
            )
            yield CaptureField("paste the value, or type a file path", id="capture-field")
            yield Static("", id="capture-error", classes="error-text", markup=False)
            yield Static("enter signs in · ctrl+u clears · esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(CaptureField).focus()

    def action_submit(self) -> None:
        field = self.query_one(CaptureField)
        try:
            value = captured_response(field.text)
        except UsageError as exc:
            if not is_file_path(field.text):
                field.clear()  # a path stays, to be corrected; a pasted value never lingers
            self.query_one("#capture-error", Static).update(f"{self.error_glyph} {exc}")
            return
        field.clear()
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.query_one(CaptureField).clear()
        self.dismiss(None)
