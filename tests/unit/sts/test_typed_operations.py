"""The operations' own value rules hold for typed requests built off the wire (as the local
minter builds them), and typed results render to STS's elements and a secret-free audit."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from broker.errors import StsError
from broker.sts.assume_role import assume_role
from broker.sts.callers import Caller
from broker.sts.context import StsContext
from broker.sts.operations import get_caller_identity, get_federation_token, get_session_token
from broker.sts.query_results import result_elements
from broker.sts.requests import (
    AssumeRoleRequest,
    AssumeRoleWithSamlRequest,
    AssumeRoleWithWebIdentityRequest,
    GetCallerIdentityRequest,
    GetFederationTokenRequest,
    GetSessionTokenRequest,
)
from broker.sts.saml_assertion import assume_role_with_saml
from broker.sts.session_token import verify_session
from broker.sts.web_identity import assume_role_with_web_identity
from broker.sts.wire import result_xml
from tests.state_support import embedded_state
from tests.unit.sts.principal_data import ALICE, HOME, Directory, trust

PROVIDER = f"arn:aws:iam::{HOME}:saml-provider/Example"
ARN_20 = "arn:aws:iam::aws:policy/AWSDenyAll"
FIXED = datetime(2026, 3, 4, 5, 6, 7, 891_011, tzinfo=UTC)


def alice() -> Caller:
    return Caller(
        arn=ALICE, account=HOME, user_id="BRKIALICE", user="alice", access_key_id="BRKU" + "A" * 16
    )


@pytest.fixture
def deps(tmp_path) -> StsContext:
    directory = Directory()
    directory.add_role(HOME, "Deploy", trust({"AWS": ALICE}, actions=("sts:AssumeRole",)))
    return StsContext(
        embedded_state(tmp_path).ring,
        directory,
        embedded_state(tmp_path).shared.session_policies,
        clock=lambda: FIXED,
    )


ROLE = f"arn:aws:iam::{HOME}:role/Deploy"


def assume_refused(deps: StsContext, **values) -> StsError:
    request = AssumeRoleRequest(**{"role_arn": ROLE, "role_session_name": "deploy", **values})
    with pytest.raises(StsError) as caught:
        assume_role(deps, alice(), request)
    return caught.value


def _noise(count: int, size: int) -> list[str]:
    """Text that does not compress (hex of hashes), so packed size grows with it."""
    return [
        "".join(hashlib.sha256(f"{i}.{j}".encode()).hexdigest() for j in range(size // 64))[:size]
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("values", "code", "fragment"),
    [
        ({"role_session_name": "a"}, "ValidationError", "'roleSessionName' failed"),
        ({"role_session_name": "\u0430dmin"}, "ValidationError", "regular expression"),
        ({"role_session_name": "admin\n"}, "ValidationError", "regular expression"),
        ({"external_id": "x"}, "ValidationError", "'externalId' failed"),
        ({"policy": "x" * 2049}, "ValidationError", "less than or equal to 2048"),
        ({"policy": "not json"}, "MalformedPolicyDocument", "valid JSON"),
        ({"policy": '{"Version": "2012-10-17"}'}, "MalformedPolicyDocument", "Statement"),
        ({"tags": tuple((f"k{i}", "") for i in range(51))}, "ValidationError", "equal to 50"),
        ({"tags": (("", "v"),)}, "ValidationError", "'tags.1.member.key'"),
        ({"tags": (("Team", "a"), ("team", "b"))}, "InvalidParameterValue", "Duplicate tag"),
        ({"transitive_tag_keys": ("team",)}, "InvalidParameterValue", "transitive tag key"),
        ({"policy_arns": (ARN_20,) * 11}, "ValidationError", "'policyArns' failed"),
        ({"policy_arns": ("arn:aws:iam::aws:x",)}, "ValidationError", "policyArns.1.member"),
        ({"source_identity": "a"}, "ValidationError", "'sourceIdentity' failed"),
        ({"duration_seconds": 899}, "ValidationError", "'durationSeconds' failed"),
        (
            {"tags": tuple(zip(_noise(50, 128), _noise(50, 256), strict=True))},
            "PackedPolicyTooLarge",
            "Packed policy consumes",
        ),
    ],
)
def test_assume_role_values_are_checked_off_the_wire(deps, values, code, fragment) -> None:
    error = assume_refused(deps, **values)
    assert error.code == code and fragment in error.message


def test_federated_and_unsigned_requests_are_checked_too(deps) -> None:
    with pytest.raises(StsError, match="'name' failed to satisfy constraint: Member must have"):
        get_federation_token(deps, alice(), GetFederationTokenRequest(name="a"))
    with pytest.raises(StsError, match="'webIdentityToken'"):
        assume_role_with_web_identity(
            deps, AssumeRoleWithWebIdentityRequest(ROLE, "ci", web_identity_token="abc")
        )
    with pytest.raises(StsError, match="'sAMLAssertion'"):
        assume_role_with_saml(deps, AssumeRoleWithSamlRequest(ROLE, PROVIDER, saml_assertion=""))


def test_a_token_or_assertion_of_the_wrong_length_is_refused_without_echoing_it(deps) -> None:
    """The two unsigned calls share one length rule; the value is a credential."""
    token = "tok" * 6_667  # 20,001 characters, one past the limit
    with pytest.raises(StsError) as web:
        assume_role_with_web_identity(
            deps, AssumeRoleWithWebIdentityRequest(ROLE, "ci", web_identity_token=token)
        )
    assert web.value.message == (
        "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: "
        "Member must have length between 4 and 20000"
    )
    with pytest.raises(StsError) as saml:
        assume_role_with_saml(deps, AssumeRoleWithSamlRequest(ROLE, PROVIDER, saml_assertion="PHN"))
    assert saml.value.code == "ValidationError" and "PHN" not in saml.value.message
    assert saml.value.message.endswith("'sAMLAssertion' failed to satisfy constraint: "
                                       "Member must have length between 4 and 100000")  # fmt: skip


def test_without_a_directory_role_operations_are_refused(tmp_path) -> None:
    bare = StsContext(embedded_state(tmp_path).ring)
    with pytest.raises(StsError) as caught:
        assume_role(bare, alice(), AssumeRoleRequest(ROLE, "deploy"))
    assert caught.value.code == "AccessDenied" and "<config>/directory" in caught.value.message


def test_sessions_are_issued_on_the_injected_clock(deps) -> None:
    outcome = get_session_token(deps, alice(), GetSessionTokenRequest(duration_seconds=900))
    issued = FIXED.replace(microsecond=0)
    credentials = outcome.result.credentials
    assert credentials.expiration == issued + timedelta(seconds=900)
    assert outcome.session is not None and outcome.session.issued_at == issued
    assert outcome.action == "GetSessionToken"


def test_results_render_as_sts_elements_and_audit_without_secrets(deps) -> None:
    statement = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    outcome = assume_role(deps, alice(), AssumeRoleRequest(ROLE, "deploy", policy=policy))
    result = outcome.result
    elements = result_elements(result)
    assert list(elements) == [
        "Credentials",
        "AssumedRoleUser",
        "PackedPolicySize",
        "SourceIdentity",
    ]
    credentials = elements["Credentials"]
    assert isinstance(credentials, dict)
    assert credentials["Expiration"] == "2026-03-04T06:06:07Z"  # 1 h after the clock's second
    assert isinstance(elements["PackedPolicySize"], int)
    body = result_xml("AssumeRole", elements, "req-1")
    assert "<SourceIdentity>" not in body  # absent values write no element
    minted = result.credentials
    claims, secret = verify_session(
        deps.ring, minted.session_token, minted.access_key_id, now=FIXED
    )
    assert secret == result.credentials.secret_access_key
    audited = outcome.response_elements
    assert audited == {
        "credentials": {
            "accessKeyId": result.credentials.access_key_id,
            "expiration": "2026-03-04T06:06:07Z",
        },
        "sessionId": claims.session_id,
        "assumedRoleUser": {
            "AssumedRoleId": result.assumed_role_user.assumed_role_id,
            "Arn": f"arn:aws:sts::{HOME}:assumed-role/Deploy/deploy",
        },
    }
    shown = json.dumps(audited) + repr(outcome)
    assert secret not in shown and result.credentials.session_token not in shown


def test_caller_identity_has_no_response_elements(deps) -> None:
    outcome = get_caller_identity(deps, alice(), GetCallerIdentityRequest())
    assert result_elements(outcome.result) == {
        "UserId": "BRKIALICE",
        "Account": HOME,
        "Arn": ALICE,
    }
    assert outcome.response_elements is None
