"""boto3 and the AWS CLI against `broker serve` on loopback, unchanged but for --endpoint-url."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from tests.state_support import audit_events, audit_text, stored_bytes

pytestmark = pytest.mark.integration
ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def user_key(broker_server) -> dict:
    result = broker_server.cli(
        "access-keys", "create", "svc-deploy", "--account", ACCOUNT, "--json"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["AccessKey"]


def sts(server, key_id, secret, token=None, validate=True):
    return boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
    )


def user_client(server, key, validate=True):
    return sts(server, key["AccessKeyId"], key["SecretAccessKey"], validate=validate)


def session_client(server, credentials):
    return sts(
        server,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )


def error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"]


def test_caller_identity_of_a_long_term_key(broker_server, user_key) -> None:
    who = user_client(broker_server, user_key).get_caller_identity()
    assert who["Account"] == ACCOUNT
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/svc-deploy"
    assert who["ResponseMetadata"]["RequestId"]


@pytest.mark.parametrize("seconds", [900, 129_600])
def test_session_token_bounds_accepted(broker_server, user_key, seconds) -> None:
    before = datetime.now(UTC)
    answer = user_client(broker_server, user_key).get_session_token(DurationSeconds=seconds)
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("BRKS") and len(credentials["AccessKeyId"]) == 20
    assert len(credentials["SessionToken"]) < 2048
    lifetime = credentials["Expiration"] - before
    assert timedelta(seconds=seconds - 5) <= lifetime <= timedelta(seconds=seconds + 5)
    who = session_client(broker_server, credentials).get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/svc-deploy"


@pytest.mark.parametrize(
    ("seconds", "constraint"),
    [(899, "greater than or equal to 900"), (129_601, "less than or equal to 129600")],
)
def test_session_token_out_of_range_is_refused_by_the_server(
    broker_server, user_key, seconds, constraint
) -> None:
    client = user_client(broker_server, user_key, validate=False)
    with pytest.raises(ClientError) as err:
        client.get_session_token(DurationSeconds=seconds)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert constraint in err.value.response["Error"]["Message"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_botocore_itself_refuses_899_before_sending(broker_server, user_key) -> None:
    with pytest.raises(ParamValidationError):
        user_client(broker_server, user_key).get_session_token(DurationSeconds=899)


def test_federation_token_needs_the_users_permission(broker_server, user_key) -> None:
    """svc-deploy has no policies in the directory, so it may not federate (a user allowed to:
    tests/integration/test_sts_authorization.py)."""
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        }
    )
    client = user_client(broker_server, user_key)
    assert error_code(client.get_federation_token, Name="bob", Policy=policy) == "AccessDenied"


def test_sts_errors_parse_into_their_codes(broker_server, user_key) -> None:
    client = user_client(broker_server, user_key)
    assert error_code(client.get_federation_token, Name="bob", Policy="{not json") == (
        "MalformedPolicyDocument"
    )
    noisy = json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": os.urandom(700).hex()}]}
    )[:2048]
    tags = [{"Key": os.urandom(60).hex(), "Value": os.urandom(120).hex()} for _ in range(20)]
    assert error_code(client.get_federation_token, Name="bob", Policy=noisy, Tags=tags) in (
        "PackedPolicyTooLarge",
        "MalformedPolicyDocument",
    )
    big_tags = [{"Key": f"k{i}", "Value": os.urandom(120).hex()} for i in range(50)]
    assert error_code(client.get_federation_token, Name="bob", Tags=big_tags) == (
        "PackedPolicyTooLarge"
    )
    session = client.get_session_token()["Credentials"]
    assert error_code(session_client(broker_server, session).get_session_token) == "AccessDenied"
    assert (
        error_code(
            client.assume_role,
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Admin",
            RoleSessionName="alice",
        )
        == "AccessDenied"
    )


def test_tampered_token_and_signature_are_refused(broker_server, user_key) -> None:
    credentials = user_client(broker_server, user_key).get_session_token()["Credentials"]
    token = credentials["SessionToken"]
    head, payload, signature = token.split(".")
    tampered = {**credentials, "SessionToken": f"{head}.{payload[:-4]}AAAA.{signature}"}
    assert error_code(session_client(broker_server, tampered).get_caller_identity) == (
        "InvalidClientTokenId"
    )
    wrong_secret = {**credentials, "SecretAccessKey": "A" * 40}
    assert error_code(session_client(broker_server, wrong_secret).get_caller_identity) == (
        "SignatureDoesNotMatch"
    )
    other = user_client(broker_server, user_key).get_session_token()["Credentials"]
    swapped = {**credentials, "SessionToken": other["SessionToken"]}
    assert error_code(session_client(broker_server, swapped).get_caller_identity) == (
        "InvalidClientTokenId"
    )


def test_revoked_session_is_refused(broker_server, user_key) -> None:
    credentials = user_client(broker_server, user_key).get_session_token()["Credentials"]
    client = session_client(broker_server, credentials)
    client.get_caller_identity()
    session_id = next(
        e["responseElements"]["sessionId"]
        for e in audit_events(broker_server.home)
        if (e.get("responseElements") or {}).get("credentials", {}).get("accessKeyId")
        == credentials["AccessKeyId"]
    )
    revoked = broker_server.cli("sts", "revoke", "--session", session_id)
    assert revoked.returncode == 0, revoked.stderr
    assert error_code(client.get_caller_identity) == "AccessDenied"
    by_user = user_client(broker_server, user_key).get_session_token()["Credentials"]
    session_client(broker_server, by_user).get_caller_identity()  # the server has read the rules
    assert broker_server.cli("sts", "revoke", "--user", "svc-deploy").returncode == 0
    assert error_code(session_client(broker_server, by_user).get_caller_identity) == "AccessDenied"


def test_deactivated_key_is_refused(broker_server) -> None:
    created = broker_server.cli("access-keys", "create", "svc-ci", "--account", ACCOUNT, "--json")
    key = json.loads(created.stdout)["AccessKey"]
    user_client(broker_server, key).get_caller_identity()
    assert broker_server.cli("access-keys", "deactivate", key["AccessKeyId"]).returncode == 0
    assert error_code(user_client(broker_server, key).get_caller_identity) == "InvalidClientTokenId"
    third = broker_server.cli("access-keys", "create", "svc-ci", "--account", ACCOUNT)
    assert third.returncode == 0
    limit = broker_server.cli("access-keys", "create", "svc-ci", "--account", ACCOUNT)
    assert limit.returncode == 7 and "2 access keys" in limit.stderr
    listing = broker_server.cli("access-keys", "list", "svc-ci")
    assert key["AccessKeyId"] in listing.stdout and "Inactive" in listing.stdout
    assert key["SecretAccessKey"].encode() not in stored_bytes(broker_server.home)


def aws_cli(server, key, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    aws = Path(sys.executable).with_name("aws")
    return subprocess.run(
        [str(aws), "sts", *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_aws_cli(broker_server, user_key) -> None:
    who = aws_cli(broker_server, user_key, "get-caller-identity")
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Account"] == ACCOUNT
    token = aws_cli(broker_server, user_key, "get-session-token", "--duration-seconds", "900")
    assert token.returncode == 0, token.stderr
    assert json.loads(token.stdout)["Credentials"]["AccessKeyId"].startswith("BRKS")
    too_long = aws_cli(broker_server, user_key, "get-session-token", "--duration-seconds", "129601")
    assert too_long.returncode != 0 and "ValidationError" in too_long.stderr
    federated = aws_cli(broker_server, user_key, "get-federation-token", "--name", "carol")
    assert federated.returncode != 0 and "AccessDenied" in federated.stderr


def test_health_metrics_and_audit_afterwards(broker_server, user_key) -> None:
    minted = user_client(broker_server, user_key).get_session_token()["Credentials"]
    session_client(broker_server, minted).get_caller_identity()
    assert httpx.get(f"{broker_server.url}/health").json()["status"] == "ok"
    metrics = httpx.get(f"{broker_server.url}/metrics").text
    assert 'broker_sts_requests_total{action="GetCallerIdentity",outcome="ok"}' in metrics
    verified = broker_server.cli("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    text = audit_text(broker_server.home)
    assert user_key["SecretAccessKey"] not in text
    assert minted["SecretAccessKey"] not in text and minted["SessionToken"] not in text
    assert '"sessionToken"' not in text and '"secretAccessKey"' not in text


def test_key_rotation_while_serving(broker_server, user_key) -> None:
    import base64

    def kid(token: str) -> str:
        return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]

    before = user_client(broker_server, user_key).get_session_token()["Credentials"]
    rotated = broker_server.cli("keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    statuses = dict(line.split("\t")[0::2] for line in rotated.stdout.splitlines())
    assert statuses[kid(before["SessionToken"])] == "verifying"
    assert "active" in statuses.values()
    # A running service re-reads the ring at most a second after a rotation through another
    # process (``DatabaseKeyRing``'s refresh; its clock is the server process's own).
    import time

    deadline = time.monotonic() + 10
    while True:
        after = user_client(broker_server, user_key).get_session_token()["Credentials"]
        if kid(after["SessionToken"]) != kid(before["SessionToken"]):
            break
        assert time.monotonic() < deadline, "the rotated key never signed"
        time.sleep(0.2)
    assert statuses[kid(after["SessionToken"])] == "active"
    for credentials in (before, after):
        session_client(broker_server, credentials).get_caller_identity()
    listing = broker_server.cli("keys", "list")
    assert "PRIVATE" not in listing.stdout and listing.stdout.count("\n") == 2
