"""The frame every full screen shares: header, body, status line, footer.

Workers started by a screen report their state here: the status line shows the spinner while
they run, and a failure becomes one status line plus an error dialog with the fix (never a
traceback: unexpected exceptions go to the log file, whose path the dialog shows).

``esc`` cancels every running worker of the screen before it goes back a crumb. A thread worker
cannot be stopped mid-call, so its result is what must not land: workers hand results over with
``deliver``, which checks the worker's state on the UI thread (where ``esc`` cancels it), so a
cancelled worker's result is never applied.

``o`` (open the console) is shared: ``open_console`` asks the core for the sign-in URL in a
worker and shows it in ``ConsoleLinkModal``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, cast

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from broker.tui.widgets.header import BrokerHeader
from broker.tui.widgets.status import FlashLevel, StatusLine

if TYPE_CHECKING:
    from broker.client.profiles import Profile
    from broker.tui.app import BrokerApp

__all__ = ["BACKGROUND", "BrokerScreen"]

BACKGROUND = "background"
"""The worker group of quiet periodic reads: no spinner, and ``esc`` does not count them."""


class BrokerScreen(Screen[None]):
    """A full screen with the shared frame; subclasses fill ``compose_body``."""

    CRUMB: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,h", "back", "back", show=False, tooltip="cancel running work, else back a crumb"
        ),
        # The footer's help hint where a text box takes ``?`` (docs/tui.md: never drop it);
        # elsewhere this is off and ``F1`` reaches the app's own binding. Both open the
        # widget's help, so help lists only the app's (``system`` keeps this one out of it).
        Binding("f1", "typing_help", "help", system=True),
    ]

    @property
    def broker(self) -> BrokerApp:
        return cast("BrokerApp", self.app)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "typing_help":  # only where the focused widget would type a "?"
            return self.focused is not None and self.focused.check_consume_key("question_mark", "?")
        return True

    def action_typing_help(self) -> None:
        self.broker.action_widget_help()

    def action_sign_in(self) -> None:
        """``s`` (the app's key, and the portal's own): an error whose fix is a new sign-in
        names this key."""
        self.broker.open_sign_in()

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
        if worker.group == BACKGROUND:
            return  # quiet periodic reads: no spinner, and they report their own problems
        if event.state is WorkerState.RUNNING:
            self.status.clear_error()
            self.status.start(worker.description or worker.name or "Working")
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            self.status.stop()
        elif event.state is WorkerState.ERROR:
            self.status.stop()
            error = worker.error
            if error is not None and not worker.is_cancelled:  # esc said: ignore its outcome
                summary = self.broker.report_error(error)
                self.flash(summary, FlashLevel.ERROR)

    # -- workers ------------------------------------------------------------------------------
    def running_workers(self) -> list[Worker[object]]:
        """This screen's workers that have not finished (quiet background reads aside)."""
        return [
            w
            for w in self.app.workers
            if w.node is self
            and w.group != BACKGROUND
            and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]

    def deliver(self, callback: Callable[..., object], *args: object) -> None:
        """From a thread worker: run ``callback(*args)`` on the UI thread, unless the worker
        is cancelled by then (checked on the UI thread, so ``esc`` and this cannot race)."""
        worker = get_current_worker()
        self.app.call_from_thread(self._deliver, worker, callback, args)

    def _deliver(
        self, worker: Worker[object], callback: Callable[..., object], args: tuple[object, ...]
    ) -> None:
        if worker.is_cancelled or not self.is_attached:
            return
        callback(*args)

    def cancel_workers(self) -> bool:
        """Cancel every running worker of this screen; whether there was one."""
        running = self.running_workers()
        for worker in running:
            worker.cancel()
        if running:
            what = ", ".join(sorted({w.description or w.name or "work" for w in running}))
            self.flash(f"Cancelled: {what} (its result will be ignored)", FlashLevel.WARNING)
        return bool(running)

    def ask_mfa_code(self, profile: Profile) -> str:
        """On a mint or refresh worker's thread: show the code dialog and wait for the answer
        (a chained ``mfa_serial`` profile; the minter asks only when it must mint), so the
        app never falls back to the command line's "run `broker exec` in a terminal"."""
        from broker.errors import UsageError
        from broker.tui.screens.mfa_code import MfaCodeModal

        answered = threading.Event()
        answer: list[str | None] = []

        def done(code: str | None) -> None:
            answer.append(code)
            answered.set()

        serial = profile.mfa_serial or "the profile's MFA device"
        self.app.call_from_thread(self.app.push_screen, MfaCodeModal(profile.name, serial), done)
        worker = get_current_worker()
        while not answered.wait(0.2):  # the app may close meanwhile: never wait past it
            if worker.is_cancelled:
                raise UsageError(f"profile {profile.name}: cancelled; nothing was minted")
        code = answer[0] if answer else None
        if code is None:
            raise UsageError(f"profile {profile.name}: no MFA code given; nothing was minted")
        return code

    # -- console --------------------------------------------------------------------------------
    def open_console(self, profile: str) -> None:
        """``o``: the AWS console sign-in URL for ``profile``'s session, in a dialog."""
        self._console_link(profile)

    @work(
        exclusive=True,
        exit_on_error=False,
        thread=True,
        group="console",
        description="Asking AWS for a console sign-in link",
    )
    def _console_link(self, profile: str) -> None:
        # The local minter's sessions raise NoConsoleError: its one line (why, and the fix)
        # becomes the usual error dialog and status line, like every worker failure.
        url = self.broker.services.console_url(profile)
        self.deliver(self._show_console, profile, url)

    def _show_console(self, profile: str, url: str) -> None:
        from broker.tui.screens.console_link import ConsoleLinkModal

        self.app.push_screen(ConsoleLinkModal(profile, url))

    # -- navigation -----------------------------------------------------------------------------
    def action_back(self) -> None:
        """``esc``: cancel this screen's running work, else ``back``."""
        if self.cancel_workers():
            return
        self.back()

    def back(self) -> None:
        """Back one crumb (the portal is the root and stays)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
