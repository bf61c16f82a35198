"""CloudTrail-shaped audit events, with every secret-bearing field removed before writing.

The shape follows CloudTrail's record (eventVersion, eventTime, eventSource, eventName,
awsRegion, sourceIPAddress, userAgent, userIdentity with sessionContext, requestParameters,
responseElements, errorCode, errorMessage, requestID, eventID, eventType). Secret access keys,
session tokens, ID tokens, SAML assertions, MFA codes and passwords never reach the log:
``redact`` drops them wherever they appear, whatever their capitalisation.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["SECRET_FIELDS", "cloudtrail_event", "redact"]

SECRET_FIELDS = frozenset(
    {
        "secretaccesskey",
        "sessiontoken",
        "webidentitytoken",
        "samlassertion",
        "tokencode",
        "password",
        "idtoken",
        "accesstoken",
        "refreshtoken",
        "clientsecret",
    }
)


_SCALARS = (str, int, float, type(None))  # bool is an int


@functools.lru_cache(maxsize=4096)
def _is_secret(key: object) -> bool:
    return str(key).lower().replace("_", "") in SECRET_FIELDS


def redact(value: Any) -> Any:
    """``value`` with every mapping key in ``SECRET_FIELDS`` (any case) removed, recursively.

    Scalars are recognised first by their concrete types: ``isinstance`` against the
    ``Mapping`` ABC is slow, and every event passes through here before it is written.
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, dict | Mapping):
        return {key: redact(item) for key, item in value.items() if not _is_secret(key)}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def cloudtrail_event(
    event_name: str,
    *,
    user_identity: Mapping[str, Any],
    request_id: str,
    source_ip: str | None = None,
    user_agent: str | None = None,
    request_parameters: Mapping[str, Any] | None = None,
    response_elements: Mapping[str, Any] | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    region: str = "us-east-1",
    event_source: str = "sts.amazonaws.com",
    event_type: str = "AwsApiCall",
    recipient_account: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One event as CloudTrail would record it (secrets removed)."""
    event: dict[str, Any] = {
        "eventVersion": "1.08",
        "eventTime": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "userIdentity": redact(dict(user_identity)),
        "requestParameters": redact(dict(request_parameters)) if request_parameters else None,
        "responseElements": redact(dict(response_elements)) if response_elements else None,
        "requestID": request_id,
        "eventID": str(uuid.uuid4()),
        "eventType": event_type,
        "readOnly": event_name.startswith("Get") and event_name != "GetSessionToken",
    }
    if error_code:
        event["errorCode"] = error_code
        event["errorMessage"] = error_message
    if recipient_account:
        event["recipientAccountId"] = recipient_account
    return event
