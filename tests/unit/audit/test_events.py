"""Secrets never reach an audit event, wherever and however they are spelled."""

from __future__ import annotations

from types import MappingProxyType

from broker.audit import cloudtrail_event, redact


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
