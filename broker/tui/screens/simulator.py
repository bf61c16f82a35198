"""The Policy simulator view."""

from __future__ import annotations

from broker.tui.screens.feature import FeatureScreen

__all__ = ["SimulatorScreen"]


class SimulatorScreen(FeatureScreen):
    CRUMB = "Simulator"
    FEATURE = "simulator"
    TITLE_TEXT = "Simulator"
