"""Copying that works over SSH too (docs/tui.md §6).

The app always emits OSC 52 (Textual's ``copy_to_clipboard``; it crosses SSH but gets no
acknowledgement), and when a local display exists it also runs the platform's clipboard command.
The flash names what was copied and how many lines, never the text itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping

__all__ = ["copied_message", "copy_local", "local_command"]

_CANDIDATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("WAYLAND_DISPLAY", ("wl-copy",)),
    ("DISPLAY", ("xclip", "-selection", "clipboard")),
    ("DISPLAY", ("xsel", "--clipboard", "--input")),
)


def local_command(
    env: Mapping[str, str],
    platform: str = sys.platform,
    which: Callable[[str], str | None] = shutil.which,
) -> list[str] | None:
    """The local clipboard command to run, or None (no display, or over SSH without one)."""
    if platform == "darwin" and which("pbcopy") and "SSH_CONNECTION" not in env:
        return ["pbcopy"]
    if platform.startswith("win") and which("clip"):
        return ["clip"]
    for variable, argv in _CANDIDATES:
        if env.get(variable) and which(argv[0]):
            return list(argv)
    return None


def copy_local(text: str, argv: list[str] | None) -> bool:
    """Run ``argv`` with ``text`` on stdin (2 s at most); True if it succeeded."""
    if argv is None:
        return False
    try:
        done = subprocess.run(  # noqa: S603 - argv comes from the fixed list above
            argv, input=text, text=True, capture_output=True, timeout=2, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def copied_message(what: str, text: str) -> str:
    """``Copied env exports, 4 lines`` (never the copied text)."""
    lines = text.count("\n") + 1 if text else 0
    return f"Copied {what}, {lines} line{'s' if lines != 1 else ''} (p shows it)"
