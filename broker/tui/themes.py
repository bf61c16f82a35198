"""The app's themes: dark, light, and a colour-blind-safe one (docs/tui.md §11).

In the colour-blind theme nothing rests on red versus green: "ok" is blue, warnings amber,
errors vermilion-orange, following the Okabe–Ito palette (distinguishable under deuteranopia,
protanopia and tritanopia). Every state also carries a glyph and a word.
"""

from __future__ import annotations

from textual.theme import Theme

__all__ = ["DEFAULT_THEME", "THEMES", "THEME_NAMES"]

THEMES: tuple[Theme, ...] = (
    Theme(
        name="broker-dark",
        primary="#5FAFD7",
        secondary="#87AFAF",
        accent="#D7AF5F",
        success="#5FD787",
        warning="#FFD75F",
        error="#FF5F5F",
        foreground="#E4E4E4",
        background="#1C1C1C",
        surface="#262626",
        panel="#303030",
        dark=True,
    ),
    Theme(
        name="broker-light",
        primary="#005F87",
        secondary="#5F8787",
        accent="#875F00",
        success="#007F3F",
        warning="#8A6100",
        error="#B00020",
        foreground="#1C1C1C",
        background="#FAFAFA",
        surface="#EEEEEE",
        panel="#E0E0E0",
        dark=False,
    ),
    Theme(
        name="broker-colorblind",
        primary="#56B4E9",
        secondary="#009E73",
        accent="#F0E442",
        success="#56B4E9",
        warning="#E69F00",
        error="#D55E00",
        foreground="#F0F0F0",
        background="#101418",
        surface="#1A2026",
        panel="#26303A",
        dark=True,
    ),
)
THEME_NAMES = tuple(theme.name for theme in THEMES)
DEFAULT_THEME = "broker-dark"
