"""Turning a verified assertion into ``Claims``: NameID, groups, MFA, and AWS's attributes.

Every attribute is kept under its SAML Name in ``Claims.attributes``, so AWS's own
(``https://aws.amazon.com/SAML/Attributes/Role``, ``RoleSessionName``, ``SessionDuration``,
``PrincipalTag:*``, ``SourceIdentity``) reach AssumeRoleWithSAML and the directory unchanged.
"""

from __future__ import annotations

from broker.tokens.saml.assertion import AssertionFacts
from broker.tokens.saml.names import NAMEID_EMAIL
from providers.base import Claims
from providers.saml.settings import SAMLSettings

__all__ = ["AWS_ATTRIBUTE_PREFIX", "NAMEID_ATTRIBUTE", "claims_from_assertion"]

AWS_ATTRIBUTE_PREFIX = "https://aws.amazon.com/SAML/Attributes/"
NAMEID_ATTRIBUTE = "NameID"


def _first(facts: AssertionFacts, name: str) -> str | None:
    values = [v for v in facts.attributes.get(name, ()) if v]
    return values[0] if values else None


def claims_from_assertion(provider: str, facts: AssertionFacts, settings: SAMLSettings) -> Claims:
    """The person's claims as the signed assertion states them."""
    email = facts.name_id if facts.name_id_format == NAMEID_EMAIL else None
    attributes = dict(facts.attributes)
    attributes[NAMEID_ATTRIBUTE] = (facts.name_id,)
    listed = facts.attributes.get(settings.groups_attribute, ())
    groups = tuple(dict.fromkeys(g for g in listed if g))
    return Claims(
        provider=provider,
        issuer=facts.issuer,
        subject=facts.name_id,
        email=email or _first(facts, settings.email_attribute),
        name=_first(facts, settings.name_attribute),
        groups=groups,
        # SAML has no ``amr``: the AuthnContextClassRef is the ``acr``, and ``mfa`` says
        # whether it is one of the configured multi-factor contexts.
        acr=facts.authn_context,
        mfa=facts.authn_context in settings.mfa_contexts,
        auth_time=facts.authn_instant,
        session_not_on_or_after=facts.session_not_on_or_after,
        attributes=attributes,
    )
