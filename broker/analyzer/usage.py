"""What audit events say about use: who acted, when, on which service, in which region.

Pure functions over CloudTrail-shaped events (``broker.audit``), shared by the credential
report and last-accessed. Refused signatures (``userIdentity.type == "Unknown"``) are not use:
the key in them was never proved.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = [
    "MINT_EVENTS",
    "event_action",
    "event_role_arns",
    "event_service",
    "event_time",
    "identity",
    "is_authenticated",
]

MINT_EVENTS = frozenset(
    {"AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetFederationToken"}
)


def identity(event: Mapping[str, Any]) -> Mapping[str, Any]:
    value = event.get("userIdentity")
    return value if isinstance(value, Mapping) else {}


def is_authenticated(event: Mapping[str, Any]) -> bool:
    """The caller was verified (an event for a bad signature carries type ``Unknown``)."""
    return identity(event).get("type") not in (None, "Unknown")


def event_time(event: Mapping[str, Any]) -> datetime | None:
    text = event.get("eventTime")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def event_action(event: Mapping[str, Any]) -> str:
    """``service:Action`` the event records: the authorized action, or the STS call itself."""
    response = event.get("responseElements") or {}
    if event.get("eventName") == "Authorize" and isinstance(response, Mapping):
        action = response.get("action")
        if isinstance(action, str) and ":" in action:
            return action
    source = str(event.get("eventSource") or "sts.amazonaws.com").split(".", 1)[0]
    return f"{source}:{event.get('eventName', '')}"


def event_service(event: Mapping[str, Any]) -> str:
    """The service namespace (``s3``, ``sts``, ...) the event used, lower case."""
    return event_action(event).split(":", 1)[0].lower()


def event_role_arns(event: Mapping[str, Any]) -> set[str]:
    """Roles the event acted as (the session's issuer)."""
    context = identity(event).get("sessionContext") or {}
    issuer = context.get("sessionIssuer") or {} if isinstance(context, Mapping) else {}
    arn = issuer.get("arn") if isinstance(issuer, Mapping) else None
    return {arn} if isinstance(arn, str) else set()
