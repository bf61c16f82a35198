"""AssumeRoleWithSAML through ``broker serve`` with responses from the real pysaml2 IdP peer,
asked by boto3: the directory's IAM SAML provider entry (its metadata pins the IdP's
certificate) and a role trusting it are all that is configured."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from lxml import etree

from providers.saml.redirect_binding import build_authn_request, redirect_url
from tests.conftest import CONFIG
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.integration.saml_peer import IDP_ENTITY, SP_ENTITY, Browser, RunningIdP, start_idp
from tests.saml_forge import idp_metadata, make_keypair
from tests.state_support import audit_text

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"  # the account the peer's Role attribute names for alice
PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/Example"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Dev"
ACS = "http://127.0.0.1:5555/saml/acs"


@pytest.fixture(scope="module")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdP]:
    with start_idp(tmp_path_factory.mktemp("idp"), make_keypair("idp.example.test")) as running:
        yield running


def saml_config(root: Path, saml_idp: RunningIdP) -> Path:
    """A copy of the test configuration with the IdP peer as IAM SAML provider ``Example`` and
    role ``Dev`` trusting it for alice."""
    config = root / "config"
    shutil.copytree(CONFIG, config)
    directory = config / "directory"
    with (directory / "organization.toml").open("a") as handle:
        handle.write(f'\n[accounts.federated]\nid = "{ACCOUNT}"\nemail = "fed@example.com"\n')
    with (directory / "identity-providers.toml").open("a") as handle:
        handle.write(
            '\n[[saml_providers]]\naccount = "federated"\nname = "Example"\n'
            f'metadata = "example"\nentity_id = "{IDP_ENTITY}"\n'
            f'audience = "{SP_ENTITY}"\nacs_url = "{ACS}"\n'
        )
    with (directory / "roles.toml").open("a") as handle:
        handle.write(
            '\n[[roles]]\naccount = "federated"\nname = "Dev"\ntrust_policy = "trust-saml"\n'
            'policies = ["ReadOnlyAccess"]\nmax_session_duration = 7200\n'
        )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"],
                "Condition": {"StringEquals": {"SAML:sub": "alice@example.com"}},
            }
        ],
    }
    (config / "policies" / "trust-saml.json").write_text(json.dumps(trust))
    (config / "saml").mkdir()
    der = saml_idp.keys.cert.public_bytes(serialization.Encoding.DER)
    (config / "saml" / "example.xml").write_text(idp_metadata(IDP_ENTITY, der))
    return config


@pytest.fixture(scope="module")
def served(saml_idp: RunningIdP, tmp_path_factory) -> Iterator[BrokerServer]:
    root = tmp_path_factory.mktemp("saml-federated")
    process, server = start_server(root / "home", saml_config(root, saml_idp))
    try:
        yield server
    finally:
        stop_server(process)


def response_of(idp: RunningIdP, username: str = "alice") -> str:
    _, form = Browser(idp, username).unsolicited(ACS)
    return form["SAMLResponse"]


def assume(server: BrokerServer, assertion: str, role: str = ROLE, provider: str = PROVIDER):
    config = Config(signature_version=UNSIGNED, retries={"max_attempts": 1})
    client = boto3.client("sts", endpoint_url=server.url, region_name="us-east-1", config=config)
    return client.assume_role_with_saml(
        RoleArn=role, PrincipalArn=provider, SAMLAssertion=assertion
    )


def refused(server: BrokerServer, assertion: str, **kw: str) -> str:
    with pytest.raises(ClientError) as err:
        assume(server, assertion, **kw)
    return str(err.value.response["Error"]["Code"])


def test_boto3_gets_a_session_for_a_real_idp_response(served, saml_idp) -> None:
    assertion = response_of(saml_idp)
    answer = assume(served, assertion)
    assert answer["Subject"] == "alice@example.com"
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/alice"
    assert answer["Issuer"] == IDP_ENTITY
    # Replayed: the same response is refused the second time.
    assert refused(served, assertion) == "InvalidIdentityToken"
    log = audit_text(served.home)
    assert '"eventName":"AssumeRoleWithSAML"' in log and assertion not in log


def test_tampered_or_foreign_responses_are_refused(served, saml_idp) -> None:
    xml = base64.b64decode(response_of(saml_idp))
    forged = base64.b64encode(xml.replace(b"alice@example.com", b"bob@example.com")).decode()
    assert refused(served, forged) == "InvalidIdentityToken"
    # bob is signed by the trusted IdP, but his Role attribute does not offer this role.
    assert refused(served, response_of(saml_idp, "bob")) == "AccessDenied"
    # A provider ARN the directory does not hold.
    other = PROVIDER.replace("Example", "Elsewhere")
    assert refused(served, response_of(saml_idp), provider=other) == "InvalidIdentityToken"


def solicited_response_of(idp: RunningIdP, username: str = "alice") -> tuple[str, str]:
    """A response to an AuthnRequest another SP sent (as `broker login` does): the STS never
    saw that request. Returns the response and the request's id."""
    request = build_authn_request(
        sp_entity_id=SP_ENTITY,
        sso_url=idp.sso_url,
        acs_url=ACS,
        now=datetime.now(UTC),
        lifetime=300,
    )
    _, form = Browser(idp, username).login(redirect_url(idp.sso_url, request))
    return form["SAMLResponse"], request.id


def test_a_response_to_another_sps_request_is_accepted_once(served, saml_idp) -> None:
    assertion, request_id = solicited_response_of(saml_idp)
    root = etree.fromstring(base64.b64decode(assertion))
    assert root.get("InResponseTo") == request_id  # really SP-initiated
    answer = assume(served, assertion)
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/alice"
    # InResponseTo is not a way around one-time use: the same response is a replay.
    assert refused(served, assertion) == "InvalidIdentityToken"


def test_a_solicited_response_still_passes_every_other_check(served, saml_idp) -> None:
    assertion, _request_id = solicited_response_of(saml_idp)
    root = etree.fromstring(base64.b64decode(assertion))
    # The Response's (unsigned) InResponseTo no longer agrees with the signed Assertion's.
    root.set("InResponseTo", "_another-request")
    disagreeing = base64.b64encode(etree.tostring(root)).decode()
    assert refused(served, disagreeing) == "InvalidIdentityToken"
    # The signed Assertion's InResponseTo rewritten: its signature no longer verifies.
    xml = base64.b64decode(solicited_response_of(saml_idp)[0])
    rewritten = xml.replace(b'InResponseTo="_', b'InResponseTo="_x')
    assert rewritten != xml
    assert refused(served, base64.b64encode(rewritten).decode()) == "InvalidIdentityToken"
    # A solicited response for bob offers no role to him.
    assert refused(served, solicited_response_of(saml_idp, "bob")[0]) == "AccessDenied"


def test_session_tags_in_the_request_are_refused_before_the_response_is_used(
    served, saml_idp
) -> None:
    """AssumeRoleWithSAML's session tags come from the assertion; a request that also sends
    ``Tags`` is refused at the Query API's edge rather than minted without them, and the
    response is not spent by the refusal."""
    import httpx

    assertion = response_of(saml_idp)
    form = {
        "Action": "AssumeRoleWithSAML",
        "Version": "2011-06-15",
        "RoleArn": ROLE,
        "PrincipalArn": PROVIDER,
        "SAMLAssertion": assertion,
        "Tags.member.1.Key": "team",
        "Tags.member.1.Value": "platform",
    }
    answer = httpx.post(served.url, data=form, timeout=30)
    assert answer.status_code == 400
    assert "<Code>ValidationError</Code>" in answer.text
    assert "AssumeRoleWithSAML takes no Tags parameter" in answer.text
    assert assume(served, assertion)["Subject"] == "alice@example.com"
