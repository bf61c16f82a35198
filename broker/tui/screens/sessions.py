"""Sessions: every cached profile with a live countdown; refresh, revoke (always confirmed),
open the console; and the refresher's state, its next-round countdown repainted each second."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from broker.errors import BrokerError
from broker.tui.expiry import Level, repaint_interval
from broker.tui.model import SessionRow
from broker.tui.screens.base import BACKGROUND, BrokerScreen
from broker.tui.sessions_view import (
    level_of,
    ordered,
    refresher_line,
    revoke_question,
    row_cells,
)
from broker.tui.widgets.focus_targets import SessionsTable
from broker.tui.widgets.status import FlashLevel

if TYPE_CHECKING:
    from broker.client.refresher_status import StatusView

__all__ = ["SessionsScreen"]

REFRESHER_READ_SECONDS = 5.0

_COLUMNS = ("profile", "account", "role", "expires in", "at", "refresh")


class SessionsScreen(BrokerScreen):
    """Every cached profile with a live countdown: refresh, revoke (confirmed), open the console."""

    CRUMB = "Sessions"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh_one", "refresh"),
        Binding("R", "refresh_all", "refresh all"),
        Binding(
            "ctrl+d", "revoke", "revoke", tooltip="revoke (always confirms; not with --readonly)"
        ),
        Binding("o", "console", "console", tooltip="open the AWS console for this session"),
        Binding("escape,h", "back", "back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[SessionRow] = []

        self.refresher: StatusView | None = None
        self.refresher_problem: str | None = None
        self._painted_minute: dict[str, int] = {}
        self.lit_until: dict[str, datetime] = {}  # refreshed rows, lit for 2 s (htop)

    def compose_body(self) -> ComposeResult:
        table = SessionsTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="view-body", classes="empty")
        yield Static("", id="refresher", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in _COLUMNS:
            table.add_column(column, key=column)
        self.set_interval(1.0, self.tick)
        self.set_interval(REFRESHER_READ_SECONDS, self.load_refresher)
        self._show()
        self.load()
        self.load_refresher()

    @work(
        exclusive=True,
        exit_on_error=False,
        thread=True,
        group="read",
        description="Reading sessions",
    )
    def load(self) -> None:
        """Read the rows. Its own group: a revoke or refresh asks for a fresh read as its last
        step, while its worker is still finishing, and must not be cancelled by that read."""
        rows = self.broker.services.sessions()
        self.deliver(self.set_sessions, rows)

    @work(exclusive=True, exit_on_error=False, thread=True, group=BACKGROUND)
    def load_refresher(self) -> None:
        """Read the refresher's status record (a small private file) off the UI thread."""
        try:
            view = self.broker.services.refresher(self.broker.clock())
        except BrokerError as exc:
            self.deliver(self.set_refresher, None, str(exc))
            return
        self.deliver(self.set_refresher, view, None)

    def set_refresher(self, view: StatusView | None, problem: str | None = None) -> None:
        """Show the refresher's state (attributes down: the reader or a test hands it in)."""
        self.refresher = view
        self.refresher_problem = problem
        status = view.status if view is not None else None
        if status is not None and status.last_error and status.sign_in is not None:
            # the line says "press s to sign in to …": s does it
            self.broker.sign_in_needed = status.sign_in.provider
        self._paint_refresher()

    def _paint_refresher(self) -> None:
        line = refresher_line(
            self.refresher,
            self.broker.clock(),
            problem=self.refresher_problem,
            ascii_only=self.broker.options.ascii_only,
        )
        self.query_one("#refresher", Static).update(line)

    def set_sessions(self, rows: list[SessionRow]) -> None:
        """Show ``rows`` (attributes down: the loader or a test hands them in)."""
        self.rows = ordered(rows, self.broker.clock())
        self.broker.set_live_sessions(rows)
        self._show()

    def _show(self, message: str | None = None) -> None:
        table = self.query_one(DataTable)
        empty = self.query_one("#view-body", Static)
        table.clear()
        now = self.broker.clock()
        ascii_only = self.broker.options.ascii_only
        for row in self.rows:
            cells = row_cells(row, now, ascii_only=ascii_only)
            lit = self.lit_until.get(row.profile, now) > now
            name = Text(cells[0], style="bold reverse" if lit else "")
            table.add_row(
                name, *cells[1:3], self._countdown(row, cells[3]), *cells[4:], key=row.profile
            )
            self._painted_minute[row.profile] = int(now.timestamp() // 60)
        live = sum(1 for r in self.rows if (r.expiration - now).total_seconds() > 0)
        table.border_title = f"Sessions({live} live/{len(self.rows)})"
        text = message or ("" if self.rows else "No live credentials — :portal, pick a role, m.")
        empty.update(text)
        empty.display = bool(text)
        table.display = not text

    def tick(self) -> None:
        """Repaint countdowns under an hour every second, the others when the minute turns."""
        self._paint_refresher()
        table = self.query_one(DataTable)
        now = self.broker.clock()
        minute = int(now.timestamp() // 60)
        ended = [name for name, until in self.lit_until.items() if until <= now]
        for name in ended:
            del self.lit_until[name]
        if ended:
            self._show()
            return
        for row in self.rows:
            left = (row.expiration - now).total_seconds()
            if repaint_interval(left) > 1 and self._painted_minute.get(row.profile) == minute:
                continue
            cells = row_cells(row, now, ascii_only=self.broker.options.ascii_only)
            table.update_cell(row.profile, "expires in", self._countdown(row, cells[3]))
            table.update_cell(row.profile, "at", cells[4])
            self._painted_minute[row.profile] = minute

    def _selected(self) -> SessionRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            self.flash("No session selected — :portal, pick a role, m.", FlashLevel.WARNING)
            return None
        return self.rows[table.cursor_row]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "revoke" and self.broker.options.readonly:
            return False  # --readonly hides revoke (k9s readOnly)
        return super().check_action(action, parameters)

    def action_refresh_one(self) -> None:
        row = self._selected()
        if row is not None:
            self.refresh_profiles([row.profile])

    def action_console(self) -> None:
        row = self._selected()
        if row is not None:
            self.open_console(row.profile)

    def action_refresh_all(self) -> None:
        self.refresh_profiles([r.profile for r in self.rows])

    @work(exclusive=True, exit_on_error=False, thread=True, description="Refreshing")
    def refresh_profiles(self, profiles: list[str]) -> None:
        done = self.broker.services.refresh(profiles, read_code=self.ask_mfa_code)
        self.deliver(self._refreshed, done)

    def _refreshed(self, done: list[str]) -> None:
        until = self.broker.clock() + timedelta(seconds=2)
        self.lit_until.update(dict.fromkeys(done, until))
        self.flash(f"Refreshed {', '.join(done)}" if done else "Nothing to refresh")
        self.load()

    def action_revoke(self) -> None:
        if self.broker.options.readonly:
            return
        row = self._selected()
        if row is None:
            return
        from broker.tui.screens.confirm import ConfirmModal

        def answered(yes: bool | None) -> None:
            if yes:
                self.revoke(row)

        self.app.push_screen(ConfirmModal(revoke_question(row, self.rows)), answered)

    @work(exclusive=True, exit_on_error=False, thread=True, description="Revoking")
    def revoke(self, row: SessionRow) -> None:
        live = self.broker.services.revoke(row.profile)
        what = f"{row.role_name} @ {row.account_name}"
        text = f"Revoked {what}" if live else f"Forgot {what} (no live session was cached)"
        self.deliver(self.flash, text)
        self.deliver(self.load)

    def _countdown(self, row: SessionRow, text: str) -> Text:
        """The countdown cell in its threshold colour (the glyph carries it without colour)."""
        theme = self.app.current_theme
        level = level_of(row, self.broker.clock())
        style = {
            Level.OK: theme.success or "",
            Level.WARN: f"bold {theme.warning or ''}",
            Level.CRITICAL: f"bold reverse {theme.error or ''}",
            Level.EXPIRED: "dim",
        }[level]
        return Text(text, style=style.strip())
