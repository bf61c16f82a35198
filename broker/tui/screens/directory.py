"""The directory (admins): users, groups, accounts, permission sets, and a user's effective
access (every account and permission set, with the path: direct or through which group)."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from broker.tui.model import DirectoryTables
from broker.tui.screens.base import BrokerScreen

__all__ = ["DirectoryScreen"]

_TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("users", "Users", ("user", "email", "groups", "kind")),
    ("groups", "Groups", ("group", "members", "description")),
    ("accounts", "Accounts", ("account", "id", "OU path", "email")),
    ("permission_sets", "Permission sets", ("permission set", "max session", "description")),
)


class DirectoryScreen(BrokerScreen):
    """The directory (admins): users, groups, accounts, permission sets, a user's access."""

    CRUMB = "Directory"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,h", "back", "back")]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="dir-body"):
            with TabbedContent(id="dir-tabs"):
                for key, title, _columns in _TABLES:
                    with TabPane(title, id=f"tab-{key}"):
                        yield DataTable(id=f"dir-{key}", cursor_type="row")
            yield Static("", id="dir-access", markup=False)
        yield Static("", id="view-body", classes="empty")

    def on_mount(self) -> None:
        for key, _title, columns in _TABLES:
            self.query_one(f"#dir-{key}", DataTable).add_columns(*columns)
        self.query_one("#view-body", Static).display = False
        self.load()

    @work(exclusive=True, exit_on_error=False, thread=True, description="Reading the directory")
    def load(self) -> None:
        tables = self.broker.services.directory_tables()
        self.deliver(self.show, tables)

    def show(self, tables: DirectoryTables) -> None:
        for key, _title, _columns in _TABLES:
            table: DataTable[str] = self.query_one(f"#dir-{key}", DataTable)
            table.clear()
            for row in getattr(tables, key):
                table.add_row(*row, key=row[0])
        self.query_one("#dir-users", DataTable).focus()

    @on(DataTable.RowHighlighted, "#dir-users")
    def _user_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.access_of(event.row_key.value)

    @work(exclusive=True, exit_on_error=False, thread=True, group="access")
    def access_of(self, user: str) -> None:
        rows = self.broker.services.effective_access(user)
        lines = [f"Effective access of {user}:", ""]
        lines += [f"{account}\n  {ps} · via {via}" for account, ps, via in rows]
        if not rows:
            lines.append("nothing assigned")
        self.deliver(self.query_one("#dir-access", Static).update, "\n".join(lines))
