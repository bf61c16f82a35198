"""POST /authorize: the signed caller's effective permissions, decided and explained."""

from __future__ import annotations

import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from broker.server.query_api import StsService
from broker.server.sigv4 import SignedRequest
from broker.sts.principals import PrincipalPolicies
from tests.state_support import embedded_state
from tests.unit.server.test_query_api import call, credentials_of
from tests.unit.sts.principal_data import HOME, Directory, allow, trust

BUCKET = "arn:aws:s3:::example-reports/*"


def signed_json(creds: dict[str, str], body: dict) -> SignedRequest:
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url="http://127.0.0.1:1/authorize", data=data)
    SigV4Auth(
        Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken")),
        "sts",
        "us-east-1",
    ).add_auth(request)
    headers = {k.lower(): v for k, v in request.prepare().headers.items()}
    headers["host"] = "127.0.0.1:1"
    return SignedRequest("POST", "/authorize", "", headers, data)


@pytest.fixture
def setup(tmp_path):
    directory = Directory()
    condition = {"StringEquals": {"aws:PrincipalTag/team": "blue"}}
    tagged = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": BUCKET,
                "Condition": condition,
            }
        ],
    }
    from broker.policy import parse_policy

    role = directory.add_role(
        HOME,
        "Reader",
        trust(
            {"AWS": f"arn:aws:iam::{HOME}:user/svc-app"},
            actions=("sts:AssumeRole", "sts:TagSession"),
        ),
        policies=[allow("s3:GetObject", BUCKET), parse_policy(tagged)],
    )
    directory.users[(HOME, "svc-app")] = PrincipalPolicies(
        identity=(allow("s3:ListBucket"), allow("sts:GetFederationToken"))
    )
    service = StsService.over(embedded_state(tmp_path), data=tmp_path, principals=directory)
    record, secret = service.keys.create("svc-app", HOME)
    return service, (record.access_key_id, secret), role


def session(service, key, **params) -> dict[str, str]:
    answer = call(service, *key, params)
    assert answer.status == 200, answer.body
    return credentials_of(answer.body)


def ask(service, creds, body) -> tuple[int, dict]:
    return service.authorize(signed_json(creds, body), source_ip="127.0.0.1")


def test_role_session_gets_its_role_permissions_explained(setup) -> None:
    service, key, role = setup
    creds = session(service, key, Action="AssumeRole", RoleArn=role, RoleSessionName="app")
    status, answer = ask(
        service,
        creds,
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::example-reports/q1.csv"},
    )
    assert status == 200 and answer["allowed"] is True and answer["decision"] == "Allow"
    assert answer["principal"] == f"arn:aws:sts::{HOME}:assumed-role/Reader/app"
    assert answer["explanation"]
    status, answer = ask(
        service,
        creds,
        {"action": "s3:DeleteObject", "resource": "arn:aws:s3:::example-reports/q1.csv"},
    )
    assert status == 200 and answer["allowed"] is False
    events = [e for e in service.audit.records() if e["eventName"] == "Authorize"]
    assert [e["responseElements"]["decision"] for e in events] == ["Allow", "ImplicitDeny"]


def test_session_policy_bounds_the_role(setup) -> None:
    service, key, role = setup
    narrow = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
        }
    )
    creds = session(
        service, key, Action="AssumeRole", RoleArn=role, RoleSessionName="app", Policy=narrow
    )
    status, answer = ask(
        service, creds, {"action": "s3:GetObject", "resource": "arn:aws:s3:::example-reports/a"}
    )
    assert status == 200 and answer["allowed"] is False


def test_body_cannot_claim_session_context(setup) -> None:
    service, key, role = setup
    creds = session(service, key, Action="AssumeRole", RoleArn=role, RoleSessionName="app")
    body = {
        "action": "s3:PutObject",
        "resource": "arn:aws:s3:::example-reports/a",
        "context": {"aws:PrincipalTag/team": "blue", "AWS:principalarn": "arn:aws:iam::1:root"},
    }
    assert ask(service, creds, body)[1]["allowed"] is False
    tagged = session(
        service,
        key,
        Action="AssumeRole",
        RoleArn=role,
        RoleSessionName="app",
        **{"Tags.member.1.Key": "team", "Tags.member.1.Value": "blue"},
    )
    assert ask(service, tagged, body)[1]["allowed"] is True


def test_federated_user_without_session_policy_has_no_permissions(setup) -> None:
    service, key, _role = setup
    creds = session(service, key, Action="GetFederationToken", Name="carol")
    status, answer = ask(service, creds, {"action": "s3:ListBucket", "resource": "*"})
    assert status == 200 and answer["allowed"] is False
    scoped = session(
        service,
        key,
        Action="GetFederationToken",
        Name="carol",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    assert ask(service, scoped, {"action": "s3:ListBucket", "resource": "*"})[1]["allowed"] is True
    # the session policy allows s3:*, the user only s3:ListBucket: the intersection decides
    assert ask(service, scoped, {"action": "s3:GetObject", "resource": "*"})[1]["allowed"] is False


def test_unsigned_or_tampered_requests_are_refused(setup) -> None:
    service, key, role = setup
    creds = session(service, key, Action="AssumeRole", RoleArn=role, RoleSessionName="app")
    request = signed_json(creds, {"action": "s3:GetObject"})
    forged = SignedRequest(
        request.method,
        request.path,
        request.query,
        request.headers,
        json.dumps({"action": "s3:DeleteObject"}).encode(),
    )
    status, answer = service.authorize(forged, source_ip=None)
    assert status == 403 and answer["error"] == "SignatureDoesNotMatch"
    bare = SignedRequest("POST", "/authorize", "", {"host": "x"}, b"{}")
    assert service.authorize(bare, source_ip=None)[1]["error"] == "MissingAuthenticationToken"


def test_without_a_directory_authorize_is_refused_naming_what_to_configure(tmp_path) -> None:
    service = StsService.over(embedded_state(tmp_path), data=tmp_path)
    status, answer = service.authorize(
        SignedRequest("POST", "/authorize", "", {}, b"{}"), source_ip=None
    )
    assert status == 403 and answer["error"] == "AccessDenied"
    assert "configure <config>/directory" in answer["message"]


def test_role_revocation_refuses_older_sessions_of_that_role_only(setup) -> None:
    from datetime import UTC, datetime, timedelta

    from broker.sts.revocation import Revocation

    service, key, role = setup
    creds = session(service, key, Action="AssumeRole", RoleArn=role, RoleSessionName="app")
    user_session = session(service, key, Action="GetSessionToken")
    cutoff = datetime.now(UTC) + timedelta(seconds=1)
    service.revocations.add(Revocation("role", role, cutoff))
    status, answer = ask(service, creds, {"action": "s3:GetObject", "resource": "*"})
    assert status == 403 and answer["error"] == "AccessDenied"
    who = call(
        service,
        creds["AccessKeyId"],
        creds["SecretAccessKey"],
        {"Action": "GetCallerIdentity"},
        creds["SessionToken"],
    )
    assert "<Code>AccessDenied</Code>" in who.body
    still = call(
        service,
        user_session["AccessKeyId"],
        user_session["SecretAccessKey"],
        {"Action": "GetCallerIdentity"},
        user_session["SessionToken"],
    )
    assert still.status == 200


def test_principal_org_id_comes_from_the_directory_never_the_body(setup) -> None:
    service, key, role = setup
    creds = session(service, key, Action="AssumeRole", RoleArn=role, RoleSessionName="app")
    body = {
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::example-reports/q1.csv",
        "context": {"aws:PrincipalOrgID": "o-example0001"},
        "resourcePolicies": [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-example0001"}},
                    }
                ],
            }
        ],
    }
    assert ask(service, creds, body)[1]["allowed"] is False  # the claim in the body is ignored
    service.principals.organization = ("o-example0001", frozenset({HOME}))
    assert ask(service, creds, body)[1]["allowed"] is True
