"""Named subclasses of the Textual widgets the screens focus, so ``F1`` can say what each one
is (``HELP``) while its keys stay Textual's own."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import DataTable, Input

__all__ = ["PortalFilter", "SessionsTable"]


class PortalFilter(Input):
    HELP: ClassVar[str | None] = (
        "Filters the roles as you type: name, id, email, role, tags; !term excludes; "
        "key=value; an ARN. enter goes to the list, esc clears."
    )


class SessionsTable(DataTable[str | Text]):
    HELP: ClassVar[str | None] = (
        "Every cached profile with its countdown; the screen's keys act on the highlighted row."
    )
