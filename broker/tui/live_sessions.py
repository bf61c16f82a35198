"""The cached sessions the app keeps in memory for the header and the portal's countdowns (no
Textual). A role is matched by account and by its role name or its permission set: Sessions
rows name an assignment profile's role by its permission set, as the portal labels it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from broker.tui.model import PortalRole, SessionRow

__all__ = ["LiveSessions"]


@dataclass(frozen=True)
class LiveSessions:
    rows: tuple[SessionRow, ...] = ()

    @classmethod
    def of(cls, rows: Sequence[SessionRow]) -> LiveSessions:
        return cls(tuple(rows))

    def _for(self, role: PortalRole) -> list[SessionRow]:
        names = (role.role_name, role.label)
        return [r for r in self.rows if r.account_id == role.account_id and r.role_name in names]

    def seconds_left(self, role: PortalRole, now: datetime) -> float | None:
        """Seconds left on the latest cached credentials for ``role`` (``None``: none cached)."""
        ends = [r.expiration for r in self._for(role)]
        return (max(ends) - now).total_seconds() if ends else None

    def profile_for(self, role: PortalRole, now: datetime) -> str | None:
        """The profile holding the latest live credentials for ``role``, if one does."""
        live = [r for r in self._for(role) if r.expiration > now]
        return max(live, key=lambda r: r.expiration).profile if live else None

    def live(self, now: datetime) -> tuple[int, float | None]:
        """How many are live, and the seconds left on the nearest to expire."""
        left = [(r.expiration - now).total_seconds() for r in self.rows]
        alive = [seconds for seconds in left if seconds > 0]
        return len(alive), (min(alive) if alive else None)
