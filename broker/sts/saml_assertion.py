"""AssumeRoleWithSAML: a SAML 2.0 response from an IdP the role's account trusts.

The response is verified by the shared token library (``broker.tokens.saml.response``, the
validator the SAML sign-in provider uses too): one lxml parse, signxml with the entry's pinned
certificates, exactly one assertion, issuer, audience, recipient, conditions window, replay
cache) as a response addressed to the entry's ACS URL. Like AWS's SAML endpoint, the STS sends
no AuthnRequests, so it accepts both an IdP-initiated response and one that answers another
SP's request (an SP-initiated `broker login`): ``InResponseTo`` cannot be matched here and is
not, while the replay cache still lets each assertion ID be used once (docs/architecture.md,
"SAML responses on the STS path"). Then, as STS requires: the assertion's
``https://aws.amazon.com/SAML/Attributes/Role`` must pair this RoleArn with this PrincipalArn,
``RoleSessionName`` comes from the assertion, and the role's trust policy decides with
``saml:sub``, ``saml:aud``, ``saml:iss`` and ``saml:sub_type``. Credentials never outlive
``SessionNotOnOrAfter``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from broker.errors import AuthenticationError, StsError
from broker.sts.context import StsContext
from broker.sts.durations import DurationRequest, session_expiry
from broker.sts.managed_policies import check_policy_arns, resolve_session_policies
from broker.sts.parameters import check_extras, check_name, check_token_length
from broker.sts.principals import SamlProviderEntry, parse_role_arn
from broker.sts.requests import AssumeRoleWithSamlRequest
from broker.sts.results import AssumeRoleWithSamlResult, Outcome
from broker.sts.role_session import (
    RoleSession,
    authorize_federated_extras,
    federated_trust_allows,
    mint_role_session,
)
from broker.tokens.replay import ReplayCache

if TYPE_CHECKING:
    from broker.tokens.saml.assertion import AssertionFacts

__all__ = ["assume_role_with_saml"]

_ACTION = "sts:AssumeRoleWithSAML"
_ATTR = "https://aws.amazon.com/SAML/Attributes/"
_MAX_ASSERTION = 100_000


def _denied() -> StsError:
    return StsError(f"Not authorized to perform {_ACTION}", code="AccessDenied")


def _verify(
    entry: SamlProviderEntry, encoded: str, replay_cache: ReplayCache, now: datetime
) -> AssertionFacts:
    """The response's verified assertion; the STS sends no AuthnRequests, so none is pending."""
    from broker.tokens.saml.response import ResponsePolicy, validate_response

    policy = ResponsePolicy(
        idp_entity_id=entry.idp_entity_id,
        certificates=entry.certificates,
        sp_entity_id=entry.audience,
        acs_url=entry.acs_url,
        allow_idp_initiated=True,
        requests_sent_elsewhere=True,
    )
    try:
        return validate_response(encoded, policy, now=now, replay_cache=replay_cache)
    except AuthenticationError as exc:
        if "expired" in str(exc).lower():
            raise StsError(
                "The SAML assertion has expired.", code="ExpiredTokenException"
            ) from None
        raise StsError(
            "The SAML response was refused; check the IdP's signing certificate and settings.",
            code="InvalidIdentityToken",
        ) from None


def _role_pairs(attributes: Mapping[str, tuple[str, ...]]) -> set[tuple[str, str]]:
    """(role ARN, provider ARN) pairs from the Role attribute, in either order."""
    pairs = set()
    for value in attributes.get(_ATTR + "Role", ()):
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != 2:
            continue
        role, provider = sorted(parts, key=lambda arn: ":saml-provider/" in arn)
        pairs.add((role, provider))
    return pairs


def _name_qualifier(issuer: str, account: str, provider_arn: str) -> str:
    name = provider_arn.rsplit("/", 1)[-1]
    digest = hashlib.sha1(f"{issuer}{account}/{name}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def _one(attributes: Mapping[str, tuple[str, ...]], name: str) -> str | None:
    values = attributes.get(_ATTR + name, ())
    return values[0] if values else None


def assume_role_with_saml(
    deps: StsContext,
    request: AssumeRoleWithSamlRequest,
    *,
    source_ip: str | None = None,
) -> Outcome[AssumeRoleWithSamlResult]:
    """AssumeRoleWithSAML as STS answers it (the call itself is not signed)."""
    source, policies = deps.directory("AssumeRoleWithSAML")
    now = deps.now()
    role_arn, provider_arn = request.role_arn, request.principal_arn
    encoded = check_token_length(request.saml_assertion, "sAMLAssertion", _MAX_ASSERTION)
    extras = check_extras(request.policy, request.policy_arns, (), ())
    arns = check_policy_arns(request.policy_arns)
    account, _path, name = parse_role_arn(role_arn)
    entry = source.saml_provider(provider_arn)
    if entry is None or not provider_arn.startswith(f"arn:aws:iam::{account}:saml-provider/"):
        raise StsError(
            f"No SAML provider {provider_arn} in the role's account.", code="InvalidIdentityToken"
        )
    if deps.saml_replay_cache is None:  # without one an assertion could be replayed
        raise StsError(
            "AssumeRoleWithSAML needs a replay cache for assertion ids; this STS has none.",
            code="InternalFailure",
        )
    facts = _verify(entry, encoded, deps.saml_replay_cache, now)
    if (role_arn, provider_arn) not in _role_pairs(facts.attributes):
        raise _denied()
    session_name = _one(facts.attributes, "RoleSessionName")
    if session_name is None:
        raise StsError(
            "The SAML assertion has no RoleSessionName attribute.", code="InvalidIdentityToken"
        )
    check_name(session_name, "RoleSessionName", 2, 64)
    sub_type = (facts.name_id_format or "").rsplit(":", 1)[-1] or "unspecified"
    context: dict[str, Any] = {
        "saml:sub": facts.name_id,
        "saml:sub_type": sub_type,
        "saml:iss": facts.issuer,
        "saml:aud": entry.acs_url,
        "saml:namequalifier": _name_qualifier(facts.issuer, account, provider_arn),
        "aws:FederatedProvider": provider_arn,
        "sts:RoleSessionName": session_name,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(now.timestamp()),
    }
    if source_ip:
        context["aws:SourceIp"] = source_ip
    role = source.role(account, name)
    if role is None or not federated_trust_allows(role, _ACTION, provider_arn, context):
        raise _denied()
    tags = {
        key.removeprefix(_ATTR + "PrincipalTag:"): values[0]
        for key, values in facts.attributes.items()
        if key.startswith(_ATTR + "PrincipalTag:") and values
    }
    source_identity = _one(facts.attributes, "SourceIdentity")
    if source_identity is not None:  # AWS's pattern, as for the request parameter
        check_name(source_identity, "SourceIdentity", 2, 64)
    authorize_federated_extras(role, provider_arn, context, tags, source_identity)
    requested = request.duration_seconds
    attribute_duration = _one(facts.attributes, "SessionDuration")
    if requested is None and attribute_duration and attribute_duration.isdigit():
        requested = min(int(attribute_duration), role.max_session_duration)
    expires = session_expiry(
        DurationRequest(
            "AssumeRoleWithSAML",
            requested,
            role_max=role.max_session_duration,
            idp_session_end=facts.session_not_on_or_after,
        ),
        now,
    )
    session_policies = resolve_session_policies(extras.policy, arns, role.account, source, policies)
    transitive = tuple(
        k for k in facts.attributes.get(_ATTR + "TransitiveTagKeys", ()) if k in tags
    )
    minted, credentials, assumed = mint_role_session(
        deps.ring,
        RoleSession(
            role,
            session_name,
            facts.name_id,
            now,
            expires,
            policy=session_policies.text,
            tags=tags,
            transitive_tag_keys=transitive,
            source_identity=source_identity,
        ),
    )
    result = AssumeRoleWithSamlResult(
        credentials,
        assumed,
        subject=facts.name_id,
        subject_type=sub_type,
        issuer=facts.issuer,
        audience=entry.acs_url,
        name_qualifier=context["saml:namequalifier"],
        packed_policy_size=extras.packed_percent if session_policies.present else None,
        source_identity=source_identity,
    )
    identity = {
        "type": "SAMLUser",
        "principalId": f"{context['saml:namequalifier']}:{facts.name_id}",
        "userName": facts.name_id,
        "identityProvider": provider_arn,
    }
    return Outcome("AssumeRoleWithSAML", result, minted, identity)
