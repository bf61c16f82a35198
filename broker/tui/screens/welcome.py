"""First-run welcome (docs/tui.md §10): the built-in demo IdP and its users, once, optional."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Label, Static

from broker.errors import BrokerError
from broker.tui.screens.modal import BrokerModal

if TYPE_CHECKING:
    from broker.tui.app import BrokerApp

__all__ = ["WelcomeScreen"]


class WelcomeScreen(BrokerModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "close"),
        # The text says "press s to sign in": a modal screen hides the app's own binding.
        Binding("s", "sign_in", "sign in"),
    ]

    @property
    def broker(self) -> BrokerApp:
        return cast("BrokerApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome-box", classes="dialog"):
            yield Label("Welcome to Access Broker", classes="dialog-title")
            with VerticalScroll(id="welcome-scroll"):
                yield Static(self._text(), id="welcome-text", markup=False)
            yield Checkbox("Don't show this again", value=True, id="welcome-off")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close")
                yield Button("Add your company's sign-in", id="providers")
                yield Button("Sign in", id="signin", variant="primary")

    def _text(self) -> str:
        lines = [
            "This configuration runs with nothing external: the built-in demo identity "
            "provider signs in demo users, and the broker is its own STS.",
            "",
        ]
        try:
            users = self.broker.services.demo_users()
        except BrokerError as exc:
            lines.append(f"Demo users: {exc}")
        else:
            lines.append("Demo users:")
            lines.extend(f"  {name:<10} {what}" for name, what in users)
            lines.append(
                "  (IdP MFA: the IdP's amr claim says a second factor was used at sign-in; "
                "a directory TOTP device is separate, see Reports.)"
            )
            lines.append("")
            lines.append("Pick one on the sign-in screen (demo users need no password).")
        lines += [
            "",
            "Press s (or :signin) to sign in; ? lists every key. Your company's OIDC or SAML "
            "sign-in: :providers sets it up.",
        ]
        return "\n".join(lines)

    def on_mount(self) -> None:
        self.query_one("#signin", Button).focus()

    def _remember(self) -> None:
        off = self.query_one("#welcome-off", Checkbox).value
        self.broker.update_state(dataclasses.replace(self.broker.tui_state, welcome_seen=off))

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self._remember()
        self.dismiss(None)

    @on(Button.Pressed, "#signin")
    def action_sign_in(self) -> None:
        self._remember()
        self.dismiss(None)
        self.broker.go("signin")

    @on(Button.Pressed, "#providers")
    def _add_provider(self) -> None:
        self._remember()
        self.dismiss(None)
        self.broker.go("providers")
