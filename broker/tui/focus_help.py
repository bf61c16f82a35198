"""``F1``: help for the focused widget (docs/tui.md §2, posting): what the widget is and the keys it
answers, then the keys of the screen around it. ``?`` stays the help for everything.

Both are read from the classes themselves, never a hand-kept list: the description is the
widget's ``HELP`` (Textual's own hook for per-widget help) or its docstring's first line, and
the keys are the ``BINDINGS`` of every class between the widget and Textual's ``Widget`` base,
a subclass's key shadowing its base's as Textual does. A widget with neither falls back to the
screen's help.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget

from broker.tui.keymap import keys_of

__all__ = ["FocusHelp", "about", "focus_help", "focus_help_lines", "own_bindings"]


@dataclass(frozen=True)
class FocusHelp:
    title: str  # "Sessions table"
    about: str  # one line: what it is
    keys: tuple[tuple[str, str], ...]  # (keys as typed, what they do)
    screen_title: str | None = None  # None when this already is the screen's help
    screen_keys: tuple[tuple[str, str], ...] = ()


def _classes(cls: type, base: type) -> Iterator[type]:
    """``cls`` and its ancestors, nearest first, stopping before ``base``."""
    for klass in cls.__mro__:
        if klass is base or not issubclass(klass, base):
            return
        yield klass


def own_bindings(cls: type, base: type = Widget) -> list[Binding]:
    """The bindings ``cls`` adds above ``base``, nearest class first; a key bound again in a
    subclass is listed once, with the subclass's meaning."""
    taken: set[str] = set()
    found: list[Binding] = []
    for klass in _classes(cls, base):
        items: list[BindingType] = list(klass.__dict__.get("BINDINGS", ()))
        for item in items:
            binding = item if isinstance(item, Binding) else Binding(*item)
            keys = [k.strip() for k in binding.key.split(",")]
            free = [k for k in keys if k not in taken]
            taken.update(keys)
            if free:
                found.append(dataclasses.replace(binding, key=",".join(free)))
    return found


def about(cls: type, base: type = Widget, *, inherit: bool = True) -> str:
    """``HELP``'s first paragraph, else the docstring's, from the nearest class above ``base``
    that has either (``cls`` alone unless ``inherit``); empty when none has."""
    for klass in list(_classes(cls, base))[: None if inherit else 1]:
        text = klass.__dict__.get("HELP") or klass.__dict__.get("__doc__")
        if isinstance(text, str) and text.strip():
            return inspect.cleandoc(text).split("\n\n", 1)[0].replace("\n", " ")
    return ""


def _title(cls: type) -> str:
    """``SessionsTable`` → ``Sessions table``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", cls.__name__).capitalize()


def _screen_title(screen: Screen[object]) -> str:
    crumb = getattr(screen, "CRUMB", "")
    return crumb if isinstance(crumb, str) and crumb else _title(type(screen))


def focus_help(widget: Widget | None, screen: Screen[object]) -> FocusHelp:
    """Help for ``widget`` inside ``screen``; the screen's own help when ``widget`` is None or
    has neither a description nor keys of its own."""
    screen_keys = tuple(keys_of(own_bindings(type(screen), Screen)))
    # A screen's base classes describe the frame, not the view: only its own text counts.
    screen_about = about(type(screen), Screen, inherit=False)
    if widget is not None and widget is not screen:
        keys = tuple(keys_of(own_bindings(type(widget))))
        text = about(type(widget))
        if keys or text:
            return FocusHelp(_title(type(widget)), text, keys, _screen_title(screen), screen_keys)
    return FocusHelp(_screen_title(screen), screen_about, screen_keys)


def focus_help_lines(help_: FocusHelp) -> list[str]:
    """The help's text, one entry a line."""
    lines = [f"{help_.title}: {help_.about}" if help_.about else f"{help_.title}:"]
    lines += [f"  {k:<14} {v}" for k, v in help_.keys] or ["  (no keys of its own)"]
    if help_.screen_title is not None and help_.screen_keys:
        lines += ["", f"Also on {help_.screen_title}:"]
        lines += [f"  {k:<14} {v}" for k, v in help_.screen_keys]
    lines += ["", "? lists every key and the colour legend."]
    return lines
