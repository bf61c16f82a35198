"""Secrets never reach an audit event, wherever and however they are spelled."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from broker.audit import REDACTED, cloudtrail_event, redact, redact_text
from broker.audit.events import secret_shaped


def test_secret_fields_are_dropped_at_any_depth_and_in_any_spelling() -> None:
    value = {
        "credentials": {"AccessKeyId": "BRKSEXAMPLE", "SecretAccessKey": "s3cr3t"},
        "items": [{"session_token": "tok"}, ({"SAMLAssertion": "PHNhbWw+"}, "kept")],
        "proxy": MappingProxyType({"WebIdentityToken": "eyJ", "sub": "alice@example.com"}),
        "TokenCode": "123456",
        7: "a number key stays",
        "flag": True,
        "nothing": None,
    }
    assert redact(value) == {
        "credentials": {"AccessKeyId": "BRKSEXAMPLE"},
        "items": [{}, [{}, "kept"]],
        "proxy": {"sub": "alice@example.com"},
        7: "a number key stays",
        "flag": True,
        "nothing": None,
    }


def test_an_event_carries_no_secret_from_its_parts() -> None:
    event = cloudtrail_event(
        "AssumeRoleWithWebIdentity",
        user_identity={"type": "WebIdentityUser", "idToken": "eyJhbGciOi"},
        request_id="r-1",
        request_parameters={"webIdentityToken": "eyJhbGciOi", "roleSessionName": "build"},
        response_elements={
            "credentials": {
                "secretAccessKey": "SECRET-KEY-VALUE",
                "sessionToken": "SESSION-TOKEN-VALUE",
            }
        },
    )
    text = repr(event)
    assert "eyJhbGciOi" not in text and "SECRET-KEY" not in text and "SESSION-TOKEN" not in text
    assert event["requestParameters"] == {"roleSessionName": "build"}


SESSION_TOKEN = (  # the shape of ours: a compact JWS (header {"alg":"ES256",...})
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYnJva2VyLXNlc3Npb24rand0In0"
    ".eyJpc3MiOiJhY2Nlc3MtYnJva2VyIn0.c2lnbmF0dXJlLWJ5dGVzLWFyZS1oZXJlLW5vdC1yZWFs"
)
SECRET_KEY = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY+/"


@pytest.mark.parametrize(
    "value",
    [
        SESSION_TOKEN,
        SESSION_TOKEN + ".x.y",  # JWE's five parts
        SECRET_KEY,
        "PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiPg==",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",  # a base32 TOTP seed
    ],
    ids=["jws", "jwe", "secret-key", "saml-response", "totp-seed"],
)
def test_secret_shaped_values_are_hidden_under_any_field_name(value) -> None:
    assert secret_shaped(value)
    event = cloudtrail_event(
        "AssumeRole",
        user_identity={"type": "IAMUser"},
        request_id="r-1",
        request_parameters={"externalId": value, "X-Amz-Security-Token": value},
        error_code="AccessDenied",
        error_message=f"Value '{value}' at 'externalId' was refused",
        user_agent=f"tool/1.0 token/{value}",
    )
    assert value not in repr(event)
    assert event["requestParameters"]["externalId"] == REDACTED
    assert event["errorMessage"] == f"Value '{REDACTED}' at 'externalId' was refused"


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:iam::111122223333:role/service/ci-deploy",
        "arn:aws:sts::111122223333:assumed-role/ci-deploy/botocore-session-1733456789",
        "ab" * 32,  # a lower-case hex digest
        "build-runner-2026-release-pipeline-job",
        '{"Version":"2012-10-17","Statement":[]}',
        "BRKSABCDEFGHIJKLMNOP",  # an access key id
        "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1 lang/python#3.11.7",
    ],
)
def test_ordinary_values_stay_readable(value) -> None:
    assert not secret_shaped(value)
    assert redact({"value": value}) == {"value": value}
    assert redact_text(value) == value
