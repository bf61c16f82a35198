"""The ``[providers.<name>]`` table of an OIDC provider, checked strictly.

Every key is optional except ``type``, ``issuer`` and ``client_id``. A confidential client
names its authentication method here; its secret lives only in the OS keyring under
``secret_key(name)``, never in a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from broker.config.schema import ConfigIssue, ConfigIssues, from_table
from broker.tokens.oidc.discovery import is_allowed_url
from broker.tokens.oidc.jwks import ALGORITHM_KEY_TYPES

__all__ = ["OIDCSettings", "load_settings", "secret_key"]


def secret_key(provider: str) -> str:
    """The keyring entry holding a confidential client's secret."""
    return f"provider:{provider}:client_secret"


@dataclass(frozen=True)
class OIDCSettings:
    """One OIDC provider.

    Args:
        type: always ``"oidc"``.
        issuer: the issuer URL, exactly as the IdP's discovery document spells it.
        client_id: this broker's client id at the IdP.
        scopes: requested scopes; must include ``openid``.
        groups_claim: the claim (ID token or userinfo) holding group names.
        algorithms: accepted ID token algorithms (asymmetric only).
        client_auth: ``none`` (public client, PKCE) or a client-secret method.
        mfa_amr: ``amr`` values that mean the person used more than one factor.
        mfa_acr: ``acr`` values that mean the same.
        leeway: clock skew, in seconds, allowed on ``exp``/``iat`` (at most 300).
        device: offer the device authorization grant when the IdP supports it.
        redirect_path: the loopback redirect path registered at the IdP.
        trusted_audiences: audiences besides ``client_id`` an ID token may also name (OIDC
            Core 3.1.3.7: any other audience is refused); empty by default.
        aws_federation: the ID token may be sent to AWS AssumeRoleWithWebIdentity (the
            ``aws-web-identity`` minter).
    """

    type: Literal["oidc", "embedded"]
    issuer: str
    client_id: str
    scopes: tuple[str, ...] = ("openid", "email", "profile", "offline_access")
    groups_claim: str = "groups"
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")
    client_auth: Literal["none", "client_secret_basic", "client_secret_post"] = "none"
    mfa_amr: tuple[str, ...] = ("mfa",)
    mfa_acr: tuple[str, ...] = ()
    leeway: int = 60
    device: bool = True
    redirect_path: str = "/callback"
    trusted_audiences: tuple[str, ...] = ()
    aws_federation: bool = False


def load_settings(name: str, table: Mapping[str, Any], file: str = "broker.toml") -> OIDCSettings:
    """Build and check the settings of provider ``name``, reporting every problem at once.

    Raises:
        ConfigIssues: unknown keys, wrong types, or values that break a rule.
    """
    prefix = f"providers.{name}"
    settings, issues = from_table(OIDCSettings, table, file=file, prefix=prefix)
    if settings is not None:
        issues.extend(_check(settings, file, prefix))
    if issues or settings is None:
        raise ConfigIssues(issues)
    return settings


def _check(settings: OIDCSettings, file: str, prefix: str) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []

    def problem(key: str, message: str) -> None:
        issues.append(ConfigIssue(file, f"{prefix}.{key}", message))

    if not is_allowed_url(settings.issuer):
        problem("issuer", "must be an https URL (plain http only on 127.0.0.1)")
    if not settings.client_id:
        problem("client_id", "must not be empty")
    if "openid" not in settings.scopes:
        problem("scopes", "must include 'openid'")
    allowed = ", ".join(ALGORITHM_KEY_TYPES)
    for i, alg in enumerate(settings.algorithms):
        if alg not in ALGORITHM_KEY_TYPES:
            problem(f"algorithms[{i}]", f"{alg!r} is not allowed (allowed: {allowed})")
    if not settings.algorithms:
        problem("algorithms", "must name at least one algorithm")
    if not 0 <= settings.leeway <= 300:
        problem("leeway", "must be between 0 and 300 seconds")
    for i, audience in enumerate(settings.trusted_audiences):
        if not audience or audience == settings.client_id:
            problem(f"trusted_audiences[{i}]", "must be a non-empty audience other than client_id")
    if not settings.redirect_path.startswith("/"):
        problem("redirect_path", "must start with '/'")
    if settings.aws_federation and settings.type != "oidc":
        problem("aws_federation", "only an oidc or saml provider can sign in to AWS; remove it")
    return issues
