"""The configuration's errors at start: every one whole (wrapped, never cut at the terminal's
width) with its ``file:line:column``; ``e`` opens the highlighted one in the person's editor at
that place, and the check runs again when the editor closes."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from broker.tui.config_check import ConfigIssue, editor_command
from broker.tui.screens.modal import BrokerModal

if TYPE_CHECKING:
    from broker.tui.app import BrokerApp

__all__ = ["ConfigErrorsScreen"]


class ConfigErrorsScreen(BrokerModal[None]):
    """The list of configuration errors (warnings are left to ``broker config validate``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "open in editor"),
        Binding("escape,q", "close", "close"),
    ]

    def __init__(self, issues: list[ConfigIssue], warnings: int = 0) -> None:
        super().__init__()
        self.issues = issues
        self.warnings = warnings

    def compose(self) -> ComposeResult:
        count = len(self.issues)
        with Vertical(id="config-errors-box", classes="dialog"):
            yield Label(
                f"Configuration: {count} error{'s' if count != 1 else ''} — the app may not "
                "sign in until they are fixed",
                classes="dialog-title",
            )
            yield OptionList(*self._options(), id="config-errors")
            extra = f"; {self.warnings} warning(s): broker config validate" if self.warnings else ""
            yield Label(f"e opens the highlighted one in $EDITOR · esc closes{extra}",
                        id="config-errors-hint", classes="dialog-hint")  # fmt: skip

    def _options(self) -> list[Option]:
        glyph = self._broker.options.glyph("✗", "x")
        options = []
        for number, issue in enumerate(self.issues):
            text = Text()
            text.append(f"{glyph} {issue.where}", style="bold")
            text.append("\n  ")
            text.append(f"{issue.key}: " if issue.key else "")
            text.append(issue.message)
            options.append(Option(text, id=str(number)))
        return options

    @property
    def _broker(self) -> BrokerApp:
        from broker.tui.app import BrokerApp

        assert isinstance(self.app, BrokerApp)
        return self.app

    def on_mount(self) -> None:
        errors = self.query_one(OptionList)
        errors.highlighted = 0 if self.issues else None
        errors.focus()

    def action_edit(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None:
            return
        issue = self.issues[index]
        command = editor_command(os.environ, issue)
        try:
            with self.app.suspend():
                subprocess.run(command, check=False)  # noqa: S603 - the person's own editor
        except SuspendNotSupported:
            self._say(f"No terminal to hand to an editor here: open {issue.where}")
            return
        except OSError as exc:
            self._say(f"Cannot run {command[0]}: {exc.strerror}; set $EDITOR")
            return
        self.dismiss(None)
        self._broker.check_configuration()  # edited: check again

    def _say(self, text: str) -> None:
        """A problem opening the editor, in the dialog's hint line (it stays until closed)."""
        hint = self.query_one("#config-errors-hint", Label)
        hint.update(text)
        hint.add_class("error-text")

    def action_close(self) -> None:
        self.dismiss(None)
