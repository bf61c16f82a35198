"""The app's views by name, for ``:`` commands, the palette and breadcrumbs (no Textual here:
screens are imported only when opened, which keeps startup fast)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["VIEWS", "View", "command_names", "parse_command"]


@dataclass(frozen=True)
class View:
    """A view: its ``:`` command, title, and where its screen class lives."""

    command: str
    title: str
    module: str
    cls: str

    def factory(self) -> Any:
        """A new instance of the view's screen."""
        return getattr(importlib.import_module(self.module), self.cls)()


VIEWS: dict[str, View] = {
    "signin": View("signin", "Sign in", "broker.tui.screens.signin", "SignInScreen"),
    "sessions": View("sessions", "Sessions", "broker.tui.screens.sessions", "SessionsScreen"),
    "sim": View("sim", "Policy simulator", "broker.tui.screens.simulator", "SimulatorScreen"),
    "audit": View("audit", "Audit log", "broker.tui.screens.audit", "AuditScreen"),
    "users": View("users", "Directory", "broker.tui.screens.directory", "DirectoryScreen"),
    "reports": View("reports", "Reports", "broker.tui.screens.reports", "ReportsScreen"),
    "providers": View(
        "providers", "Provider setup", "broker.tui.screens.provider_setup", "ProviderSetupScreen"
    ),
}

_ALIASES = {"portal": "portal", "directory": "users", "simulator": "sim", "login": "signin"}


def command_names() -> list[str]:
    """Every ``:`` command, for completion."""
    return [":portal", *(f":{v.command}" for v in VIEWS.values())]


def parse_command(text: str) -> tuple[str, str | None] | None:
    """``:portal /pay`` → ``("portal", "pay")``; ``:sessions`` → ``("sessions", None)``;
    None for anything unknown. Unique prefixes work (``:se`` → sessions)."""
    words = text.strip().lstrip(":").split(maxsplit=1)
    if not words:
        return None
    name = words[0].lower()
    argument = words[1].strip() if len(words) > 1 else None
    if argument is not None and argument.startswith("/"):
        argument = argument[1:]
    known = ["portal", *VIEWS, *_ALIASES]
    if name not in known:
        matches = {(_ALIASES.get(k, k)) for k in known if k.startswith(name)}
        if len(matches) != 1:
            return None
        name = matches.pop()
    name = _ALIASES.get(name, name)
    if name != "portal" and argument is not None:
        return None
    return name, argument
