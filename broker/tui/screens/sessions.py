"""The Every cached profile with a live countdown view."""

from __future__ import annotations

from broker.tui.screens.feature import FeatureScreen

__all__ = ["SessionsScreen"]


class SessionsScreen(FeatureScreen):
    CRUMB = "Sessions"
    FEATURE = "sessions"
    TITLE_TEXT = "Sessions"
