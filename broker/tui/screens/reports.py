"""The Reports view."""

from __future__ import annotations

from broker.tui.screens.feature import FeatureScreen

__all__ = ["ReportsScreen"]


class ReportsScreen(FeatureScreen):
    CRUMB = "Reports"
    FEATURE = "reports"
    TITLE_TEXT = "Reports"
