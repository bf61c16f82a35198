"""Selecting audit events by user, role, time and event name (``broker audit query|tail``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["EventFilter", "select"]


def _users(event: Mapping[str, Any]) -> set[str]:
    identity = event.get("userIdentity") or {}
    names = {identity.get("userName"), identity.get("brokerUser")}
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    names.add(issuer.get("userName"))
    return {name for name in names if name}


def _roles(event: Mapping[str, Any]) -> set[str]:
    identity = event.get("userIdentity") or {}
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    params = event.get("requestParameters") or {}
    return {arn for arn in (issuer.get("arn"), params.get("roleArn")) if arn}


@dataclass(frozen=True)
class EventFilter:
    """All given conditions must hold; ``role`` matches an ARN or a bare role name."""

    user: str | None = None
    role: str | None = None
    since: datetime | None = None
    event: str | None = None

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.event and event.get("eventName") != self.event:
            return False
        if self.user and self.user not in _users(event):
            return False
        if self.role:
            roles = _roles(event)
            if self.role not in roles and not any(
                arn.endswith(f":role/{self.role}") for arn in roles
            ):
                return False
        if self.since:
            when = datetime.fromisoformat(str(event.get("eventTime", "")).replace("Z", "+00:00"))
            if when < self.since:
                return False
        return True


def select(events: Iterable[Mapping[str, Any]], spec: EventFilter) -> Iterator[Mapping[str, Any]]:
    """The events ``spec`` matches, in log order."""
    return (event for event in events if spec.matches(event))
