"""The audit seam: where events go, whichever store keeps the chain (file or database)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["AuditSink"]


class AuditSink(Protocol):
    """Appends events durably before the caller answers (``AuditLog``, ``SqlAuditLog``)."""

    def append(self, event: Mapping[str, Any]) -> object:
        """Write ``event``; raise ``AuditError`` when it cannot be written (fail closed)."""
        ...

    async def append_async(self, event: Mapping[str, Any]) -> object:
        """As ``append``, awaited on an event loop without blocking it."""
        ...
