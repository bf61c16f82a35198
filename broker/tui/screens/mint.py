"""The mint dialog (docs/tui.md §5): duration with presets and the ceiling stated up front, a
reason for the audit log, an optional session policy. Out-of-range entries are refused with
the reason, never clamped. A role whose upstream fixes the session (IAM Identity Center: the
permission set sets the length, GetRoleCredentials takes no policy) is asked for neither, so
nothing typed here is silently ignored."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Collapsible, Input, Label, Static, TextArea

from broker.tui.durations import (
    DEFAULT_SECONDS,
    ceiling_for,
    check_duration,
    format_duration,
    parse_duration,
    presets_under,
)
from broker.tui.model import MintChoice, PortalRole, format_account_id
from broker.tui.screens.modal import BrokerModal

__all__ = ["MintDialog"]


class MintDialog(BrokerModal[MintChoice | None]):
    """Returns the chosen duration, reason and policy, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, role: PortalRole, *, chained: bool = False) -> None:
        super().__init__()
        self.role = role
        self.ceiling = ceiling_for(role_max_seconds=role.max_session_seconds, chained=chained)

    def compose(self) -> ComposeResult:
        role = self.role
        presets = presets_under(self.ceiling)
        default = min(DEFAULT_SECONDS, self.ceiling.seconds)
        with Vertical(id="mint-box", classes="dialog"):
            yield Label(
                f"Mint {role.label} @ {role.account_name} ({format_account_id(role.account_id)})",
                classes="dialog-title",
            )
            if role.fixed_session:
                yield Label(
                    "IAM Identity Center's permission set sets the session length; "
                    "no session policy can be passed",
                    id="ceiling",
                )
                yield Input(placeholder="reason (recorded in the audit log)", id="reason")
                with Horizontal(classes="buttons"):
                    yield Button("Cancel", id="cancel")
                    yield Button("Mint", id="mint", variant="primary")
                return
            yield Label(str(self.ceiling), id="ceiling")
            with Horizontal(id="presets"):
                for preset in presets:
                    button = Button(
                        preset.label,
                        id=f"preset-{preset.seconds}",
                        disabled=not preset.enabled,
                        compact=True,
                    )
                    if preset.reason:
                        button.tooltip = preset.reason
                    yield button
            disabled = [p.label for p in presets if not p.enabled]
            if disabled:
                yield Label(f"{' '.join(disabled)}: {presets[-1].reason}", classes="hint")
            yield Input(format_duration(default), placeholder="duration, e.g. 2h30m", id="duration")
            yield Static("", id="duration-error", classes="error-text")
            yield Input(placeholder="reason (recorded in the audit log)", id="reason")
            with Collapsible(title="Session policy (optional, can only narrow)", collapsed=True):
                yield TextArea("", id="policy", language=None)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Mint", id="mint", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#reason" if self.role.fixed_session else "#duration", Input).focus()

    @on(Button.Pressed, "#presets Button")
    def _preset(self, event: Button.Pressed) -> None:
        seconds = int((event.button.id or "preset-3600").removeprefix("preset-"))
        self.query_one("#duration", Input).value = format_duration(seconds)
        self.query_one("#duration-error", Static).update("")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#mint")
    @on(Input.Submitted)
    def _submit(self) -> None:
        if self.role.fixed_session:
            reason = self.query_one("#reason", Input).value.strip() or None
            self.dismiss(MintChoice(seconds=None, reason=reason))
            return
        error = self.query_one("#duration-error", Static)
        try:
            seconds = parse_duration(self.query_one("#duration", Input).value)
        except ValueError as exc:
            error.update(str(exc))
            return
        problem = check_duration(seconds, self.ceiling)
        if problem:
            error.update(problem)
            return
        reason = self.query_one("#reason", Input).value.strip() or None
        policy = self.query_one("#policy", TextArea).text.strip() or None
        self.dismiss(MintChoice(seconds=seconds, reason=reason, session_policy=policy))
