"""Attacks on `broker serve` from an adversarial review, tried through real HTTP and boto3.

Each test starts from what an attacker sends: a 200 MB body, an anonymous flood of long
made-up fields, secrets hidden in fields the log keeps, re-spelled session tokens, look-alike
Unicode names, and an audit log that cannot be written.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from broker.audit import REDACTED
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.state_support import audit_text as state_audit_text
from tests.state_support import break_audit_chain
from tests.token_mutations import high_s_twin, unused_bits_twin

pytestmark = pytest.mark.integration
ACCOUNT = "111111111111"
ROLE = "arn:aws:iam::444444444445:role/service/ci-deploy"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[subprocess.Popen[bytes], BrokerServer]]:
    """A `broker serve` of this module's own: its memory and audit log are measured."""
    process, server = start_server(tmp_path_factory.mktemp("hardening") / "home")
    try:
        yield process, server
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def server(served) -> BrokerServer:
    return served[1]


@pytest.fixture(scope="module")
def deployer_key(server) -> dict:
    made = server.cli("access-keys", "create", "ci-deployer", "--account", ACCOUNT, "--json")
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)["AccessKey"]


def sts(server: BrokerServer, key: dict, token: str | None = None, *, validate: bool = True):
    return boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        aws_session_token=token,
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
    )


def refused(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response


def audit_text(server: BrokerServer) -> str:
    return state_audit_text(server.home)


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")


def raw_request(server: BrokerServer, head: str) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(head.encode())
    return sock


def read_status(sock: socket.socket) -> int:
    answer = b""
    while b"\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return int(answer.split(b" ", 2)[1])


# -- item: an oversized body is refused before it is read --------------------------------------


def test_a_200_mb_body_is_refused_before_it_is_read(served) -> None:
    process, server = served
    before = resident_kib(process.pid)
    head = (
        "POST / HTTP/1.1\r\nHost: sts\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {200 * MB}\r\n\r\n"
    )
    with raw_request(server, head) as sock:
        assert read_status(sock) == 413  # answered on the headers alone
        sock.settimeout(2)
        sent = 0
        with pytest.raises(OSError):  # the server closed: the body has nowhere to go
            while sent < 200 * MB:
                sock.sendall(b"A" * MB)
                sent += MB
        assert sent < 200 * MB
    assert resident_kib(process.pid) - before < 20 * 1024  # far below the 200 MB offered


def test_authorize_has_the_same_cap(server) -> None:
    head = (
        "POST /authorize HTTP/1.1\r\nHost: sts\r\nContent-Type: application/json\r\n"
        f"Content-Length: {200 * MB}\r\n\r\n"
    )
    with raw_request(server, head) as sock:
        assert read_status(sock) == 413


def test_a_chunked_body_is_cut_off_at_the_cap(served) -> None:
    process, server = served
    before = resident_kib(process.pid)
    head = (
        "POST / HTTP/1.1\r\nHost: sts\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"A" * 64 * 1024)
    status = None
    with raw_request(server, head) as sock:
        for _ in range(3200):  # up to 200 MB, stopping at the first answer
            readable, _w, _x = select.select([sock], [], [], 0)
            if readable:
                status = read_status(sock)
                break
            try:
                sock.sendall(chunk)
            except OSError:
                status = read_status(sock)
                break
    assert status == 413
    assert resident_kib(process.pid) - before < 20 * 1024


def test_an_oversized_query_string_is_refused(server) -> None:
    # The HTTP layer refuses a request line this long (400) before the app's own cap (413).
    query = "Action=GetCallerIdentity&Version=2011-06-15&Pad=" + "x" * 300_000
    with raw_request(server, f"GET /?{query} HTTP/1.1\r\nHost: sts\r\n\r\n") as sock:
        assert read_status(sock) in (400, 413)
    assert "x" * 300 not in audit_text(server)


def test_each_parameter_is_held_to_its_aws_length(server, deployer_key) -> None:
    client = sts(server, deployer_key, validate=False)
    long_policy = json.dumps({"Version": "2012-10-17", "Statement": [], "Pad": "x" * 3000})
    error = refused(client.assume_role, RoleArn=ROLE, RoleSessionName="s1", Policy=long_policy)
    assert error["Error"]["Code"] == "ValidationError"
    assert "'policy'" in error["Error"]["Message"] and "2048" in error["Error"]["Message"]
    assert "xxxx" not in error["Error"]["Message"]  # the value is not echoed back
    error = refused(client.assume_role, RoleArn="arn:" + "a" * 3000, RoleSessionName="s1")
    assert error["Error"]["Code"] == "ValidationError" and "'roleArn'" in error["Error"]["Message"]


# -- item: anonymous failures cannot grow the audit log beyond a bound per request -------------


def test_an_anonymous_flood_of_long_fields_adds_a_bounded_event_each(server) -> None:
    flood = {f"Field{index:03d}": "v" * 250 for index in range(240)}
    known = {"RoleArn": "r" * 2000, "Policy": "p" * 2000, "ExternalId": "e" * 1200}
    requests = 20
    before = len(audit_text(server))
    for number in range(requests):
        form = {"Action": "AssumeRole", "Version": "2011-06-15", **flood, **known}
        if number % 2:
            form["Action"] = "Made" + "Up" * 20  # an unknown action is named "Unknown"
        answer = httpx.post(server.url, data=form)
        assert answer.status_code in (400, 403)
    grown = len(audit_text(server)) - before
    assert grown < requests * 2500, f"{grown / requests:.0f} bytes of log per request"
    recent = [json.loads(line) for line in audit_text(server).splitlines()[-requests:]]
    assert {event["eventName"] for event in recent} == {"AssumeRole", "Unknown"}
    for event in recent:
        recorded = event.get("requestParameters") or {}
        assert not any(name.startswith("field") for name in recorded)
        assert all(len(value) <= 256 for value in recorded.values())


def test_an_oversized_request_is_audited_as_a_bounded_refusal(server) -> None:
    before = len(audit_text(server).splitlines())
    answer = httpx.post(
        server.url,
        content=b"Action=GetCallerIdentity&Version=2011-06-15&Pad=" + b"x" * 400_000,
        headers={"content-type": "application/x-www-form-urlencoded", "user-agent": "u" * 9000},
    )
    assert answer.status_code == 413
    lines = audit_text(server).splitlines()[before:]
    assert len(lines) == 1 and len(lines[0]) < 2500
    event = json.loads(lines[0])
    assert event["errorCode"] == "RequestEntityTooLarge" and event["requestParameters"] is None


# -- item: secrets are kept out of the log by what they are, not only by field name ------------


def test_session_tokens_in_unlisted_fields_never_reach_the_log(server, deployer_key) -> None:
    credentials = sts(server, deployer_key).get_session_token(DurationSeconds=900)["Credentials"]
    token = credentials["SessionToken"]
    # a presigned-URL-style token in the query string and one as SecurityToken in the body
    httpx.post(
        f"{server.url}/?{urlencode({'X-Amz-Security-Token': token})}",
        data={"Action": "GetCallerIdentity", "Version": "2011-06-15", "SecurityToken": token},
    )
    # pasted into a field the log does keep, on an authenticated call
    error = refused(
        sts(server, deployer_key).assume_role,
        RoleArn=ROLE,
        RoleSessionName="deploy",
        ExternalId=token,
    )
    assert error["Error"]["Code"] == "AccessDenied"
    # the caller's own secret access key as an MFA serial number
    refused(
        sts(server, deployer_key, validate=False).get_session_token,
        SerialNumber=deployer_key["SecretAccessKey"],
        TokenCode="123456",
    )
    text = audit_text(server)
    assert token not in text and token.split(".")[2] not in text
    assert deployer_key["SecretAccessKey"] not in text
    last = [json.loads(line) for line in text.splitlines()[-2:]]
    assert last[0]["requestParameters"]["externalId"] == REDACTED
    assert last[1]["requestParameters"]["serialNumber"] == REDACTED


# -- item: a session token has one spelling --------------------------------------------------


@pytest.mark.parametrize("respell", [unused_bits_twin, high_s_twin], ids=["unused-bits", "high-s"])
def test_a_respelled_session_token_is_refused(server, deployer_key, respell) -> None:
    credentials = sts(server, deployer_key).get_session_token(DurationSeconds=900)["Credentials"]
    key = {
        "AccessKeyId": credentials["AccessKeyId"],
        "SecretAccessKey": credentials["SecretAccessKey"],
    }
    assert sts(server, key, credentials["SessionToken"]).get_caller_identity()["Account"] == ACCOUNT
    twin = respell(credentials["SessionToken"])
    error = refused(sts(server, key, twin).get_caller_identity)
    assert error["Error"]["Code"] == "InvalidClientTokenId"


# -- item: names are ASCII, as AWS's patterns are ---------------------------------------------

LOOK_ALIKE = "\u0430dmin"  # "admin" with a Cyrillic a


@pytest.mark.parametrize(
    "call",
    [
        {"RoleSessionName": LOOK_ALIKE},
        {"RoleSessionName": "deploy", "SourceIdentity": LOOK_ALIKE},
        {"RoleSessionName": "deploy", "ExternalId": LOOK_ALIKE + "-ci"},
        {"RoleSessionName": "admin\n"},  # `$` would let a trailing newline through
    ],
    ids=["session-name", "source-identity", "external-id", "trailing-newline"],
)
def test_a_look_alike_name_is_a_validation_error(server, deployer_key, call) -> None:
    client = sts(server, deployer_key, validate=False)
    error = refused(client.assume_role, RoleArn=ROLE, **call)
    assert error["Error"]["Code"] == "ValidationError"
    assert "regular expression pattern" in error["Error"]["Message"]


def test_a_look_alike_federated_name_is_a_validation_error(server, deployer_key) -> None:
    error = refused(sts(server, deployer_key).get_federation_token, Name=LOOK_ALIKE)
    assert error["Error"]["Code"] == "ValidationError"


def test_a_parameter_the_broker_does_not_enforce_is_refused_not_ignored(
    server, deployer_key
) -> None:
    """Fail closed: ProvidedContexts would be dropped silently, so the request is refused."""
    contexts = [
        {
            "ProviderArn": "arn:aws:iam::aws:contextProvider/IdentityCenter",
            "ContextAssertion": "x" * 40,
        }
    ]
    error = refused(
        sts(server, deployer_key).assume_role,
        RoleArn=ROLE,
        RoleSessionName="deploy",
        ProvidedContexts=contexts,
    )
    assert error["Error"]["Code"] == "ValidationError"
    assert "ProvidedContexts" in error["Error"]["Message"]
    assert "not supported" in error["Error"]["Message"]


def test_provider_id_on_web_identity_is_refused_not_ignored(server) -> None:
    client = boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    error = refused(
        client.assume_role_with_web_identity,
        RoleArn=ROLE,
        RoleSessionName="deploy",
        WebIdentityToken="a" * 40,
        ProviderId="www.amazon.com",
    )
    assert error["Error"]["Code"] == "ValidationError"
    assert "ProviderId" in error["Error"]["Message"]


def test_control_characters_in_an_echoed_value_come_back_escaped(server, deployer_key) -> None:
    client = sts(server, deployer_key, validate=False)
    error = refused(client.assume_role, RoleArn=ROLE, RoleSessionName="ev\x1b[2Jil\nx")
    message = error["Error"]["Message"]
    assert error["Error"]["Code"] == "ValidationError"
    assert message.isprintable() and "ev\\x1b[2Jil\\nx" in message


# -- item: an unwritable audit log tells the caller nothing of the server's files --------------


def test_an_unwritable_audit_log_refuses_without_naming_the_data_path(tmp_path) -> None:
    home = tmp_path / "home"
    process, server = start_server(home)
    try:
        break_audit_chain(home)  # the chain cannot be appended to
        answer = httpx.post(
            server.url, data={"Action": "GetCallerIdentity", "Version": "2011-06-15"}
        )
    finally:
        stop_server(process)
    assert answer.status_code == 500 and "InternalFailure" in answer.text
    assert "record" in answer.text  # "cannot record" / "could not record": no reason, no path
    assert str(home) not in answer.text and "audit" not in answer.text.lower()
    assert "audit" in (home / "serve.log").read_text()  # the operator is told what failed
