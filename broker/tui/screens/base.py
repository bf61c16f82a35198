"""The frame every full screen shares: header, body, status line, footer.

Workers started by a screen report their state here: the status line shows the spinner while
they run, and a failure becomes one status line plus an error dialog with the fix (never a
traceback: unexpected exceptions go to the log file, whose path the dialog shows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from broker.tui.widgets.header import BrokerHeader
from broker.tui.widgets.status import FlashLevel, StatusLine

if TYPE_CHECKING:
    from broker.tui.app import BrokerApp

__all__ = ["BrokerScreen"]


class BrokerScreen(Screen[None]):
    """A full screen with the shared frame; subclasses fill ``compose_body``."""

    CRUMB: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,h", "back", "back", show=False),
    ]

    @property
    def broker(self) -> BrokerApp:
        return cast("BrokerApp", self.app)

    def compose(self) -> ComposeResult:
        options = self.broker.options
        yield BrokerHeader(ascii_only=options.ascii_only, id="header")
        yield from self.compose_body()
        yield StatusLine(spinner=options.spinner, ascii_only=options.ascii_only, id="status")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_resize(self, event: events.Resize) -> None:
        self.broker.check_size(event.size.width, event.size.height)

    def on_screen_resume(self) -> None:
        self.refresh_header()

    def refresh_header(self) -> None:
        headers = self.query(BrokerHeader)
        if not headers:
            return  # mounted but not composed yet (the 1 s tick can land in between)
        header = headers.first()
        header.crumbs = self.broker.crumbs()
        header.facts = self.broker.header_facts()

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def flash(self, text: str, level: FlashLevel = FlashLevel.INFO) -> None:
        self.status.flash(text, level)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.RUNNING:
            self.status.clear_error()
            self.status.start(worker.description or worker.name or "Working")
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            self.status.stop()
        elif event.state is WorkerState.ERROR:
            self.status.stop()
            error = worker.error
            if error is not None:
                summary = self.broker.report_error(error)
                self.flash(summary, FlashLevel.ERROR)

    def action_back(self) -> None:
        """``esc``: back one crumb (the portal is the root and stays)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
