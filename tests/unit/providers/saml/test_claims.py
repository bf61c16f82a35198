"""Mapping a verified assertion to Claims."""

from __future__ import annotations

from datetime import UTC, datetime

from broker.tokens.saml.assertion import AssertionFacts
from broker.tokens.saml.names import NAMEID_EMAIL, NAMEID_UNSPECIFIED
from providers.saml.claims import claims_from_assertion
from providers.saml.settings import load_settings

SETTINGS = load_settings(
    "corp",
    {
        "type": "saml",
        "idp_entity_id": "https://idp.example.com/metadata",
        "sso_url": "https://idp.example.com/sso",
        "idp_certificate": "idp.pem",
        "sp_entity_id": "urn:example:broker",
        "groups_attribute": "memberOf",
        "email_attribute": "mail",
        "mfa_contexts": ["https://refeds.org/profile/mfa"],
    },
    file="broker.toml",
)


def facts(name_id: str, fmt: str, context: str | None, **attributes: tuple[str, ...]):
    return AssertionFacts(
        id="_a1",
        issuer="https://idp.example.com/metadata",
        name_id=name_id,
        name_id_format=fmt,
        in_response_to=None,
        not_on_or_after=datetime.now(UTC),
        authn_instant=datetime(2026, 1, 1, tzinfo=UTC),
        authn_context=context,
        session_not_on_or_after=None,
        attributes=attributes,
    )


def test_opaque_name_id_takes_email_from_the_configured_attribute() -> None:
    claims = claims_from_assertion(
        "corp",
        facts(
            "u-4711",
            NAMEID_UNSPECIFIED,
            "https://refeds.org/profile/mfa",
            mail=("bob@example.com",),
            memberOf=("staff", "", "staff", "ops"),
        ),
        SETTINGS,
    )
    assert claims.subject == "u-4711" and claims.email == "bob@example.com"
    assert claims.groups == ("staff", "ops")
    assert claims.mfa and claims.acr == "https://refeds.org/profile/mfa" and claims.amr == ()
    assert claims.attributes["NameID"] == ("u-4711",)
    assert claims.auth_time == datetime(2026, 1, 1, tzinfo=UTC)


def test_email_name_id_wins_and_password_is_not_mfa() -> None:
    claims = claims_from_assertion(
        "corp",
        facts(
            "alice@example.com",
            NAMEID_EMAIL,
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
            mail=("other@example.com",),
        ),
        SETTINGS,
    )
    assert claims.email == "alice@example.com"
    assert not claims.mfa and claims.groups == ()
