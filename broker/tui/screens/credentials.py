"""Minted credentials, ready to use: the access portal's "Command line or programmatic access"
panel (docs/tui.md §5). Secrets stay masked until ``v``; ``y`` copies the shown block unmasked."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static, TabbedContent, TabPane

from broker.tui.expiry import describe, format_clock
from broker.tui.exports import Shell, credential_process_profile, env_exports, single_values
from broker.tui.model import MintOutcome, PortalRole, format_account_id
from broker.tui.screens.base import BrokerScreen

__all__ = ["CredentialsScreen"]

_TABS = ("profile", *(shell.name.lower() for shell in Shell), "values")


class CredentialsScreen(BrokerScreen):
    """The result panel for one mint."""

    CRUMB = "Credentials"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "copy", "copy"),
        Binding("v", "reveal", "show/hide secrets"),
        Binding("o", "console", "console", tooltip="open the AWS console for this session"),
        Binding("escape,h,q", "back", "back"),
    ]

    def __init__(self, role: PortalRole, outcome: MintOutcome) -> None:
        super().__init__()
        self.role = role
        self.outcome = outcome
        self.masked = True

    def compose_body(self) -> ComposeResult:
        creds = self.outcome.credentials
        role = self.role
        now = self.broker.clock()
        left = describe(creds.seconds_left(now), ascii_only=self.broker.options.ascii_only)
        yield Static(
            f"{role.label} @ {role.account_name} ({format_account_id(role.account_id)}) · "
            f"{left} · expires {format_clock(creds.expiration, now)}",
            id="creds-title",
            classes="view-title",
        )
        with TabbedContent(id="creds-tabs"):
            with TabPane("credential_process (recommended)", id="profile"):
                yield Static("", id="block-profile", markup=False)
            for shell in Shell:
                with TabPane(shell.value, id=shell.name.lower()):
                    yield Static("", id=f"block-{shell.name.lower()}", markup=False)
            with TabPane("single values", id="values"):
                yield Static("", id="block-values", markup=False)

    def on_mount(self) -> None:
        self._paint()

    def block(self, tab: str, *, masked: bool) -> str:
        """The text of ``tab`` (masked or not)."""
        creds = self.outcome.credentials
        if tab == "profile":
            return credential_process_profile(self.outcome.profile)
        if tab == "values":
            return "\n".join(f"{k}: {v}" for k, v in single_values(creds, masked=masked))
        return env_exports(creds, Shell[tab.upper()], masked=masked)

    def _paint(self) -> None:
        for tab in _TABS:
            self.query_one(f"#block-{tab}", Static).update(self.block(tab, masked=self.masked))

    def action_reveal(self) -> None:
        self.masked = not self.masked
        self._paint()

    def action_copy(self) -> None:
        tab = self.query_one(TabbedContent).active or "profile"
        names = {"profile": "credential_process profile", "values": "single values"}
        what = names.get(tab, f"env exports ({Shell[tab.upper()].value})" if tab in _TABS else tab)
        self.broker.copy(what, self.block(tab, masked=False))

    def action_console(self) -> None:
        self.open_console(self.outcome.profile)

    def back(self) -> None:
        self.app.pop_screen()
