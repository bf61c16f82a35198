"""The audit event every upstream minter writes (``aws``, ``aws-saml``, ``aws-web-identity``,
``aws-identity-center``): who, which role, which way, expiry — never a secret."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from broker.errors import AuditError, StsError
from broker.minters.base import Credentials, MintRequest
from broker.minters.upstream_audit import UpstreamCall, record_upstream
from providers.base import Claims

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
CLAIMS = Claims(provider="work", issuer="https://start.example/start", subject="s-1")
REQUEST = MintRequest(account_id="111122223333", role_name="ReadOnly", reason="on call")


class Events:
    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    def append(self, event: Mapping[str, Any]) -> None:
        self.written.append(dict(event))


class Broken:
    def append(self, event: Mapping[str, Any]) -> None:
        raise OSError(28, "No space left on device")


def test_identity_center_mint_names_the_portal_role_and_expiry_never_the_secret() -> None:
    events = Events()
    credentials = Credentials(
        "ASIAEXAMPLE", "secret-key", "session-token", NOW + timedelta(hours=1)
    )
    call = UpstreamCall(
        "GetRoleCredentials",
        "IdentityCenterUser",
        "aws-identity-center",
        {},
        source="sso.amazonaws.com",
    )
    record_upstream(events, NOW, CLAIMS, REQUEST, call, credentials=credentials)
    (event,) = events.written
    assert event["eventSource"] == "sso.amazonaws.com"
    assert event["eventName"] == "GetRoleCredentials"
    assert event["userIdentity"]["principalId"] == "https://start.example/start:s-1"
    assert event["requestParameters"] == {"accountId": "111122223333", "roleName": "ReadOnly"}
    assert event["responseElements"]["credentials"] == {
        "accessKeyId": "ASIAEXAMPLE",
        "expiration": "2026-12-06T06:00:00Z",
    }
    assert event["additionalEventData"] == {"minter": "aws-identity-center", "reason": "on call"}
    text = json.dumps(event)
    assert "secret-key" not in text and "session-token" not in text


def test_a_refusal_records_the_code_and_no_credentials() -> None:
    events = Events()
    call = UpstreamCall("AssumeRoleWithSAML", "SAMLUser", "aws-saml", {"roleArn": "arn:x"})
    refused = StsError("Not authorized to perform sts:AssumeRoleWithSAML", code="AccessDenied")
    record_upstream(events, NOW, CLAIMS, REQUEST, call, error=refused)
    (event,) = events.written
    assert event["eventSource"] == "sts.amazonaws.com"
    assert event["errorCode"] == "AccessDenied"
    assert "responseElements" not in event
    assert event["requestParameters"]["roleArn"] == "arn:x"


def test_an_unwritable_log_stops_the_mint() -> None:
    call = UpstreamCall("AssumeRoleWithWebIdentity", "WebIdentityUser", "aws-web-identity", {})
    with pytest.raises(AuditError, match="nothing was issued"):
        record_upstream(Broken(), NOW, CLAIMS, REQUEST, call)
