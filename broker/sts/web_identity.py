"""AssumeRoleWithWebIdentity: an OIDC ID token from a provider the role's account trusts.

The token is verified by the shared token library (``broker.tokens.oidc.id_token``, the
validator OIDC sign-in uses too: joserfc, keys only from the issuer's JWKS by ``kid``, algorithm
bound to key type, ``iss`` exact, ``aud`` one of the provider entry's client ids,
``exp``/``iat``), never by python-jose, which signs only the broker's own tokens. The caller is
then the provider (``arn:aws:iam::ACCT:oidc-provider/HOST``): the role's trust policy alone
decides, with the token's ``HOST:sub``, ``HOST:aud`` and ``HOST:amr`` as condition keys, as STS
does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from broker.errors import AuthenticationError, ProviderError, StsError
from broker.policy import Request
from broker.sts.context import StsContext
from broker.sts.durations import DurationRequest, session_expiry
from broker.sts.expiring_cache import ExpiringCache
from broker.sts.managed_policies import check_policy_arns, resolve_session_policies
from broker.sts.parameters import check_extras, check_name, check_token_length
from broker.sts.principals import WebIdentityProvider, parse_role_arn
from broker.sts.requests import AssumeRoleWithWebIdentityRequest
from broker.sts.results import AssumeRoleWithWebIdentityResult, Outcome
from broker.sts.role_session import RoleSession, mint_role_session, trust_policy_set

if TYPE_CHECKING:
    from broker.tokens.oidc.jwks import JWKSCache

__all__ = ["LocalKeySets", "WebIdentityVerifier", "assume_role_with_web_identity"]

_MAX_TOKEN = 20_000
_ACTION = "sts:AssumeRoleWithWebIdentity"

LocalKeySets = Callable[[], Mapping[str, "JWKSCache"]]
"""Issuer -> key set held on this machine (no URL to fetch), asked for once, on first need."""


def _invalid(message: str) -> StsError:
    return StsError(message, code="InvalidIdentityToken")


def _unreachable() -> StsError:
    return StsError(
        "Couldn't retrieve verification key from your identity provider, please "
        "reference AssumeRoleWithWebIdentity documentation for requirements",
        code="IDPCommunicationError",
    )


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
    """Verifies ID tokens against a provider entry's JWKS (fetched once, re-fetched on rotation).

    ``local_keys``, given by the front end (``providers.registry.local_key_sets`` over the data
    directory), names key sets that live on this machine, by issuer: the one for a token's
    exact issuer is used when the directory entry names no ``jwks_uri``; every other issuer's
    keys come only from its JWKS URL (named, or found through its discovery document).
    """

    def __init__(
        self, client: httpx.Client | None = None, *, local_keys: LocalKeySets | None = None
    ) -> None:
        self._client = client or httpx.Client(timeout=5, follow_redirects=False)
        self._local_keys = local_keys
        self._local: Mapping[str, JWKSCache] | None = None
        self._caches: dict[str, JWKSCache] = {}
        self._jwks_uris: dict[str, str] = {}
        self._verified: ExpiringCache[tuple[Any, dict[str, Any]]] = ExpiringCache()

    def _discovered(self, issuer: str) -> str:
        """The issuer's ``jwks_uri`` from its discovery document (fetched once per issuer)."""
        from broker.tokens.oidc.discovery import discover

        found = self._jwks_uris.get(issuer)
        if found is None:
            try:
                found = self._jwks_uris[issuer] = discover(self._client, issuer).jwks_uri
            except ProviderError:
                raise _unreachable() from None
        return found

    def _local_set(self, issuer: str) -> JWKSCache | None:
        if self._local_keys is None:
            return None
        if self._local is None:
            self._local = dict(self._local_keys())
        return self._local.get(issuer)

    def _key_source(self, provider: WebIdentityProvider) -> JWKSCache:
        from broker.tokens.oidc.jwks import JWKSCache

        if not provider.jwks_uri:
            local = self._local_set(provider.issuer)
            if local is not None:
                return local
        jwks_uri = provider.jwks_uri or self._discovered(provider.issuer)
        cache = self._caches.get(jwks_uri)
        if cache is None:
            cache = self._caches[jwks_uri] = JWKSCache(self._client, jwks_uri)
        return cache

    def verify(
        self,
        provider: WebIdentityProvider,
        client_id: str,
        token: str,
        *,
        now: Callable[[], float] = time.time,
    ) -> dict[str, Any]:
        """The token's verified claims under ``provider``'s rules for ``client_id``.

        A token that verified before under the very same rules (same issuer, client id,
        algorithms and key source) is answered from memory, keyed by the SHA-256 of its bytes,
        after its expiry is checked again as a fresh validation would (same leeway): the
        signature, issuer, audience and times cannot have changed for those bytes, and
        ``iat``/``nbf`` only become more acceptable as time passes. Refusals are never
        remembered. Callers get a copy, so nothing they do changes what is remembered.
        """
        from broker.tokens.oidc.id_token import IdTokenRules, validate_id_token

        source = self._key_source(provider)
        rules = IdTokenRules(provider.issuer, client_id, provider.algorithms, sts_audience=True)
        digest = hashlib.sha256(
            "\x00".join((token, provider.issuer, client_id, *provider.algorithms)).encode()
        ).digest()
        current = now()
        remembered = self._verified.get(digest)
        if remembered is not None and remembered[0] is source:
            if float(remembered[1]["exp"]) <= current - rules.leeway:
                raise StsError("Token is expired", code="ExpiredTokenException")
            self._verified.hits += 1
            return dict(remembered[1])
        try:
            claims = validate_id_token(token, source.key_for, rules, nonce=None, now=now)
        except AuthenticationError as exc:
            if exc.code == "expired":
                raise StsError("Token is expired", code="ExpiredTokenException") from None
            raise _invalid(f"The web identity token was refused: {exc.code}") from None
        except ProviderError:
            raise _unreachable() from None
        expires = float(claims["exp"]) + rules.leeway
        self._verified.put(digest, (source, dict(claims)), expires, current)
        return claims


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
    deps: StsContext,
    request: AssumeRoleWithWebIdentityRequest,
    *,
    source_ip: str | None = None,
) -> Outcome[AssumeRoleWithWebIdentityResult]:
    """AssumeRoleWithWebIdentity as STS answers it (the call itself is not signed)."""
    source, policies = deps.directory("AssumeRoleWithWebIdentity")
    now = deps.now()
    role_arn = request.role_arn
    session_name = check_name(request.role_session_name, "RoleSessionName", 2, 64)
    token = check_token_length(request.web_identity_token, "webIdentityToken", _MAX_TOKEN)
    extras = check_extras(request.policy, request.policy_arns, (), ())
    arns = check_policy_arns(request.policy_arns)
    account, _path, name = parse_role_arn(role_arn)
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
    verifier = deps.web_identity
    if verifier is None:
        raise _unreachable()
    claims = verifier.verify(provider, client_id, token)
    role = source.role(account, name)
    context = _context(provider, claims, client_id, session_name, source_ip, now)
    decision = Request(_ACTION, role_arn, provider.arn, account, account, context)
    if role is None or not trust_policy_set(role).evaluate(decision, explain=False).allowed:
        raise StsError(f"Not authorized to perform {_ACTION}", code="AccessDenied")
    expires = session_expiry(
        DurationRequest(
            "AssumeRoleWithWebIdentity",
            request.duration_seconds,
            role_max=role.max_session_duration,
        ),
        now,
    )
    session_policies = resolve_session_policies(extras.policy, arns, role.account, source, policies)
    subject = str(claims["sub"])
    minted, credentials, assumed = mint_role_session(
        deps.ring,
        RoleSession(role, session_name, subject, now, expires, policy=session_policies.text),
    )
    result = AssumeRoleWithWebIdentityResult(
        credentials,
        assumed,
        subject_from_web_identity_token=subject,
        provider=provider.condition_prefix,
        audience=client_id,
        packed_policy_size=extras.packed_percent if session_policies.present else None,
    )
    identity = {
        "type": "WebIdentityUser",
        "principalId": f"{provider.arn}:{client_id}:{subject}",
        "userName": subject,
        "identityProvider": provider.arn,
    }
    return Outcome("AssumeRoleWithWebIdentity", result, minted, identity)
