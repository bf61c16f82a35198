"""Every key the app answers, read from the screens' and widgets' own ``BINDINGS`` (so the help
screen can never drift from what the keys do): one section per screen, keys sharing an action
merged (``1-9``), each with its tooltip or, failing that, its footer description."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual.binding import Binding, BindingType

__all__ = ["KeySection", "key_sections", "keys_of"]

# (section title, "module:Class" whose own BINDINGS it lists), in the order help shows them.
_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Everywhere",
        (
            "broker.tui.app:BrokerApp",
            "broker.tui.screens.base:BrokerScreen",
            "textual.screen:Screen",
        ),
    ),
    ("Portal", ("broker.tui.screens.portal:PortalScreen", "broker.tui.widgets.role_list:RoleList")),
    ("Sessions", ("broker.tui.screens.sessions:SessionsScreen",)),
    ("Credentials (after minting)", ("broker.tui.screens.credentials:CredentialsScreen",)),
    ("Console link", ("broker.tui.screens.console_link:ConsoleLinkModal",)),
    ("Sign in", ("broker.tui.screens.signin:SignInScreen",)),
    ("Reports", ("broker.tui.screens.reports:ReportsScreen",)),
    ("Audit", ("broker.tui.screens.audit:AuditScreen",)),
    ("Policy simulator", ("broker.tui.screens.simulator:SimulatorScreen",)),
    ("Directory", ("broker.tui.screens.directory:DirectoryScreen",)),
    ("Provider setup", ("broker.tui.screens.provider_setup:ProviderSetupScreen",)),
)

_NAMES = {
    "escape": "esc",
    "slash": "/",
    "question_mark": "?",
    "exclamation_mark": "!",
    "colon": ":",
    "pagedown": "pgdn",
    "pageup": "pgup",
    "down": "↓",
    "up": "↑",
    "shift+tab": "shift+tab",
}


@dataclass(frozen=True)
class KeySection:
    title: str
    keys: tuple[tuple[str, str], ...]  # (keys as typed, what they do)


def _display(key: str) -> str:
    return _NAMES.get(key, key)


def _compact(keys: Sequence[str]) -> str:
    """``1 2 … 9`` → ``1-9``; anything else space-separated, in order, once each."""
    unique = list(dict.fromkeys(keys))
    if len(unique) > 2 and all(k.isdigit() and len(k) == 1 for k in unique):
        numbers = [int(k) for k in unique]
        if numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"{numbers[0]}-{numbers[-1]}"
    return " ".join(unique)


def keys_of(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """``(keys, what)`` for ``bindings``: one row per action (arguments aside) and meaning."""
    rows: dict[tuple[str, str], list[str]] = {}
    for item in bindings:
        binding = item if isinstance(item, Binding) else Binding(*item)
        if binding.system:
            continue
        what = binding.tooltip or binding.description
        if not what:
            continue
        action = binding.action.split("(", 1)[0]
        what = re.sub(r" [1-9]$", " N", what) if action != binding.action else what
        keys = [_display(k.strip()) for k in binding.key.split(",")]
        rows.setdefault((action, what), []).extend(keys)
    return [(_compact(keys), what) for (_action, what), keys in rows.items()]


def _bindings(path: str) -> list[BindingType]:
    module, name = path.split(":")
    cls = getattr(importlib.import_module(module), name)
    return list(cls.__dict__.get("BINDINGS", ()))


def key_sections(palette_key: str = "ctrl+p") -> list[KeySection]:
    """Every section, read from the classes' bindings now."""
    sections = []
    for title, paths in _SOURCES:
        bindings: list[BindingType] = [b for path in paths for b in _bindings(path)]
        rows = keys_of(bindings)
        if title == "Everywhere":
            rows.append((palette_key, "command palette: every action, themes"))
        sections.append(KeySection(title, tuple(dict.fromkeys(rows))))
    return sections
