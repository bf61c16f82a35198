"""CloudTrail-shaped events as the broker's STS service and minter write them, for reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from broker.audit import cloudtrail_event

NOW = datetime.fromisoformat("2026-06-01T12:00:00+00:00")


def key_caller(user: str, key_id: str, account: str = "111111111111") -> dict[str, Any]:
    """``userIdentity`` of a request signed with a user's long-term key."""
    return {
        "type": "IAMUser",
        "userName": user,
        "principalId": f"AIDEXAMPLE{user}",
        "arn": f"arn:aws:iam::{account}:user/{user}",
        "accountId": account,
        "accessKeyId": key_id,
        "brokerUser": user,
    }


def role_caller(role_arn: str, user: str, key_id: str = "BRKSEXAMPLESESSION01") -> dict[str, Any]:
    """``userIdentity`` of a request signed with a role session's credentials."""
    account = role_arn.split(":")[4]
    return {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{user}",
        "accountId": account,
        "accessKeyId": key_id,
        "brokerUser": user,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "arn": role_arn,
                "accountId": account,
                "userName": role_arn.rsplit("/", 1)[-1],
            }
        },
    }


def authorize(
    caller: dict[str, Any],
    action: str,
    when: datetime,
    *,
    region: str = "eu-west-1",
    decision: str = "Allow",
) -> dict[str, Any]:
    event = cloudtrail_event(
        "Authorize",
        user_identity=caller,
        request_id="req-authorize",
        response_elements={"action": action, "resource": "*", "decision": decision},
        region=region,
        now=when,
    )
    event["eventSource"] = "broker.authorize"
    return event


def sign_in(
    user: str,
    email: str,
    role_arn: str,
    when: datetime,
    expires: datetime,
    *,
    provider: str = "demo",
    error: str | None = None,
) -> dict[str, Any]:
    """A session minted for ``user`` (the local minter's AssumeRoleWithSAML event)."""
    return cloudtrail_event(
        "AssumeRoleWithSAML",
        user_identity={
            "type": "SAMLUser",
            "userName": user,
            "identityProvider": provider,
            "brokerUser": email,
        },
        request_id="req-mint",
        request_parameters={"roleArn": role_arn, "roleSessionName": user},
        response_elements=None
        if error
        else {
            "credentials": {
                "accessKeyId": "BRKSEXAMPLESESSION02",
                "expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        },
        error_code=error,
        error_message="refused" if error else None,
        now=when,
    )
