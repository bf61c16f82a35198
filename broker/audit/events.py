"""CloudTrail-shaped audit events, with every secret-bearing field removed before writing.

The shape follows CloudTrail's record (eventVersion, eventTime, eventSource, eventName,
awsRegion, sourceIPAddress, userAgent, userIdentity with sessionContext, requestParameters,
responseElements, errorCode, errorMessage, requestID, eventID, eventType). Secret access keys,
session tokens, ID tokens, SAML assertions, MFA codes and passwords never reach the log:
``redact`` drops them wherever they appear, whatever their capitalisation.

A field list alone misses a secret sent under another name (a session token as
``X-Amz-Security-Token`` or ``SecurityToken``, or pasted into ``ExternalId``), so values are
judged by their shape too (``secret_shaped``): a compact JWS/JWE (our session tokens, OIDC ID
tokens) or a long standard-base64 string with upper case and lower case or digits (a secret
access key, a SAML response, an upstream session token) is replaced by ``REDACTED``, and such
runs inside free text (``errorMessage``, ``userAgent``) likewise. The shape test errs towards
redacting: a 32-character random-looking name is hidden too.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "REDACTED",
    "SECRET_FIELDS",
    "cloudtrail_event",
    "redact",
    "redact_text",
    "secret_shaped",
]

REDACTED = "HIDDEN_DUE_TO_SECURITY_REASONS"
"""What stands in the log where a secret-shaped value was (CloudTrail's own word for it)."""

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
_MAX_USER_AGENT = 1024
"""A client's ``User-Agent`` is kept to this many characters: it is the caller's free text."""


@functools.lru_cache(maxsize=4096)
def _is_secret(key: object) -> bool:
    return str(key).lower().replace("_", "") in SECRET_FIELDS


_SHORTEST_SECRET = 32
_COMPACT_JOSE = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2}(?:(?:\.[A-Za-z0-9_-]*){2})?")
_STANDARD_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_JOSE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}")
_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/]{{{_SHORTEST_SECRET},}}={{0,2}}")


def secret_shaped(value: str) -> bool:
    """Whether ``value`` looks like a credential, whatever field it came in.

    A compact JWS or JWE (a header that starts ``eyJ``, the base64url of ``{"``: session tokens,
    ID tokens), or at least 32 characters of standard base64 with upper case and lower case or
    digits (secret access keys, base64 SAML responses, base32 TOTP seeds, opaque upstream
    tokens). ARNs, policies, lower-case hex digests and names with ``-``, ``_`` or ``.`` are not
    of this kind and stay readable.
    """
    if len(value) < _SHORTEST_SECRET:
        return False
    if value.startswith("eyJ") and _COMPACT_JOSE.fullmatch(value):
        return True
    return (
        _STANDARD_BASE64.fullmatch(value) is not None
        and any(c.isupper() for c in value)
        and any(c.islower() or c.isdigit() for c in value)
    )


def redact_text(text: str) -> str:
    """Free text (an error message, a user agent) with each secret-shaped run replaced."""
    if len(text) < _SHORTEST_SECRET:
        return text
    text = _JOSE_IN_TEXT.sub(REDACTED, text)
    return _BASE64_RUN.sub(
        lambda run: REDACTED if secret_shaped(run.group()) else run.group(), text
    )


def redact(value: Any) -> Any:
    """``value`` with every mapping key in ``SECRET_FIELDS`` (any case) removed, and every
    secret-shaped string (``secret_shaped``) replaced by ``REDACTED``, recursively.

    Scalars are recognised first by their concrete types: ``isinstance`` against the
    ``Mapping`` ABC is slow, and every event passes through here before it is written.
    """
    if isinstance(value, str):
        return REDACTED if secret_shaped(value) else value
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
        "userAgent": redact_text(user_agent[:_MAX_USER_AGENT]) if user_agent else user_agent,
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
        event["errorMessage"] = redact_text(error_message) if error_message else error_message
    if recipient_account:
        event["recipientAccountId"] = recipient_account
    return event
