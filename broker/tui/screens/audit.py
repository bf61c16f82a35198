"""The audit log: newest first, filtered by user, role, event and time, with the hash chain's
verification status in the title."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from broker.tui.screens.base import BrokerScreen

__all__ = ["AuditScreen"]

_COLUMNS = ("time (UTC)", "event", "who", "role", "outcome")


class AuditScreen(BrokerScreen):
    """The audit log, newest first, filtered by user, role, event and time."""

    CRUMB = "Audit"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "filter"),
        Binding("r", "reload", "refresh"),
        Binding("escape,h", "back", "back"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Input(
            placeholder="filter: user=NAME role=NAME|ARN event=NAME since=ISO-TIME (enter applies)",
            id="audit-filter",
        )
        yield DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        yield Static("", id="view-body", classes="empty")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*_COLUMNS)
        self.query_one("#view-body", Static).display = False
        self.query_one(DataTable).focus()
        self.load("")

    @work(exclusive=True, exit_on_error=False, thread=True, description="Reading the audit log")
    def load(self, query: str) -> None:
        status, rows = self.broker.services.audit(query)
        self.deliver(self.show, status, rows)

    def show(self, status: str, rows: list[tuple[str, ...]]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row)
        ok = status.startswith("chain verified")
        glyph = self.broker.options.glyph("✓" if ok else "✗", "+" if ok else "x")
        table.border_title = f"Audit({len(rows)}) {glyph} {status}"

    @on(Input.Submitted, "#audit-filter")
    def _filter(self, event: Input.Submitted) -> None:
        self.load(event.value)
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    def action_reload(self) -> None:
        self.load(self.query_one("#audit-filter", Input).value)
