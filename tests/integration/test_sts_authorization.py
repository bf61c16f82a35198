"""STS authorization through boto3 and the AWS CLI against a real `broker serve`.

Named attacks: a service user with an explicit Deny asks for a federation token; a key holder
tags itself into an ABAC condition; a federated session without a session policy acts; a
session scoped down to AWSDenyAll keeps its role's permissions; an unknown or foreign policy
ARN; an eleventh ARN; a federated user assumes a role. Then the whole caller-kind matrix
(credential kind × the six operations), as the STS API reference states it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from broker.sts.authorization import CALLER_KINDS, RULES
from tests.integration.authz_config import ACCOUNT, BUCKET, ROLE, authz_config
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.integration.test_sts_clients import aws_cli
from tests.integration.test_sts_directory import authorize

pytestmark = pytest.mark.integration
DENY_ALL = "arn:aws:iam::aws:policy/AWSDenyAll"
READ_ALL = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
)
GET_OBJECT = {"action": "s3:GetObject", "resource": f"{BUCKET}/report.csv"}
PUT_OBJECT = {"action": "s3:PutObject", "resource": f"{BUCKET}/report.csv"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerServer]:
    parent = tmp_path_factory.mktemp("sts-authz")
    process, running = start_server(parent / "home", authz_config(parent))
    try:
        yield running
    finally:
        stop_server(process)


def _key(server: BrokerServer, user: str) -> dict:
    made = server.cli("access-keys", "create", user, "--account", ACCOUNT, "--json")
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)["AccessKey"]


@pytest.fixture(scope="module")
def keys(server: BrokerServer) -> dict[str, dict]:
    return {user: _key(server, user) for user in ("svc-federation", "svc-tagger", "svc-denied")}


def sts(server: BrokerServer, creds: dict):
    return boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(retries={"max_attempts": 1}),
    )


def refused(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]


def allowed(server: BrokerServer, creds: dict, query: dict) -> bool:
    answer = authorize(server.url, creds, query)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["allowed"])


def test_explicit_deny_refuses_get_federation_token(server, keys) -> None:
    error = refused(
        sts(server, keys["svc-denied"]).get_federation_token, Name="app", Policy=READ_ALL
    )
    assert error["Code"] == "AccessDenied"
    assert "sts:GetFederationToken" in error["Message"]
    cli = aws_cli(server, keys["svc-denied"], "get-federation-token", "--name", "app")
    assert cli.returncode != 0 and "AccessDenied" in cli.stderr
    assert "Credentials" not in cli.stdout
    granted = aws_cli(
        server,
        keys["svc-federation"],
        "get-federation-token",
        "--name",
        "app",
        "--policy",
        READ_ALL,
    )
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["Credentials"]["AccessKeyId"].startswith("BRKS")


def test_federation_token_with_policy_and_tags(server, keys) -> None:
    answer = sts(server, keys["svc-tagger"]).get_federation_token(
        Name="bob", Policy=READ_ALL, Tags=[{"Key": "team", "Value": "blue"}], DurationSeconds=7200
    )
    assert answer["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    assert 0 < answer["PackedPolicySize"] <= 100
    who = sts(server, answer["Credentials"]).get_caller_identity()
    assert who["Arn"] == answer["FederatedUser"]["Arn"]


def test_key_holder_cannot_tag_itself_into_an_abac_condition(server, keys) -> None:
    tags = [{"Key": "team", "Value": "payments"}]
    client = sts(server, keys["svc-federation"])
    error = refused(client.get_federation_token, Name="app", Policy=READ_ALL, Tags=tags)
    assert error["Code"] == "AccessDenied" and "sts:TagSession" in error["Message"]
    untagged = client.get_federation_token(Name="app", Policy=READ_ALL)["Credentials"]
    assert not allowed(server, untagged, PUT_OBJECT)
    # a user its administrator allows to tag sessions passes the condition, as in AWS
    tagged = sts(server, keys["svc-tagger"]).get_federation_token(
        Name="app", Policy=READ_ALL, Tags=tags
    )["Credentials"]
    assert allowed(server, tagged, PUT_OBJECT)


def test_federated_session_without_session_policy_has_no_permissions(server, keys) -> None:
    client = sts(server, keys["svc-federation"])
    bare = client.get_federation_token(Name="app")["Credentials"]
    assert not allowed(server, bare, GET_OBJECT)
    scoped = client.get_federation_token(Name="app", Policy=READ_ALL)["Credentials"]
    assert allowed(server, scoped, GET_OBJECT)
    # the session policy allows s3:*, the user does not allow deleting: the intersection
    assert not allowed(server, scoped, {"action": "s3:DeleteBucket", "resource": BUCKET})


def test_deny_all_policy_arn_makes_the_session_deny_everything(server, keys) -> None:
    client = sts(server, keys["svc-federation"])
    plain = client.assume_role(RoleArn=ROLE, RoleSessionName="plain")["Credentials"]
    assert allowed(server, plain, GET_OBJECT)
    answer = client.assume_role(
        RoleArn=ROLE, RoleSessionName="denied", PolicyArns=[{"arn": DENY_ALL}]
    )
    assert 0 < answer["PackedPolicySize"] <= 100
    assert not allowed(server, answer["Credentials"], GET_OBJECT)
    mixed = client.get_federation_token(
        Name="app", Policy=READ_ALL, PolicyArns=[{"arn": DENY_ALL}]
    )["Credentials"]
    assert not allowed(server, mixed, GET_OBJECT)
    cli = aws_cli(
        server,
        keys["svc-federation"],
        "assume-role",
        "--role-arn",
        ROLE,
        "--role-session-name",
        "cli",
        "--policy-arns",
        f"arn={DENY_ALL}",
    )
    assert cli.returncode == 0, cli.stderr
    assert not allowed(server, json.loads(cli.stdout)["Credentials"], GET_OBJECT)


def test_declared_managed_policies_scope_the_session(server, keys) -> None:
    client = sts(server, keys["svc-federation"])
    own = f"arn:aws:iam::{ACCOUNT}:policy/authz-target"  # attached to a role of the account
    scoped = client.assume_role(RoleArn=ROLE, RoleSessionName="scoped", PolicyArns=[{"arn": own}])[
        "Credentials"
    ]
    assert allowed(server, scoped, GET_OBJECT)
    readonly = client.get_federation_token(
        Name="app", PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    )["Credentials"]
    assert allowed(server, readonly, GET_OBJECT)
    assert not allowed(server, readonly, PUT_OBJECT)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/NoSuchManagedPolicy",
        f"arn:aws:iam::{ACCOUNT}:policy/no-such-policy",
        "arn:aws:iam::444444444445:policy/authz-target",  # another account's
        "arn:aws:iam::aws:policy/job-function/AWSDenyAll",  # not where AWS keeps it
        "arn:aws:s3:::not-a-policy-at-all",
    ],
)
def test_unknown_policy_arn_is_refused(server, keys, arn) -> None:
    client = sts(server, keys["svc-federation"])
    for call, kwargs in (
        (client.assume_role, {"RoleArn": ROLE, "RoleSessionName": "unknown"}),
        (client.get_federation_token, {"Name": "app", "Policy": READ_ALL}),
    ):
        error = refused(call, PolicyArns=[{"arn": arn}], **kwargs)
        assert error["Code"] == "MalformedPolicyDocument"
        assert arn in error["Message"]


def test_more_than_ten_policy_arns_are_refused(server, keys) -> None:
    arns = [{"arn": DENY_ALL}] * 11
    error = refused(
        sts(server, keys["svc-federation"]).assume_role,
        RoleArn=ROLE,
        RoleSessionName="many",
        PolicyArns=arns,
    )
    assert error["Code"] == "ValidationError" and "10" in error["Message"]


def test_federated_user_cannot_assume_a_role(server, keys) -> None:
    federated = sts(server, keys["svc-federation"]).get_federation_token(
        Name="app", Policy=READ_ALL
    )["Credentials"]
    error = refused(sts(server, federated).assume_role, RoleArn=ROLE, RoleSessionName="up")
    assert error["Code"] == "AccessDenied"


# The caller-kind matrix from the STS API reference ("Permissions" of each operation):
# True = the kind may call it, None = not signed (the token or assertion is the caller).
REFERENCE = {
    "GetCallerIdentity": dict.fromkeys(CALLER_KINDS, True),
    "GetSessionToken": {k: k in ("iam-user", "root") for k in CALLER_KINDS},
    "GetFederationToken": {k: k in ("iam-user", "root") for k in CALLER_KINDS},
    "AssumeRole": {k: k in ("iam-user", "user-session", "role-session") for k in CALLER_KINDS},
    "AssumeRoleWithWebIdentity": dict.fromkeys(CALLER_KINDS),
    "AssumeRoleWithSAML": dict.fromkeys(CALLER_KINDS),
}


def test_rules_follow_the_sts_api_reference() -> None:
    for rule in RULES:
        expected = REFERENCE[rule.operation]
        if rule.callers is None:
            assert set(expected.values()) == {None}
        else:
            assert {k for k, may in expected.items() if may} == rule.callers
    assert {r.operation for r in RULES} == set(REFERENCE)


@pytest.fixture(scope="module")
def credentials_of_kind(server, keys) -> dict[str, dict]:
    key = keys["svc-federation"]
    client = sts(server, key)
    return {
        "iam-user": key,
        "user-session": client.get_session_token()["Credentials"],
        "role-session": client.assume_role(RoleArn=ROLE, RoleSessionName="matrix")["Credentials"],
        "federated-user": client.get_federation_token(Name="matrix", Policy=READ_ALL)[
            "Credentials"
        ],
    }


def _call(client, operation: str):
    if operation == "GetCallerIdentity":
        return client.get_caller_identity()
    if operation == "GetSessionToken":
        return client.get_session_token(DurationSeconds=900)
    if operation == "GetFederationToken":
        return client.get_federation_token(Name="matrix", Policy=READ_ALL)
    if operation == "AssumeRole":
        return client.assume_role(RoleArn=ROLE, RoleSessionName="matrix")
    if operation == "AssumeRoleWithWebIdentity":
        return client.assume_role_with_web_identity(
            RoleArn=ROLE, RoleSessionName="matrix", WebIdentityToken="eyJ.e30.sig"
        )
    return client.assume_role_with_saml(
        RoleArn=ROLE,
        PrincipalArn=f"arn:aws:iam::{ACCOUNT}:saml-provider/none",
        SAMLAssertion="PHNhbWw+",
    )


@pytest.mark.parametrize("kind", [k for k in CALLER_KINDS if k != "root"])
@pytest.mark.parametrize("operation", list(REFERENCE))
def test_caller_kind_matrix(server, credentials_of_kind, kind, operation) -> None:
    """Each cell through boto3; the root row is not reachable here (the broker issues no root
    keys) and is decided by the same rules in tests/unit/sts/test_authorization.py."""
    client = sts(server, credentials_of_kind[kind])
    expected = REFERENCE[operation][kind]
    if expected is None:
        # not signed: whatever credentials the client holds, the bogus token is what is refused
        error = refused(_call, client=client, operation=operation)
        assert error["Code"] == "InvalidIdentityToken", error
    elif expected:
        answer = _call(client, operation)
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
        if kind == "role-session" and operation == "AssumeRole":  # role chaining: at most 1 h
            lifetime = answer["Credentials"]["Expiration"] - datetime.now(UTC)
            assert lifetime <= timedelta(hours=1)
    else:
        error = refused(_call, client=client, operation=operation)
        assert error["Code"] == "AccessDenied", error
