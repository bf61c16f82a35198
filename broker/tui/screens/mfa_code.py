"""Ask for the TOTP code of a profile with ``mfa_serial`` (a chained profile that assumes its
role with MFA), as ``broker exec`` asks on the terminal. ``enter`` sends six digits; ``esc``
gives up, and nothing is minted."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from broker.tui.screens.modal import BrokerModal

__all__ = ["MfaCodeModal"]


class MfaCodeModal(BrokerModal[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, profile: str, serial: str) -> None:
        super().__init__()
        self.profile = profile
        self.serial = serial

    def compose(self) -> ComposeResult:
        with Vertical(id="mfa-box", classes="dialog"):
            yield Static(
                f"MFA code for {self.serial} (profile {self.profile})",
                id="mfa-question",
                markup=False,
            )
            yield Input(
                placeholder="6 digits from your authenticator",
                max_length=6,
                restrict=r"[0-9]*",
                id="mfa-code",
            )
            yield Static("enter sends it · esc cancels (nothing is minted)", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#mfa-code", Input).focus()

    @on(Input.Submitted, "#mfa-code")
    def send(self, event: Input.Submitted) -> None:
        if len(event.value) == 6:
            self.dismiss(event.value)
        else:
            self.notify("An MFA code is 6 digits.", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)
