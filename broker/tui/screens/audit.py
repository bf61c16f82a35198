"""The Audit log view."""

from __future__ import annotations

from broker.tui.screens.feature import FeatureScreen

__all__ = ["AuditScreen"]


class AuditScreen(FeatureScreen):
    CRUMB = "Audit"
    FEATURE = "audit"
    TITLE_TEXT = "Audit"
