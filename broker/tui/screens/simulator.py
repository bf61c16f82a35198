"""The policy simulator: a principal, an action, a resource, context keys and the policies that
apply; the decision in words and the engine's layer-by-layer explanation."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static, TabbedContent, TabPane, TextArea

from broker.errors import BrokerError
from broker.tui.screens.base import BrokerScreen
from broker.tui.simulation import SimulationInput, decision_word, explain_lines, simulate
from broker.tui.widgets.status import FlashLevel

__all__ = ["SimulatorScreen"]

# (form field, tab label, what the box takes). Labels stay one word so the six tabs fit the
# pane at 80 columns; the longer explanation is the empty box's placeholder.
_TABS = (
    ("identity", "identity", "identity-based policies (JSON), --- between documents"),
    ("resource_policy", "resource", "the resource's own policy (JSON)"),
    ("boundary", "boundary", "permissions boundary (JSON)"),
    ("scp", "SCPs", "service control policies, --- between levels (root first)"),
    ("session", "session", "session policy (JSON)"),
    ("context", "context", "context keys, one key=value per line"),
)
WIDE = 120
"""From this width the tabs and the result sit side by side; below, the result is underneath
(side by side at 80 columns each pane is 40 wide, narrower than the six tab labels)."""


class SimulatorScreen(BrokerScreen):
    """The policy simulator: a principal, an action, a resource; the decision and why."""

    CRUMB = "Simulator"
    TITLE_TEXT: ClassVar[str] = "Policy simulator — ctrl+r evaluates"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "evaluate", "evaluate", priority=True),
        Binding("ctrl+u", "pick_principal", "pick principal", priority=True),
        Binding("escape", "back", "back"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(self.TITLE_TEXT, id="view-title", classes="view-title")
        yield Input(
            placeholder="principal ARN, e.g. arn:aws:iam::111122223333:user/alice",
            id="sim-principal",
        )
        yield Input(placeholder="action, e.g. s3:GetObject", id="sim-action")
        yield Input(placeholder="resource ARN, e.g. arn:aws:s3:::bucket/key", id="sim-resource")
        with Horizontal(id="sim-body"):
            with TabbedContent(id="sim-tabs"):
                for field, title, placeholder in _TABS:
                    with TabPane(title, id=f"tab-{field}"):
                        yield TextArea(
                            "", id=f"sim-{field}", language=None, placeholder=placeholder
                        )
            with VerticalScroll(id="sim-result-box"):
                yield Static("", id="sim-result", markup=False)
        yield Static("", id="view-body", classes="hint")

    management_account = False

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        self.query_one("#sim-body").set_class(event.size.width < WIDE, "-stacked")

    def on_mount(self) -> None:
        self.query_one("#view-body", Static).update(
            "ctrl+u picks a person's role from the directory and fills the policies."
        )
        self.query_one("#sim-principal", Input).focus()

    def action_pick_principal(self) -> None:
        try:
            items = self.broker.services.simulation_principals()
        except BrokerError as exc:
            self.flash(str(exc), FlashLevel.ERROR)
            return
        from broker.tui.screens.picker import Picker

        self.app.push_screen(Picker("Principal: a person's role", items), self._picked)

    def _picked(self, chosen: tuple[str, str] | None) -> None:
        if chosen is None:
            return
        self.fill(self.broker.services.simulation_form(chosen[1]))
        self.flash(f"Loaded {chosen[0]}")

    def fill(self, fields: dict[str, object]) -> None:
        """Put a principal's ARN, policies and context keys into the form."""
        self.query_one("#sim-principal", Input).value = str(fields.get("principal_arn", ""))
        for field, _title, _placeholder in _TABS:
            self.query_one(f"#sim-{field}", TextArea).text = str(fields.get(field, "") or "")
        self.management_account = bool(fields.get("management_account", False))

    def form(self) -> SimulationInput:
        """What the form holds now."""
        areas = {field: self.query_one(f"#sim-{field}", TextArea).text for field, *_ in _TABS}
        return SimulationInput(
            principal_arn=self.query_one("#sim-principal", Input).value,
            action=self.query_one("#sim-action", Input).value,
            resource=self.query_one("#sim-resource", Input).value,
            **areas,
            management_account=self.management_account,
        )

    def action_evaluate(self) -> None:
        result = self.query_one("#sim-result", Static)
        try:
            decision = simulate(self.form())
        except BrokerError as exc:
            result.update(f"✗ {exc}")
            self.flash(str(exc), FlashLevel.ERROR)
            return
        lines = [decision_word(decision.decision), "", *explain_lines(decision.explanation)]
        result.update("\n".join(lines))
        self.flash(f"{decision_word(decision.decision)} for {self.form().action.strip()}")
