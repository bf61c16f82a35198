"""The Query API edge: form parameters into typed requests, each parameter's errors as STS
words them, and list parameters an action does not take refused rather than ignored."""

from __future__ import annotations

import pytest

from broker.errors import StsError
from broker.sts.query_form import parse_request
from broker.sts.requests import (
    AssumeRoleRequest,
    AssumeRoleWithSamlRequest,
    AssumeRoleWithWebIdentityRequest,
    GetCallerIdentityRequest,
    GetFederationTokenRequest,
    GetSessionTokenRequest,
)

ROLE = "arn:aws:iam::111122223333:role/Deploy"
PROVIDER = "arn:aws:iam::111122223333:saml-provider/Example"
POLICY_ARN = "arn:aws:iam::aws:policy/AWSDenyAll"


def refused(action: str, params: dict[str, str]) -> StsError:
    with pytest.raises(StsError) as caught:
        parse_request(action, params)
    return caught.value


def test_assume_role_parameters_become_typed_values() -> None:
    request = parse_request(
        "AssumeRole",
        {
            "RoleArn": ROLE,
            "RoleSessionName": "deploy",
            "DurationSeconds": "0900",
            "Policy": '{"Statement": []}',
            "PolicyArns.member.1.arn": POLICY_ARN,
            "PolicyArns.member.2.arn": POLICY_ARN + "2",
            "Tags.member.2.Key": "team",
            "Tags.member.2.Value": "platform",
            "Tags.member.1.Key": "project",
            "TransitiveTagKeys.member.1": "project",
            "ExternalId": "example-7788",
            "SerialNumber": "arn:aws:iam::111122223333:mfa/alice",
            "TokenCode": "123456",
            "SourceIdentity": "alice",
        },
    )
    assert request == AssumeRoleRequest(
        role_arn=ROLE,
        role_session_name="deploy",
        duration_seconds=900,
        policy='{"Statement": []}',
        policy_arns=(POLICY_ARN, POLICY_ARN + "2"),
        tags=(("project", ""), ("team", "platform")),  # by member number; no value is empty
        transitive_tag_keys=("project",),
        external_id="example-7788",
        serial_number="arn:aws:iam::111122223333:mfa/alice",
        token_code="123456",
        source_identity="alice",
    )
    assert "123456" not in repr(request)


def test_absent_optional_parameters_are_none_or_empty() -> None:
    request = parse_request("AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "deploy"})
    assert request == AssumeRoleRequest(role_arn=ROLE, role_session_name="deploy")
    assert request.duration_seconds is None and request.tags == () and request.policy is None
    assert parse_request("GetCallerIdentity", {}) == GetCallerIdentityRequest()
    assert parse_request("GetSessionToken", {}) == GetSessionTokenRequest()


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("AssumeRole", {"RoleSessionName": "deploy"}, "roleArn"),
        ("AssumeRole", {"RoleArn": ROLE}, "roleSessionName"),
        ("AssumeRoleWithWebIdentity", {"RoleSessionName": "x1"}, "roleArn"),
        ("AssumeRoleWithWebIdentity", {"RoleArn": ROLE}, "roleSessionName"),
        ("AssumeRoleWithSAML", {"PrincipalArn": PROVIDER}, "roleArn"),
        ("AssumeRoleWithSAML", {"RoleArn": ROLE}, "principalArn"),
        ("GetFederationToken", {}, "name"),
    ],
)
def test_a_missing_required_parameter_is_null(action, params, field) -> None:
    error = refused(action, params)
    assert error.code == "ValidationError"
    assert error.message == (
        f"1 validation error detected: Value null at '{field}' failed to satisfy "
        "constraint: Member must not be null"
    )


@pytest.mark.parametrize(
    "action", ["GetSessionToken", "GetFederationToken", "AssumeRole", "AssumeRoleWithSAML"]
)
def test_duration_must_be_a_number(action) -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "x1", "PrincipalArn": PROVIDER, "Name": "app"}
    error = refused(action, {**params, "DurationSeconds": "1h"})
    assert error.code == "ValidationError"
    assert error.message == (
        "1 validation error detected: Value '1h' at 'durationSeconds' failed to satisfy "
        "constraint: Member must be a number"
    )


def test_policy_arns_must_be_numbered_without_gaps() -> None:
    base = {"RoleArn": ROLE, "RoleSessionName": "deploy"}
    gap = refused("AssumeRole", {**base, "PolicyArns.member.2.arn": POLICY_ARN})
    assert gap.code == "ValidationError" and "'PolicyArns.member.2.arn' at 'policyArns'" in str(gap)
    stray = refused(
        "AssumeRole", {**base, "PolicyArns.member.1.arn": POLICY_ARN, "PolicyArns.member.1": "x"}
    )
    assert stray.code == "ValidationError" and "policyArns" in str(stray)


def test_tags_are_read_up_to_one_past_the_limit_for_the_operation_to_refuse() -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "deploy"}
    for index in range(1, 60):
        params[f"Tags.member.{index}.Key"] = f"k{index}"
    request = parse_request("AssumeRole", params)
    assert isinstance(request, AssumeRoleRequest) and len(request.tags) == 51


@pytest.mark.parametrize(
    ("action", "extra", "named"),
    [
        ("AssumeRoleWithWebIdentity", {"Tags.member.1.Key": "team"}, "Tags"),
        ("AssumeRoleWithWebIdentity", {"TransitiveTagKeys.member.1": "team"}, "TransitiveTagKeys"),
        ("AssumeRoleWithSAML", {"Tags.member.1.Key": "team"}, "Tags"),
        ("GetFederationToken", {"TransitiveTagKeys.member.1": "team"}, "TransitiveTagKeys"),
    ],
)
def test_a_list_parameter_the_action_does_not_take_is_refused(action, extra, named) -> None:
    params = {"RoleArn": ROLE, "RoleSessionName": "x1", "PrincipalArn": PROVIDER, "Name": "app"}
    error = refused(action, {**params, **extra})
    assert error.code == "ValidationError"
    assert error.message == f"{action} takes no {named} parameter; remove it from the request."


def test_unsigned_requests_keep_their_proof_out_of_repr() -> None:
    web = parse_request(
        "AssumeRoleWithWebIdentity",
        {"RoleArn": ROLE, "RoleSessionName": "ci", "WebIdentityToken": "eyJ.secret.part"},
    )
    assert web == AssumeRoleWithWebIdentityRequest(ROLE, "ci", "eyJ.secret.part")
    assert "secret" not in repr(web)
    saml = parse_request(
        "AssumeRoleWithSAML", {"RoleArn": ROLE, "PrincipalArn": PROVIDER, "SAMLAssertion": "PHNh"}
    )
    assert saml == AssumeRoleWithSamlRequest(ROLE, PROVIDER, "PHNh") and "PHNh" not in repr(saml)
    # absent, the proof is empty: the operation refuses it with STS's length rule
    bare = parse_request("AssumeRoleWithWebIdentity", {"RoleArn": ROLE, "RoleSessionName": "ci"})
    assert isinstance(bare, AssumeRoleWithWebIdentityRequest) and bare.web_identity_token == ""


def test_federation_token_parameters() -> None:
    request = parse_request(
        "GetFederationToken",
        {"Name": "app", "DurationSeconds": "7200", "Tags.member.1.Key": "team"},
    )
    assert request == GetFederationTokenRequest(
        name="app", duration_seconds=7200, tags=(("team", ""),)
    )


def test_the_callers_kind_is_refused_before_its_parameters_are_read(tmp_path) -> None:
    """Through the Query API: session credentials may not call GetSessionToken, and that is
    the answer even when the request's parameters are malformed too."""
    from broker.server.query_api import StsService
    from tests.state_support import embedded_state
    from tests.unit.server.test_query_api import call, credentials_of

    service = StsService.over(embedded_state(tmp_path), data=tmp_path)
    record, secret = service.keys.create("svc-app", "111122223333")
    minted = credentials_of(
        call(service, record.access_key_id, secret, {"Action": "GetSessionToken"}).body
    )
    session = (minted["AccessKeyId"], minted["SecretAccessKey"])
    params = {"Action": "GetSessionToken", "DurationSeconds": "soon"}
    answer = call(service, *session, params, token=minted["SessionToken"])
    assert answer.status == 403 and "<Code>AccessDenied</Code>" in answer.body
    assert "Cannot call GetSessionToken with session credentials" in answer.body
    # the long-term key's own malformed request gets the parameter's error
    answer = call(service, record.access_key_id, secret, params)
    assert answer.status == 400 and "<Code>ValidationError</Code>" in answer.body
    assert "durationSeconds" in answer.body and "Member must be a number" in answer.body
