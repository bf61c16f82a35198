"""AssumeRoleWithWebIdentity: an OIDC ID token from a provider the role's account trusts.

The token is verified by the OIDC provider's own validator (``providers.oidc.id_token``:
joserfc, keys only from the issuer's JWKS by ``kid``, algorithm bound to key type, ``iss``
exact, ``aud`` one of the provider entry's client ids, ``exp``/``iat``), never by python-jose,
which signs only the broker's own tokens. The caller is then the provider
(``arn:aws:iam::ACCT:oidc-provider/HOST``): the role's trust policy alone decides, with the
token's ``HOST:sub``, ``HOST:aud`` and ``HOST:amr`` as condition keys, as STS does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from broker.errors import AuthenticationError, ProviderError, StsError
from broker.policy import PolicySet, Request, evaluate
from broker.sts.durations import DurationRequest, session_expiry
from broker.sts.operations import Outcome, check_session_policy
from broker.sts.parameters import optional_int, read_extras, require_name
from broker.sts.principals import PrincipalSource, WebIdentityProvider, parse_role_arn
from broker.sts.role_session import (
    RoleSession,
    mint_role_session,
    require_role_arn,
)
from broker.sts.session_policies import SessionPolicySource
from broker.sts.signing_keys import KeyRing

__all__ = ["WebIdentityVerifier", "assume_role_with_web_identity"]

_MAX_TOKEN = 20_000
_ACTION = "sts:AssumeRoleWithWebIdentity"


def _invalid(message: str) -> StsError:
    return StsError(message, code="InvalidIdentityToken")


def _unverified_payload(token: str) -> dict[str, Any]:
    """Only to choose which provider's rules verify it; nothing is trusted from here."""
    parts = token.split(".")
    if len(parts) != 3:
        raise _invalid("The web identity token is not a compact JWS.")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise _invalid("The web identity token's payload is not JSON.") from None
    if not isinstance(payload, dict):
        raise _invalid("The web identity token's payload is not a JSON object.")
    return payload


class WebIdentityVerifier:
    """Verifies ID tokens against a provider entry's JWKS (fetched once, re-fetched on rotation)."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=5, follow_redirects=False)
        self._caches: dict[str, Any] = {}

    def verify(self, provider: WebIdentityProvider, client_id: str, token: str) -> dict[str, Any]:
        from providers.oidc.id_token import IdTokenRules, validate_id_token
        from providers.oidc.jwks import JWKSCache

        cache = self._caches.get(provider.jwks_uri)
        if cache is None:
            cache = self._caches[provider.jwks_uri] = JWKSCache(self._client, provider.jwks_uri)
        rules = IdTokenRules(provider.issuer, client_id, provider.algorithms)
        try:
            return validate_id_token(token, cache.key_for, rules, nonce=None)
        except AuthenticationError as exc:
            if exc.code == "expired":
                raise StsError("Token is expired", code="ExpiredTokenException") from None
            raise _invalid(f"The web identity token was refused: {exc.code}") from None
        except ProviderError:
            raise StsError(
                "Couldn't retrieve verification key from your identity provider, please "
                "reference AssumeRoleWithWebIdentity documentation for requirements",
                code="IDPCommunicationError",
            ) from None


def _context(
    provider: WebIdentityProvider,
    claims: Mapping[str, Any],
    client_id: str,
    session_name: str,
    source_ip: str | None,
    now: datetime,
) -> dict[str, Any]:
    prefix = provider.condition_prefix
    context: dict[str, Any] = {
        f"{prefix}:sub": str(claims["sub"]),
        f"{prefix}:aud": client_id,
        "aws:FederatedProvider": provider.arn,
        "aws:PrincipalType": "WebIdentityUser",
        "sts:RoleSessionName": session_name,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(now.timestamp()),
        "aws:SecureTransport": False,
    }
    amr = claims.get("amr")
    if isinstance(amr, list):
        context[f"{prefix}:amr"] = [str(item) for item in amr]
    if isinstance(claims.get("email"), str):
        context[f"{prefix}:email"] = claims["email"]
    if source_ip:
        context["aws:SourceIp"] = source_ip
    return context


def assume_role_with_web_identity(
    ring: KeyRing,
    source: PrincipalSource,
    policies: SessionPolicySource,
    verifier: WebIdentityVerifier,
    params: Mapping[str, str],
    *,
    source_ip: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """AssumeRoleWithWebIdentity as STS answers it (the call itself is not signed)."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    require_role_arn(params)
    session_name = require_name(params, "RoleSessionName", 2, 64)
    token = params.get("WebIdentityToken", "")
    if not 4 <= len(token) <= _MAX_TOKEN:
        raise StsError(
            "1 validation error detected: Value at 'webIdentityToken' failed to satisfy "
            f"constraint: Member must have length between 4 and {_MAX_TOKEN}",
            code="ValidationError",
        )
    extras = read_extras(params)
    account, _path, name = parse_role_arn(params["RoleArn"])
    payload = _unverified_payload(token)
    issuer = payload.get("iss")
    provider = source.web_identity_provider(account, issuer) if isinstance(issuer, str) else None
    if provider is None:
        raise _invalid(f"No OpenIDConnect provider found in your account for {issuer}")
    audiences = payload.get("aud")
    listed = [audiences] if isinstance(audiences, str) else audiences or []
    client_id = next((a for a in listed if a in provider.client_ids), None)
    if client_id is None:
        raise _invalid("Incorrect token audience")
    claims = verifier.verify(provider, client_id, token)
    role = source.role(account, name)
    context = _context(provider, claims, client_id, session_name, source_ip, now)
    request = Request(_ACTION, params["RoleArn"], provider.arn, account, account, context)
    if (
        role is None
        or not evaluate(PolicySet(resource=(role.trust_policy,)), request, explain=False).allowed
    ):
        raise StsError(f"Not authorized to perform {_ACTION}", code="AccessDenied")
    expires = session_expiry(
        DurationRequest(
            "AssumeRoleWithWebIdentity",
            optional_int(params, "DurationSeconds"),
            role_max=role.max_session_duration,
        ),
        now,
    )
    check_session_policy(extras.policy, policies)
    subject = str(claims["sub"])
    minted, result, audit = mint_role_session(
        ring, RoleSession(role, session_name, subject, now, expires, policy=extras.policy)
    )
    result.update(
        {
            "SubjectFromWebIdentityToken": subject,
            "PackedPolicySize": extras.packed_percent if extras.policy else None,
            "Provider": provider.condition_prefix,
            "Audience": client_id,
        }
    )
    identity = {
        "type": "WebIdentityUser",
        "principalId": f"{provider.arn}:{client_id}:{subject}",
        "userName": subject,
        "identityProvider": provider.arn,
    }
    return Outcome(result, audit, minted, identity)
