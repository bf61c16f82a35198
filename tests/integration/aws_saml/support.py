"""What the tests of SAML straight into AWS share: the names in the IdP peer's AWS
application, capturing the response a person would copy, the ``aws-saml`` provider over it,
the forged attack samples and the CLI's configuration (see ``conftest.py`` for the running
IdP and the fixtures)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from tests.integration.saml_peer import IDP_ENTITY, SP_ENTITY, Browser, RunningIdP
from tests.saml_forge import (
    AWS_ROLE,
    BEARER,
    KeyPair,
    Spec,
    build_assertion,
    build_response,
    encode,
    make_keypair,
    sign,
)
from tests.saml_forge import saml_provider as forge_provider

ACCOUNT = "111122223333"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/Dev"
PRINCIPAL_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/Example"
AWS_SIGNIN = "https://signin.aws.amazon.com/saml"
AWS_AUDIENCE = "urn:amazon:webservices"


def captured(idp: RunningIdP, username: str = "alice") -> str:
    """The person signs in at the IdP's AWS application and copies the SAMLResponse out of the
    auto-submitting form the browser would post to AWS."""
    action, form = Browser(idp, username).unsolicited(AWS_SIGNIN)
    assert action == AWS_SIGNIN
    return form["SAMLResponse"]


def saml_provider(idp: RunningIdP, directory: Path, **extra: object) -> Any:
    return forge_provider(
        directory,
        idp=IDP_ENTITY,
        sp=None,
        cert=str(idp.cert_path),
        sso_url=idp.sso_url,
        aws_federation=True,
        **extra,
    )


def refuse_calls(_region: str, _endpoint: str | None) -> Any:
    raise AssertionError("AWS was asked although the broker's own checks should have refused")


def aws_spec() -> Spec:
    return Spec(idp=IDP_ENTITY, sp=AWS_AUDIENCE, acs=AWS_SIGNIN, in_response_to=None)


def two_confirmations(keys: KeyPair) -> bytes:
    """A signed assertion whose Subject also holds a second bearer confirmation (AWS demands
    exactly one)."""
    assertion = build_assertion(aws_spec())
    subject = assertion.find("{urn:oasis:names:tc:SAML:2.0:assertion}Subject")
    assert subject is not None
    extra = copy.deepcopy(subject[1])
    assert extra.get("Method") == BEARER
    subject.append(extra)
    return etree.tostring(build_response(aws_spec(), None, assertion=sign(assertion, keys)))


def attack_sample(attack: str, keys: KeyPair) -> str:
    spec = aws_spec()
    admin = f"arn:aws:iam::{ACCOUNT}:role/Admin,{PRINCIPAL_ARN}"
    if attack == "to-loopback":
        spec = spec.but(acs="http://127.0.0.1:8443/saml/acs")
    elif attack == "to-other-host":
        spec = spec.but(acs="https://signin.aws.amazon.com.evil.test/saml")
    elif attack == "recipient-elsewhere":  # Destination right, the confirmation not
        spec = spec.but(recipient="https://evil.test/saml")
    elif attack == "wrong-audience":
        spec = spec.but(audiences=(SP_ENTITY,))
    elif attack == "expired":
        spec = spec.but(issued=datetime.now(UTC) - timedelta(hours=1))
    elif attack == "answers-a-request":  # AWS sends no AuthnRequests: not one AWS asked for
        spec = spec.but(in_response_to="_someone_elses_request")
    elif attack == "other-key":
        keys = make_keypair("idp.example.test")
    elif attack == "other-idp":
        spec, keys = spec.but(idp="https://other-idp.example.test/"), make_keypair("other.test")
    elif attack == "two-confirmations":
        return encode(two_confirmations(keys))
    response = build_response(spec, keys)
    if attack == "tampered":  # grant another role after the IdP signed
        for value in response.iter("{urn:oasis:names:tc:SAML:2.0:assertion}AttributeValue"):
            if value.getparent().get("Name") == AWS_ROLE:  # type: ignore[union-attr]
                value.text = admin
    return encode(response)


ATTACKS = {  # attack -> what the one-line refusal names
    "to-loopback": f"Destination is not {AWS_SIGNIN}",
    "to-other-host": f"Destination is not {AWS_SIGNIN}",
    "recipient-elsewhere": f"Recipient is not {AWS_SIGNIN}",
    "wrong-audience": f"Audience does not name {AWS_AUDIENCE}",
    "expired": "expired",
    "answers-a-request": "InResponseTo does not match",
    "tampered": "Assertion signature",
    "other-key": "Assertion signature",
    "other-idp": "Assertion signature",
    "two-confirmations": "exactly one SubjectConfirmation",
}


# dana's one role is in moto's default account: moto files a SAML session under the account
# the (unsigned) request came to, and answers GetCallerIdentity from the key's account.
DANA_ACCOUNT = "123456789012"
DANA_ROLE = f"arn:aws:iam::{DANA_ACCOUNT}:role/Dev"
DANA_PRINCIPAL = f"arn:aws:iam::{DANA_ACCOUNT}:saml-provider/Example"


def write_config(directory: Path, idp: RunningIdP, sts_url: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "broker.toml").write_text(
        '[broker]\ndefault_provider = "corp"\n\n'
        f'[providers.corp]\ntype = "saml"\nidp_entity_id = "{IDP_ENTITY}"\n'
        f'sso_url = "{idp.sso_url}"\nidp_certificate = "{idp.cert_path}"\n'
        "aws_federation = true\n\n"
        f'[profiles.dev]\nminter = "aws-saml"\nrole_arn = "{DANA_ROLE}"\n'
        f'principal_arn = "{DANA_PRINCIPAL}"\nendpoint_url = "{sts_url}"\n'
    )
    return directory


def portal_config(directory: Path, idp: RunningIdP, sts_url: str) -> Path:
    """No [profiles]: the portal's roles, minted through the minter's own STS."""
    write_config(directory, idp, sts_url)
    toml = directory / "broker.toml"
    toml.write_text(
        toml.read_text().split("[profiles.dev]")[0]
        + f'[minters.aws-saml]\nendpoint_url = "{sts_url}"\n'
    )
    return directory
