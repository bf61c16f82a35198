"""AssumeRoleWithSAML: signed responses from a test IdP (tests/saml_forge), verified by the
SAML provider's validator, then the Role attribute and the trust policy decide."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from broker.server.query_api import StsService
from broker.server.sigv4 import SignedRequest
from broker.sts.principals import SamlProviderEntry
from tests.saml_forge import Spec, build_response, encode, make_keypair
from tests.state_support import embedded_state
from tests.unit.server.test_query_api import call, credentials_of
from tests.unit.sts.principal_data import HOME, Directory, allow, trust

IDP = "https://idp.example.com/metadata"
PROVIDER = f"arn:aws:iam::{HOME}:saml-provider/ExampleIdP"
ROLE = f"arn:aws:iam::{HOME}:role/Engineer"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
KEYS = make_keypair()
SAML_ACTIONS = ("sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity")


def spec(**changes) -> Spec:
    base = Spec(
        idp=IDP,
        sp="urn:amazon:webservices",
        acs="https://signin.aws.amazon.com/saml",
        in_response_to=None,
        name_id="alice@example.com",
        attributes=(
            (ATTR + "Role", (f"{PROVIDER},{ROLE}",)),
            (ATTR + "RoleSessionName", ("alice",)),
            (ATTR + "PrincipalTag:team", ("platform",)),
            (ATTR + "SourceIdentity", ("alice@example.com",)),
        ),
    )
    return base.but(**changes)


@pytest.fixture
def service(tmp_path) -> StsService:
    directory = Directory()
    directory.saml_providers[PROVIDER] = SamlProviderEntry(PROVIDER, IDP, (KEYS.cert,))
    condition = {
        "StringEquals": {"saml:aud": "https://signin.aws.amazon.com/saml"},
        "StringLike": {"saml:sub": "*@example.com"},
    }
    directory.add_role(
        HOME,
        "Engineer",
        trust({"Federated": PROVIDER}, actions=SAML_ACTIONS, condition=condition),
        policies=[allow("s3:GetObject")],
        max_session=14_400,
    )
    return StsService.over(embedded_state(tmp_path), data=tmp_path, principals=directory)


def ask(service, assertion: str, **params):
    body = urlencode(
        {
            "Action": "AssumeRoleWithSAML",
            "Version": "2011-06-15",
            "RoleArn": ROLE,
            "PrincipalArn": PROVIDER,
            "SAMLAssertion": assertion,
            **params,
        }
    ).encode()
    return service.handle(
        SignedRequest("POST", "/", "", {"host": "h"}, body), source_ip=None, user_agent=None
    )


def code(answer) -> str:
    return answer.body.split("<Code>")[1].split("</Code>")[0] if "<Code>" in answer.body else "ok"


def test_signed_assertion_gets_a_role_session(service) -> None:
    assertion = encode(build_response(spec(), KEYS))
    answer = ask(service, assertion, DurationSeconds="7200")
    assert answer.status == 200, answer.body
    assert "<Subject>alice@example.com</Subject>" in answer.body
    assert "<SourceIdentity>alice@example.com</SourceIdentity>" in answer.body
    creds = credentials_of(answer.body)
    who = call(
        service,
        creds["AccessKeyId"],
        creds["SecretAccessKey"],
        {"Action": "GetCallerIdentity"},
        creds["SessionToken"],
    )
    assert "assumed-role/Engineer/alice" in who.body
    assert assertion not in json.dumps(list(service.audit.records()), separators=(",", ":"))


def test_replayed_assertion_is_refused(service) -> None:
    assertion = encode(build_response(spec(), KEYS))
    assert code(ask(service, assertion)) == "ok"
    assert code(ask(service, assertion)) == "InvalidIdentityToken"


def test_other_signer_or_unsigned_is_refused(service) -> None:
    assert code(
        ask(service, encode(build_response(spec(), make_keypair("attacker.example.com"))))
    ) == ("InvalidIdentityToken")
    assert code(ask(service, encode(build_response(spec(), None)))) == "InvalidIdentityToken"


def test_role_attribute_must_pair_this_role_and_provider(service) -> None:
    other = spec(
        attributes=(
            (ATTR + "Role", (f"{PROVIDER},arn:aws:iam::{HOME}:role/Admin",)),
            (ATTR + "RoleSessionName", ("alice",)),
        )
    )
    assert code(ask(service, encode(build_response(other, KEYS)))) == "AccessDenied"


def test_trust_policy_conditions_decide(service) -> None:
    outsider = spec(name_id="mallory@elsewhere.example.net")
    assert code(ask(service, encode(build_response(outsider, KEYS)))) == "AccessDenied"


def test_credentials_never_outlive_the_idp_session(service) -> None:
    end = datetime.now(UTC) + timedelta(minutes=20)
    short = spec(session_not_on_or_after=end)
    assert code(ask(service, encode(build_response(short, KEYS)), DurationSeconds="3600")) == (
        "ValidationError"
    )
    answer = ask(service, encode(build_response(spec(session_not_on_or_after=end), KEYS)))
    assert answer.status == 200, answer.body
    expiration = answer.body.split("<Expiration>")[1].split("</Expiration>")[0]
    assert datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= end


def test_policy_arns_scope_the_saml_session(service) -> None:
    from tests.unit.server.test_authorize import signed_json

    query = {"action": "s3:GetObject", "resource": "arn:aws:s3:::example-reports/a"}

    def allowed(answer) -> bool:
        assert answer.status == 200, answer.body
        creds = credentials_of(answer.body)
        return service.authorize(signed_json(creds, query), source_ip=None)[1]["allowed"]

    assert allowed(ask(service, encode(build_response(spec(), KEYS))))
    deny_all = {"PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/AWSDenyAll"}
    assert not allowed(ask(service, encode(build_response(spec(), KEYS)), **deny_all))
    unknown = {"PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/NoSuchPolicy"}
    assert code(ask(service, encode(build_response(spec(), KEYS)), **unknown)) == (
        "MalformedPolicyDocument"
    )


@pytest.mark.parametrize(
    ("allowed", "refused_for"),
    [
        (("sts:AssumeRoleWithSAML", "sts:SetSourceIdentity"), "sts:TagSession"),
        (("sts:AssumeRoleWithSAML", "sts:TagSession"), "sts:SetSourceIdentity"),
    ],
)
def test_asserted_tags_and_source_identity_need_the_trust_policy(
    service, allowed, refused_for
) -> None:
    service.principals.add_role(HOME, "Engineer", trust({"Federated": PROVIDER}, actions=allowed))
    answer = ask(service, encode(build_response(spec(), KEYS)))
    assert code(answer) == "AccessDenied" and refused_for in answer.body
    plain = spec(attributes=spec().attributes[:2])  # Role and RoleSessionName only
    assert code(ask(service, encode(build_response(plain, KEYS)))) == "ok"
