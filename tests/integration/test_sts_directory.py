"""`broker serve` with the shipped directory (config/directory): the real cross-account case.

The service user ci-deployer (account 111111111111) assumes service/ci-deploy in
payments-staging (444444444445): the role's trust names the user and requires an external id,
the user's own policy allows sts:AssumeRole on that role. Then /authorize answers with the
role's permissions inside its boundary and the account's SCPs.
"""

from __future__ import annotations

import json

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration
ROLE = "arn:aws:iam::444444444445:role/service/ci-deploy"


@pytest.fixture(scope="module")
def deployer(broker_server) -> boto3.client:
    made = broker_server.cli(
        "access-keys", "create", "ci-deployer", "--account", "111111111111", "--json"
    )
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["AccessKey"]
    return boto3.client(
        "sts",
        endpoint_url=broker_server.url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )


def test_cross_account_assume_role_with_external_id(deployer) -> None:
    with pytest.raises(ClientError) as err:
        deployer.assume_role(RoleArn=ROLE, RoleSessionName="deploy")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    answer = deployer.assume_role(RoleArn=ROLE, RoleSessionName="deploy", ExternalId="example-ci")
    assert answer["AssumedRoleUser"]["Arn"] == (
        "arn:aws:sts::444444444445:assumed-role/ci-deploy/deploy"
    )
    with pytest.raises(ClientError) as err:
        deployer.assume_role(
            RoleArn=ROLE, RoleSessionName="deploy", ExternalId="example-ci", DurationSeconds=7200
        )
    assert "MaxSessionDuration" in err.value.response["Error"]["Message"]


def authorize(url: str, creds: dict, body: dict) -> httpx.Response:
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=f"{url}/authorize", data=data)
    SigV4Auth(
        Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        "sts",
        "us-east-1",
    ).add_auth(request)
    prepared = request.prepare()
    return httpx.post(f"{url}/authorize", content=data, headers=dict(prepared.headers.items()))


def test_authorize_answers_with_the_roles_effective_permissions(broker_server, deployer) -> None:
    creds = deployer.assume_role(RoleArn=ROLE, RoleSessionName="deploy", ExternalId="example-ci")[
        "Credentials"
    ]
    allowed = authorize(
        broker_server.url,
        creds,
        {
            "action": "s3:PutObject",
            "resource": "arn:aws:s3:::example-payments-artifacts/build-1.zip",
            "context": {"aws:RequestedRegion": "eu-west-1"},
        },
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["principal"].endswith("assumed-role/ci-deploy/deploy")
    assert allowed.json()["allowed"] is True, allowed.json()
    denied = authorize(
        broker_server.url,
        creds,
        {"action": "s3:DeleteBucket", "resource": "arn:aws:s3:::example-payments-artifacts"},
    )
    assert denied.status_code == 200 and denied.json()["allowed"] is False
    assert denied.json()["explanation"]
