"""The replay cache's interface: what token validation needs to make a one-time value single-use.

Its own small module, free of heavy imports, because the provider seam (``providers.base``)
re-exports it and the broker's stores implement it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["ReplayCache"]


class ReplayCache(Protocol):
    """Remembers one-time values (SAML assertion ids, request ids) until they expire.

    Shared by every process (and, later, every replica) so a replay is refused everywhere.
    """

    def add_once(self, namespace: str, value: str, expires_at: datetime) -> bool:
        """Record ``value``; False if it was already recorded and has not expired."""
        ...
