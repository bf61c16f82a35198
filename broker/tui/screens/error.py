"""The error dialog: title, the one-line summary with the fix, details, and where the log is
(harlequin ``ErrorModal``). Any key closes it; where the fix is a new sign-in, the key the
summary names (``s``) also opens that provider's sign-in."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from broker.tui.screens.modal import BrokerModal

__all__ = ["ErrorModal", "describe_error"]


def describe_error(error: BaseException, data_dir: Path) -> tuple[str, str, str]:
    """``(title, one-line summary, details)`` for a worker's failure. A ``BrokerError`` is its
    own one line, its advice worded for the terminal app (``BrokerError.tui_message``: the key
    that signs in again, not the command); anything else is a bug: its traceback goes to the
    log file of the app's ``data_dir`` only, and the dialog says where."""
    from broker.errors import BrokerError

    if isinstance(error, BrokerError):
        return "Error", error.tui_message, f"code: {error.code}" if error.code else ""
    import logging
    import traceback

    from broker.logs import log_file

    path = log_file(data_dir)
    logging.getLogger("broker").error(
        "TUI worker failed\n%s", "".join(traceback.format_exception(error))
    )
    summary = f"internal error ({type(error).__name__}); please report it"
    return "Internal error", summary, f"traceback in {path}"


class ErrorModal(BrokerModal[None]):
    """Shows one error; any key closes it. ``sign_in``: the provider whose sign-in fixes it,
    opened by the key the summary names."""

    def __init__(
        self, title: str, summary: str, details: str = "", *, sign_in: str | None = None
    ) -> None:
        super().__init__()
        self.title_text = title
        self.summary = summary
        self.details = details
        self.sign_in = sign_in

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box", classes="dialog"):
            yield Label(self.title_text, id="error-title", classes="dialog-title")
            yield Static(self.summary, id="error-summary", markup=False)
            if self.details:
                with VerticalScroll(id="error-details"):
                    yield Static(self.details, markup=False)
            yield Label("any key closes", classes="dialog-hint")

    def on_key(self, event: events.Key) -> None:
        from broker.login_advice import TUI_SIGN_IN_KEY

        event.stop()
        self.dismiss(None)
        if self.sign_in is not None and event.key == TUI_SIGN_IN_KEY:
            from broker.tui.app import BrokerApp

            if isinstance(self.app, BrokerApp):
                self.app.open_sign_in()

    def on_click(self) -> None:
        self.dismiss(None)
