"""AssumeRoleWithWebIdentity: ID tokens from a test issuer (JWKS over httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from broker.server.query_api import StsService
from broker.server.sigv4 import SignedRequest
from broker.sts.principals import WebIdentityProvider
from broker.sts.web_identity import WebIdentityVerifier
from tests.state_support import embedded_state
from tests.unit.server.test_query_api import call, credentials_of
from tests.unit.sts.principal_data import HOME, Directory, trust

ISSUER = "https://idp.example.com/tenant"
CLIENT = "ci-pipelines"
PROVIDER_ARN = f"arn:aws:iam::{HOME}:oidc-provider/idp.example.com/tenant"


@pytest.fixture(scope="module")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


@pytest.fixture
def service(tmp_path, signing_key):
    jwks = {"keys": [{**signing_key.as_dict(private=False), "kid": "k1", "use": "sig"}]}

    def idp(request: httpx.Request) -> httpx.Response:
        assert request.url == f"{ISSUER}/jwks"
        return httpx.Response(200, json=jwks)

    directory = Directory()
    directory.web_providers[(HOME, ISSUER)] = WebIdentityProvider(
        PROVIDER_ARN, ISSUER, (CLIENT,), f"{ISSUER}/jwks"
    )
    condition = {
        "StringEquals": {
            "idp.example.com/tenant:aud": CLIENT,
            "idp.example.com/tenant:sub": "repo:example/app",
        }
    }
    directory.add_role(
        HOME,
        "Deployer",
        trust(
            {"Federated": PROVIDER_ARN},
            actions=("sts:AssumeRoleWithWebIdentity",),
            condition=condition,
        ),
        max_session=7200,
    )
    verifier = WebIdentityVerifier(httpx.Client(transport=httpx.MockTransport(idp)))
    return StsService.over(
        embedded_state(tmp_path),
        data=tmp_path,
        principals=directory,
        web_identity=verifier,
    )


def id_token(key, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "repo:example/app", "iat": now, "exp": now + 300}
    claims.update(overrides)
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def unsigned(params: dict) -> SignedRequest:
    body = urlencode(
        {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": f"arn:aws:iam::{HOME}:role/Deployer",
            "RoleSessionName": "build-42",
            **params,
        }
    ).encode()
    return SignedRequest("POST", "/", "", {"host": "127.0.0.1:1"}, body)


def ask(service, **params):
    return service.handle(unsigned(params), source_ip="127.0.0.1", user_agent="t")


def code(answer) -> str:
    return answer.body.split("<Code>")[1].split("</Code>")[0]


def test_trusted_token_gets_a_role_session(service, signing_key) -> None:
    token = id_token(signing_key)
    answer = ask(service, WebIdentityToken=token, DurationSeconds="7200")
    assert answer.status == 200, answer.body
    assert (
        "<SubjectFromWebIdentityToken>repo:example/app</SubjectFromWebIdentityToken>" in answer.body
    )
    assert f"<Audience>{CLIENT}</Audience>" in answer.body
    creds = credentials_of(answer.body)
    who = call(
        service,
        creds["AccessKeyId"],
        creds["SecretAccessKey"],
        {"Action": "GetCallerIdentity"},
        creds["SessionToken"],
    )
    assert "assumed-role/Deployer/build-42" in who.body
    log = json.dumps(list(service.audit.records()), separators=(",", ":"))
    assert token not in log and '"type":"WebIdentityUser"' in log


def test_trust_conditions_decide(service, signing_key) -> None:
    answer = ask(service, WebIdentityToken=id_token(signing_key, sub="repo:example/other"))
    assert answer.status == 403 and code(answer) == "AccessDenied"


def test_role_maximum_applies(service, signing_key) -> None:
    answer = ask(service, WebIdentityToken=id_token(signing_key), DurationSeconds="7201")
    assert code(answer) == "ValidationError"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"iss": "https://evil.example.com"}, "InvalidIdentityToken"),
        ({"aud": "someone-else"}, "InvalidIdentityToken"),
        ({"exp": int(time.time()) - 3600}, "ExpiredTokenException"),
    ],
)
def test_foreign_or_stale_tokens_are_refused(service, signing_key, overrides, expected) -> None:
    assert code(ask(service, WebIdentityToken=id_token(signing_key, **overrides))) == expected


def test_token_signed_by_another_key_or_unsigned_is_refused(service) -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    assert code(ask(service, WebIdentityToken=id_token(other))) == "InvalidIdentityToken"

    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "repo:example/app", "iat": now, "exp": now + 60}
    none = f"{b64({'alg': 'none', 'kid': 'k1'})}.{b64(claims)}."
    assert code(ask(service, WebIdentityToken=none)) == "InvalidIdentityToken"
    hs = f"{b64({'alg': 'HS256', 'kid': 'k1'})}.{b64(claims)}.c2ln"
    assert code(ask(service, WebIdentityToken=hs)) == "InvalidIdentityToken"


def test_audience_rule_is_stss_own_a_registered_client_id_in_aud(service, signing_key) -> None:
    # STS checks `aud` against the IAM OIDC provider's client-id list ("client IDs, also known
    # as audiences"); it documents no refusal of other audiences and no `azp` check, so a
    # token listing a registered client id among others is accepted, and `HOST:aud` is it.
    token = id_token(signing_key, aud=["https://api.example.com", CLIENT])
    answer = ask(service, WebIdentityToken=token)
    assert answer.status == 200, answer.body
    assert f"<Audience>{CLIENT}</Audience>" in answer.body
    lone = id_token(signing_key, aud=["https://api.example.com"])
    assert code(ask(service, WebIdentityToken=lone)) == "InvalidIdentityToken"


def remembering_verifier(signing_key) -> tuple[WebIdentityVerifier, WebIdentityProvider]:
    jwks = {"keys": [{**signing_key.as_dict(private=False), "kid": "k1", "use": "sig"}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks))
    provider = WebIdentityProvider(PROVIDER_ARN, ISSUER, (CLIENT, "other-client"), f"{ISSUER}/jwks")
    return WebIdentityVerifier(httpx.Client(transport=transport)), provider


def refusal(call) -> str | None:  # type: ignore[no-untyped-def]
    from broker.errors import StsError

    try:
        call()
    except StsError as exc:
        return exc.code
    return None


def test_a_verified_token_is_remembered_until_it_expires(signing_key) -> None:
    verifier, provider = remembering_verifier(signing_key)
    token = id_token(signing_key)
    exp = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["exp"]
    first = verifier.verify(provider, CLIENT, token)
    first["sub"] = "changed by the caller"
    second = verifier.verify(provider, CLIENT, token)
    assert second["sub"] == "repo:example/app" and verifier._verified.hits == 1
    # past exp + the validator's leeway (60 s): refused from memory as a fresh check would be
    assert verifier.verify(provider, CLIENT, token, now=lambda: exp + 59)["sub"]
    late = refusal(lambda: verifier.verify(provider, CLIENT, token, now=lambda: exp + 61))
    assert late == "ExpiredTokenException"


def test_a_remembered_token_is_bound_to_the_rules_it_passed(signing_key) -> None:
    verifier, provider = remembering_verifier(signing_key)
    token = id_token(signing_key)  # aud: CLIENT
    verifier.verify(provider, CLIENT, token)
    assert refusal(lambda: verifier.verify(provider, "other-client", token)) == (
        "InvalidIdentityToken"
    )
    narrower = WebIdentityProvider(
        PROVIDER_ARN, ISSUER, (CLIENT,), f"{ISSUER}/jwks", algorithms=("ES256",)
    )
    assert refusal(lambda: verifier.verify(narrower, CLIENT, token)) == "InvalidIdentityToken"


def test_refused_tokens_are_never_remembered(signing_key) -> None:
    verifier, provider = remembering_verifier(signing_key)
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    forged = id_token(other)
    for _ in range(2):
        assert refusal(lambda: verifier.verify(provider, CLIENT, forged)) == "InvalidIdentityToken"
    assert verifier._verified.hits == 0 and len(verifier._verified) == 0
