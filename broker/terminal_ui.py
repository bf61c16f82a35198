"""The command line's ``SignInUI``: everything on stderr, a browser only where one can open.

A browser is opened when the person named one in ``$BROWSER`` (Python's ``webbrowser`` runs it,
display or not: a text-mode browser or a script that forwards the URL is their choice), else
only on a local graphical session: never over SSH (``SSH_CONNECTION``, ``SSH_CLIENT``,
``SSH_TTY``), and on Linux/BSD only with ``DISPLAY`` or ``WAYLAND_DISPLAY``. When no browser
opens, ``open_url`` prints nothing: the provider either switches to the device sign-in or prints
the URL itself, so a URL is never shown whose listener is about to close. The device code is
shown large, with a QR code of the verification URL for a phone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO

__all__ = ["TerminalSignInUI", "browser_possible"]


def browser_possible(env: Mapping[str, str], platform: str) -> bool:
    """Whether a browser opened here would appear in front of the person at the keyboard."""
    if env.get("BROWSER"):
        return True
    if any(env.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")):
        return False
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _boxed(code: str) -> str:
    spaced = "  ".join(code)
    bar = "─" * (len(spaced) + 6)
    return f"    ┌{bar}┐\n    │   {spaced}   │\n    └{bar}┘"


class TerminalSignInUI:
    """Writes to ``stream`` (stderr); opens a browser only when ``browser_possible``."""

    def __init__(
        self,
        stream: TextIO | None = None,
        env: Mapping[str, str] | None = None,
        platform: str | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.env = os.environ if env is None else env
        self.platform = platform or sys.platform

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def open_url(self, url: str) -> bool:
        if browser_possible(self.env, self.platform):
            import webbrowser

            try:
                if webbrowser.open(url, new=2):
                    self._say(
                        f"Opened your browser to sign in. If it did not appear, open:\n  {url}"
                    )
                    return True
            except webbrowser.Error:
                pass
        return False

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        minutes = max(1, expires_in // 60)
        self._say(f"On any device, open {verification_uri} and enter this code:")
        self._say(_boxed(user_code))
        target = complete_uri or verification_uri
        try:
            import segno

            self._say("Or scan this QR code with a phone:")
            segno.make(target, error="m").terminal(out=self.stream, compact=True)
        except Exception:  # a QR code is a convenience; the URL and code above suffice
            self._say("(no QR code: segno is not available)")
        self._say(f"The code expires in {minutes} minute{'s' if minutes != 1 else ''}.")

    def status(self, message: str) -> None:
        self._say(message)
