"""A process-local replay cache for SAML assertion ids (``providers.base.ReplayCache``).

For one process (tests, an in-process minter). ``broker serve`` uses the shared one instead
(``broker.server.app.shared_replay_cache``: ``broker.storage.SqlReplayCache`` in the
shared-state database), so every worker and replica refuses a replay.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

__all__ = ["MemoryReplayCache"]


class MemoryReplayCache:
    """Values remembered until their expiry; expired ones are swept as new ones arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], datetime] = {}

    def add_once(self, namespace: str, value: str, expires_at: datetime) -> bool:
        now = datetime.now(UTC)
        key = (namespace, value)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = expires_at
            return True
