"""STS's Query API wire format (Version 2011-06-15): XML results, XML errors, HTTP statuses.

botocore's ``query`` protocol parser reads ``<ActionResponse><ActionResult>...`` and
``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>``; these builders write
exactly those shapes, escaping every value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Union
from xml.sax.saxutils import escape

__all__ = ["NAMESPACE", "STATUS", "XmlValue", "error_xml", "result_xml", "status_for"]

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"

# STS error code -> HTTP status, as AWS answers them.
STATUS: dict[str, int] = {
    "AccessDenied": 403,
    "ValidationError": 400,
    "MalformedPolicyDocument": 400,
    "PackedPolicyTooLarge": 400,
    "ExpiredToken": 400,
    "InvalidIdentityToken": 400,
    "IDPRejectedClaim": 403,
    "IDPCommunicationError": 400,
    "RegionDisabled": 403,
    "InvalidClientTokenId": 403,
    "SignatureDoesNotMatch": 403,
    "IncompleteSignature": 400,
    "MissingAuthenticationToken": 403,
    "InvalidAction": 400,
    "InvalidAuthorizationMessageException": 400,
    "RequestEntityTooLarge": 413,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
}

XmlValue = Union[str, int, None, "Mapping[str, XmlValue]", "Sequence[Mapping[str, XmlValue]]"]


def status_for(code: str) -> int:
    """The HTTP status STS answers ``code`` with (400 for unknown sender errors)."""
    return STATUS.get(code, 400)


def _element(name: str, value: XmlValue) -> str:
    if isinstance(value, str):  # most values: before the (slow) Mapping ABC check
        return f"<{name}>{escape(value)}</{name}>"
    if value is None:
        return ""
    if isinstance(value, dict | Mapping):
        inner = "".join(_element(k, v) for k, v in value.items())
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, list | tuple):
        members = "".join(_element("member", item) for item in value)
        return f"<{name}>{members}</{name}>"
    return f"<{name}>{escape(str(value))}</{name}>"


def result_xml(action: str, result: Mapping[str, XmlValue], request_id: str) -> str:
    """``<{action}Response>`` with ``result`` inside ``<{action}Result>`` and the RequestId."""
    body = "".join(_element(k, v) for k, v in result.items())
    return (
        f'<{action}Response xmlns="{NAMESPACE}">'
        f"<{action}Result>{body}</{action}Result>"
        f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )


def error_xml(code: str, message: str, request_id: str) -> str:
    """STS's ``<ErrorResponse>``; ``Type`` is Receiver for 5xx, Sender otherwise."""
    kind = "Receiver" if status_for(code) >= 500 else "Sender"
    return (
        f'<ErrorResponse xmlns="{NAMESPACE}">'
        f"<Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{escape(request_id)}</RequestId>"
        f"</ErrorResponse>"
    )
