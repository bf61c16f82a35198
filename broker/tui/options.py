"""How the app was asked to look and behave (``--no-color``, ``--ascii``, ``--readonly``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "SPINNER", "SPINNER_ASCII", "TuiOptions"]

MIN_WIDTH = 80
MIN_HEIGHT = 24
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPINNER_ASCII = "|/-\\"


@dataclass(frozen=True)
class TuiOptions:
    """Display and safety switches.

    Args:
        no_color: monochrome; meaning rides on bold, reverse and glyphs (``NO_COLOR`` too).
        ascii_only: ASCII glyphs and spinner for terminals without Unicode.
        readonly: hide revoke and admin writes.
    """

    no_color: bool = False
    ascii_only: bool = False
    readonly: bool = False

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        no_color: bool = False,
        ascii_only: bool = False,
        readonly: bool = False,
    ) -> TuiOptions:
        """Flags win; ``NO_COLOR`` (any value, per no-color.org) also turns colour off."""
        environ = os.environ if env is None else env
        return cls(
            no_color=no_color or "NO_COLOR" in environ,
            ascii_only=ascii_only,
            readonly=readonly,
        )

    def glyph(self, unicode: str, ascii_text: str) -> str:
        """``unicode`` unless ``--ascii`` asked for ``ascii_text``."""
        return ascii_text if self.ascii_only else unicode

    @property
    def spinner(self) -> str:
        return SPINNER_ASCII if self.ascii_only else SPINNER
