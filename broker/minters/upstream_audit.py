"""The audit event of a call to AWS STS upstream, shared by the ``aws`` minter, the
federation minters (``aws-saml``, ``aws-web-identity``) and ``aws-identity-center``.

CloudTrail-shaped, as the broker's own STS writes them: who (issuer, subject, provider), which
operation and role, and for a mint the access key id and expiry, for a refusal the code and
message. Never a secret: the caller passes only parameters that may be shown (no session policy
text, no assertion, no token). Written before the answer leaves; if it cannot be, nothing is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from broker.errors import AuditError, StsError
from broker.minters.base import Credentials, MintRequest
from providers.base import Claims

if TYPE_CHECKING:
    from broker.sts.state_handle import StateHandle

__all__ = ["AuditSink", "UpstreamCall", "open_audit_chain", "record_upstream"]


class AuditSink(Protocol):
    """Where mint and refusal events go (the broker's audit log)."""

    def append(self, event: Mapping[str, Any]) -> object:
        """Write ``event`` durably; raise ``AuditError`` when it cannot be written."""
        ...


@dataclass(frozen=True)
class UpstreamCall:
    """One call as the audit log tells it.

    Args:
        operation: the STS action.
        user_type: ``WebIdentityUser`` or ``SAMLUser`` (CloudTrail's userIdentity.type).
        minter: which minter made it.
        shown: request parameters that may be written (nothing secret).
        source: the AWS service called (``sso.amazonaws.com`` for Identity Center's portal).
    """

    operation: str
    user_type: str
    minter: str
    shown: Mapping[str, Any]
    source: str = "sts.amazonaws.com"


def record_upstream(
    audit: AuditSink,
    now: datetime,
    claims: Claims,
    request: MintRequest,
    call: UpstreamCall,
    *,
    credentials: Credentials | None = None,
    response: Mapping[str, Any] | None = None,
    error: StsError | None = None,
) -> None:
    """Append the event of ``call``; ``AuditError`` (nothing may be handed out) if it fails."""
    event: dict[str, Any] = {
        "eventVersion": "1.08",
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": call.source,
        "eventName": call.operation,
        "eventType": "AwsApiCall",
        "userIdentity": {
            "type": call.user_type,
            "principalId": f"{claims.issuer}:{claims.subject}",
            "userName": claims.email or claims.subject,
            "identityProvider": claims.provider,
        },
        "requestParameters": dict(call.shown)
        | {"accountId": request.account_id, "roleName": request.role_name},
        "recipientAccountId": request.account_id,
        "additionalEventData": {"minter": call.minter, "reason": request.reason},
    }
    if credentials is not None:
        event["responseElements"] = {
            "credentials": {
                "accessKeyId": credentials.access_key_id,
                "expiration": credentials.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            **(response or {}),
        }
    if error is not None:
        event["errorCode"] = error.code
        event["errorMessage"] = error.message
    try:
        audit.append(event)
    except OSError as exc:
        raise AuditError(
            f"the audit log cannot be written ({exc.strerror}); nothing was issued"
        ) from None


def open_audit_chain(state: StateHandle) -> AuditSink:
    """The one state's audit chain (the configured database, else the data directory's), as
    the front end's handle opens it: where every upstream minter records its calls."""
    return state.state().shared.audit
