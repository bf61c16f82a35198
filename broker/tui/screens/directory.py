"""The Directory view."""

from __future__ import annotations

from broker.tui.screens.feature import FeatureScreen

__all__ = ["DirectoryScreen"]


class DirectoryScreen(FeatureScreen):
    CRUMB = "Directory"
    FEATURE = "directory"
    TITLE_TEXT = "Directory"
