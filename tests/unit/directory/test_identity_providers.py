"""IAM identity provider entries: loaded from identity-providers.toml, validated, and trusted by
STS through ``DirectoryPrincipals`` (OIDC keys and SAML certificates over test-time keys)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import RSAKey

from broker.directory import Source, validate
from broker.server.query_api import StsService
from broker.server.sigv4 import SignedRequest
from broker.sts.directory_source import DirectoryPrincipals
from broker.sts.web_identity import WebIdentityVerifier
from tests.saml_forge import Spec, build_response, encode, idp_metadata, make_keypair
from tests.state_support import embedded_state

SANDBOX = "666666666666"
EMBEDDED = "https://development-only.embedded-idp.invalid"
ISSUER = "https://idp.example.com/tenant"
OIDC_ARN = f"arn:aws:iam::{SANDBOX}:oidc-provider/idp.example.com/tenant"
SAML_IDP = "https://saml.example.com/metadata"
SAML_ARN = f"arn:aws:iam::{SANDBOX}:saml-provider/ExampleIdP"
KEYS = make_keypair()

OIDC_ENTRY = f"""[[oidc_providers]]
account = "sandbox"
url = "{ISSUER}"
client_ids = ["ci-pipelines", "other-app"]
algorithms = ["RS256"]"""

SAML_ENTRY = f"""[[saml_providers]]
account = "sandbox"
name = "ExampleIdP"
metadata = "example-idp"
entity_id = "{SAML_IDP}\""""

ROLES = """
[[roles]]
account = "sandbox"
name = "Deployer"
trust_policy = "trust-deployer"
policies = ["ReadOnlyAccess"]

[[roles]]
account = "sandbox"
name = "Engineer"
trust_policy = "trust-engineer"
policies = ["ReadOnlyAccess"]
"""

TRUST_OIDC = """{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
 "Principal": {"Federated": "%s"}, "Action": "sts:AssumeRoleWithWebIdentity",
 "Condition": {"StringEquals": {"idp.example.com/tenant:aud": "ci-pipelines",
                                "idp.example.com/tenant:sub": "repo:example/app"}}}]}"""

TRUST_SAML = """{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
 "Principal": {"Federated": "%s"}, "Action": "sts:AssumeRoleWithSAML",
 "Condition": {"StringLike": {"SAML:sub": "*@example.com"}}}]}"""


def cert_der() -> bytes:
    return KEYS.cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def federated(config):
    """The config copy with an OIDC and a SAML provider in sandbox and a role trusting each."""
    config.append("identity-providers.toml", OIDC_ENTRY + "\n\n" + SAML_ENTRY)
    config.append("roles.toml", ROLES)
    config.policy("trust-deployer", TRUST_OIDC % OIDC_ARN)
    config.policy("trust-engineer", TRUST_SAML % SAML_ARN)
    (config.root / "saml").mkdir()
    (config.root / "saml" / "example-idp.xml").write_text(idp_metadata(SAML_IDP, cert_der()))
    return config


def test_shipped_config_trusts_the_embedded_idp_in_sandbox(open_directory) -> None:
    directory = open_directory()
    entry = directory.oidc_provider(SANDBOX, EMBEDDED)
    assert entry is not None
    assert (
        entry.arn == f"arn:aws:iam::{SANDBOX}:oidc-provider/development-only.embedded-idp.invalid"
    )
    assert entry.client_ids == ("access-broker",)
    assert directory.oidc_provider("111111111111", EMBEDDED) is None  # per account, as IAM
    assert directory.oidc_provider(SANDBOX, EMBEDDED + "/") is None  # iss is compared exactly
    role = directory.role(SANDBOX, "demo-web-identity")
    assert role.trust_policy["Statement"][0]["Principal"]["Federated"] == entry.arn


def test_entries_load_with_arns_and_pinned_metadata(federated, open_directory) -> None:
    principals = DirectoryPrincipals(open_directory())
    web = principals.web_identity_provider(SANDBOX, ISSUER)
    assert web is not None and web.arn == OIDC_ARN
    assert web.client_ids == ("ci-pipelines", "other-app") and web.jwks_uri == ""
    assert web.condition_prefix == "idp.example.com/tenant"
    saml = principals.saml_provider(SAML_ARN)
    assert saml is not None and saml.idp_entity_id == SAML_IDP
    assert [c.public_bytes(serialization.Encoding.DER) for c in saml.certificates] == [cert_der()]
    assert principals.saml_provider(SAML_ARN.replace("ExampleIdP", "Other")) is None


def test_changed_metadata_rebuilds_the_directory(federated, open_directory) -> None:
    assert DirectoryPrincipals(open_directory()).saml_provider(SAML_ARN) is not None
    other = make_keypair("other.example.com").cert.public_bytes(serialization.Encoding.DER)
    (federated.root / "saml" / "example-idp.xml").write_text(idp_metadata(SAML_IDP, other))
    saml = DirectoryPrincipals(open_directory()).saml_provider(SAML_ARN)
    assert saml is not None
    assert [c.public_bytes(serialization.Encoding.DER) for c in saml.certificates] == [other]


BROKEN = {
    "plain http issuer": (
        ('url = "' + ISSUER, 'url = "http://idp.example.com/tenant'),
        "oidc_providers[1].url",
        "use an https:// URL",
    ),
    "no client ids": (
        ('client_ids = ["ci-pipelines", "other-app"]', "client_ids = []"),
        "oidc_providers[1].client_ids",
        "1 to 100",
    ),
    "symmetric algorithm": (
        ('algorithms = ["RS256"]', 'algorithms = ["HS256"]'),
        "oidc_providers[1].algorithms",
        "not HS256",
    ),
    "unknown account": (
        (f'account = "sandbox"\nurl = "{ISSUER}', f'account = "nowhere"\nurl = "{ISSUER}'),
        "oidc_providers[1].account",
        "not in the organization",
    ),
    "duplicate issuer in an account": (
        (f'url = "{ISSUER}"', f'url = "{EMBEDDED}"'),
        "oidc_providers[1].url",
        "duplicate provider",
    ),
    "bad saml name": (
        ('name = "ExampleIdP"', 'name = "Example IdP"'),
        "saml_providers[0].name",
        "1-128 of",
    ),
    "missing metadata": (
        ('metadata = "example-idp"', 'metadata = "absent"'),
        "saml_providers[0].metadata",
        "saml/absent.xml is missing",
    ),
    "metadata of another idp": (
        (f'entity_id = "{SAML_IDP}"', 'entity_id = "https://elsewhere.example.com"'),
        "saml_providers[0].metadata",
        "does not describe",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_bad_entry_is_reported_with_file_and_key(federated, case) -> None:
    (old, new), key, text = BROKEN[case]
    federated.replace("identity-providers.toml", old, new)
    errors = validate(Source(federated.root)).errors
    assert [(e.file, e.key) for e in errors] == [("directory/identity-providers.toml", key)]
    assert text in errors[0].message


def test_unknown_key_in_an_entry_is_an_error(federated) -> None:
    federated.replace("identity-providers.toml", 'algorithms = ["RS256"]', 'thumbprint = "x"')
    errors = validate(Source(federated.root)).errors
    assert [e.key for e in errors] == ["oidc_providers[1].thumbprint"]


# -- through STS ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oidc_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


@pytest.fixture
def service(federated, open_directory, oidc_key, tmp_path):
    jwks = {"keys": [{**oidc_key.as_dict(private=False), "kid": "k1", "use": "sig"}]}
    discovery = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/keys",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }

    def idp(request: httpx.Request) -> httpx.Response:
        if request.url == f"{ISSUER}/.well-known/openid-configuration":
            return httpx.Response(200, json=discovery)
        if request.url == f"{ISSUER}/keys":
            return httpx.Response(200, json=jwks)
        return httpx.Response(404)

    return StsService.over(
        embedded_state(tmp_path),
        data=tmp_path,
        principals=DirectoryPrincipals(open_directory()),
        web_identity=WebIdentityVerifier(httpx.Client(transport=httpx.MockTransport(idp))),
    )


def ask(service, **params: str):
    body = urlencode({"Version": "2011-06-15", **params}).encode()
    return service.handle(
        SignedRequest("POST", "/", "", {"host": "h"}, body), source_ip="127.0.0.1", user_agent="t"
    )


def code(answer) -> str:
    return answer.body.split("<Code>")[1].split("</Code>")[0] if "<Code>" in answer.body else "ok"


def web_identity(service, token: str, role: str = "Deployer", account: str = SANDBOX):
    return ask(
        service,
        Action="AssumeRoleWithWebIdentity",
        RoleArn=f"arn:aws:iam::{account}:role/{role}",
        RoleSessionName="build-42",
        WebIdentityToken=token,
    )


def token(key: RSAKey, **overrides: object) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "ci-pipelines", "sub": "repo:example/app"}
    claims |= {"iat": now, "exp": now + 300, **overrides}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def test_a_directory_role_trusting_the_provider_is_assumed(service, oidc_key) -> None:
    answer = web_identity(service, token(oidc_key))
    assert answer.status == 200, answer.body
    assert "<Provider>idp.example.com/tenant</Provider>" in answer.body
    assert "assumed-role/Deployer/build-42" in answer.body


@pytest.mark.parametrize(
    ("overrides", "role", "account", "expected"),
    [
        ({"sub": "repo:example/other"}, "Deployer", SANDBOX, "AccessDenied"),  # trust condition
        ({"aud": "other-app"}, "Deployer", SANDBOX, "AccessDenied"),  # listed, not trusted
        ({"aud": "unlisted"}, "Deployer", SANDBOX, "InvalidIdentityToken"),
        ({"iss": "https://idp.example.com/other"}, "Deployer", SANDBOX, "InvalidIdentityToken"),
        ({}, "ci-deploy", "444444444445", "InvalidIdentityToken"),  # no provider there
        ({}, "BreakGlass", "111111111111", "InvalidIdentityToken"),
        ({"exp": int(time.time()) - 600}, "Deployer", SANDBOX, "ExpiredTokenException"),
        ({}, "Engineer", SANDBOX, "AccessDenied"),  # trusts the SAML provider only
    ],
)
def test_refusals(service, oidc_key, overrides, role, account, expected) -> None:
    assert code(web_identity(service, token(oidc_key, **overrides), role, account)) == expected


def test_a_token_signed_by_another_key_is_refused(service) -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    assert code(web_identity(service, token(other))) == "InvalidIdentityToken"


def saml_assertion(keys=KEYS, name_id: str = "alice@example.com") -> str:
    attr = "https://aws.amazon.com/SAML/Attributes/"
    role = f"arn:aws:iam::{SANDBOX}:role/Engineer"
    spec = Spec(
        idp=SAML_IDP,
        sp="urn:amazon:webservices",
        acs="https://signin.aws.amazon.com/saml",
        in_response_to=None,
        name_id=name_id,
        attributes=(
            (attr + "Role", (f"{SAML_ARN},{role}",)),
            (attr + "RoleSessionName", ("alice",)),
        ),
    )
    return encode(build_response(spec, keys))


def with_saml(service, assertion: str):
    return ask(
        service,
        Action="AssumeRoleWithSAML",
        RoleArn=f"arn:aws:iam::{SANDBOX}:role/Engineer",
        PrincipalArn=SAML_ARN,
        SAMLAssertion=assertion,
    )


def test_saml_provider_entry_admits_its_idp_only(service) -> None:
    assert code(with_saml(service, saml_assertion())) == "ok"
    assert code(with_saml(service, saml_assertion(make_keypair()))) != "ok"  # another signer
    assert code(with_saml(service, saml_assertion(name_id="eve@elsewhere.test"))) == "AccessDenied"


def test_shipped_demo_role_asks_the_embedded_idp_for_keys_and_says_when_it_cannot(
    open_directory, oidc_key, tmp_path
) -> None:
    asked: list[str] = []

    def unreachable(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        raise httpx.ConnectError("no route", request=request)

    service = StsService.over(
        embedded_state(tmp_path),
        data=tmp_path,
        principals=DirectoryPrincipals(open_directory()),
        web_identity=WebIdentityVerifier(httpx.Client(transport=httpx.MockTransport(unreachable))),
    )
    demo = token(oidc_key, iss=EMBEDDED, aud="access-broker")
    answer = web_identity(service, demo, "demo-web-identity")
    assert code(answer) == "IDPCommunicationError"
    assert asked == [f"{EMBEDDED}/.well-known/openid-configuration"]
