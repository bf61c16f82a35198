"""Selecting one principal's own events from the audit log, for last-accessed.

A user's events are the calls signed with its long-term keys (``IAMUser`` with the user's ARN:
a same-named user of another account is another principal); a role's (or a
permission set's provisioned roles') are the calls made with its sessions (the session's
issuer). Minted sessions of the role say when the role itself was last assumed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from broker.analyzer.usage import (
    MINT_EVENTS,
    event_role_arns,
    event_time,
    identity,
    is_authenticated,
)

__all__ = ["Principal", "PrincipalEvents", "principal_events"]


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "role", "permission-set"]
    name: str
    role_arns: frozenset[str] = frozenset()
    user_arn: str | None = None  # a user's ARN; None matches the name in any account


@dataclass(frozen=True)
class PrincipalEvents:
    events: tuple[Mapping[str, Any], ...]
    last_assumed: datetime | None


def principal_events(events: Iterable[Mapping[str, Any]], who: Principal) -> PrincipalEvents:
    """The events ``who`` made, and (for roles) when a session of it was last minted."""
    own: list[Mapping[str, Any]] = []
    assumed: datetime | None = None
    for event in events:
        if not is_authenticated(event):
            continue
        caller = identity(event)
        if who.kind == "user":
            if (
                caller.get("type") == "IAMUser"
                and caller.get("userName") == who.name
                and (who.user_arn is None or caller.get("arn") == who.user_arn)
            ):
                own.append(event)
            continue
        if event_role_arns(event) & who.role_arns:
            own.append(event)
        params = event.get("requestParameters") or {}
        if (
            event.get("eventName") in MINT_EVENTS
            and not event.get("errorCode")
            and isinstance(params, Mapping)
            and params.get("roleArn") in who.role_arns
        ):
            when = event_time(event)
            if when is not None and (assumed is None or when > assumed):
                assumed = when
    return PrincipalEvents(tuple(own), assumed)
