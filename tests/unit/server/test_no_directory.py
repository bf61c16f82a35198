"""A broker serving without a directory has no roles: role calls are refused, saying what to
configure, with the code AWS uses for a role that cannot be assumed, and audited."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from broker.server.query_api import StsService
from broker.server.sigv4 import SignedRequest
from tests.state_support import embedded_state
from tests.unit.server.test_query_api import call

ROLE = "arn:aws:iam::111122223333:role/deploy"


@pytest.fixture
def service(tmp_path) -> StsService:
    return StsService.over(embedded_state(tmp_path), data=tmp_path)


def _refused_naming_the_directory(service: StsService, status: int, body: str) -> None:
    assert status == 403 and "<Code>AccessDenied</Code>" in body
    assert "configure &lt;config&gt;/directory" in body or "configure <config>/directory" in body
    assert "SecretAccessKey" not in body
    [event] = list(service.audit.records())
    assert event["errorCode"] == "AccessDenied"


def test_assume_role_without_a_directory_says_what_to_configure(service) -> None:
    record, secret = service.keys.create("svc-app", "111122223333")
    answer = call(
        service,
        record.access_key_id,
        secret,
        {"Action": "AssumeRole", "RoleArn": ROLE, "RoleSessionName": "s"},
    )
    _refused_naming_the_directory(service, answer.status, answer.body)


@pytest.mark.parametrize(
    ("action", "token"),
    [("AssumeRoleWithWebIdentity", "WebIdentityToken"), ("AssumeRoleWithSAML", "SAMLAssertion")],
)
def test_unsigned_role_calls_without_a_directory_say_what_to_configure(
    service, action: str, token: str
) -> None:
    params = {"Version": "2011-06-15", "Action": action, "RoleArn": ROLE, token: "x" * 40}
    if action == "AssumeRoleWithSAML":
        params["PrincipalArn"] = "arn:aws:iam::111122223333:saml-provider/corp"
    else:
        params["RoleSessionName"] = "s"
    body = urlencode(params).encode()
    request = SignedRequest("POST", "/", "", {"host": "127.0.0.1:1"}, body)
    answer = service.handle(request, source_ip="127.0.0.1", user_agent="t")
    _refused_naming_the_directory(service, answer.status, answer.body)
