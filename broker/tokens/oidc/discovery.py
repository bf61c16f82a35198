"""OpenID Connect Discovery 1.0 §4: the issuer's metadata, whose ``issuer`` must match exactly.

§4.3: the ``issuer`` in the document MUST be identical to the issuer URL the client used;
anything else (a trailing slash, another host) is refused, since it would let one issuer
speak for another (the "mix-up" attack, RFC 9207).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from broker.errors import ProviderError
from broker.tokens.oidc.http import OAuthErrorResponse, read_json, send

__all__ = ["ProviderMetadata", "discover", "is_allowed_url"]


def is_allowed_url(url: str) -> bool:
    """HTTPS anywhere, plain HTTP only to the loopback interface (development IdPs, tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ProviderMetadata:
    """The part of the discovery document the broker uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    revocation_endpoint: str | None = None
    code_challenge_methods_supported: tuple[str, ...] = ()
    iss_in_authorization_response: bool = False  # RFC 9207 §3: every response carries ``iss``
    scopes_supported: tuple[str, ...] = ()  # what the IdP says it offers (advisory, §3)

    @classmethod
    def from_document(cls, issuer: str, document: dict[str, Any]) -> ProviderMetadata:
        """Check ``document`` against ``issuer`` and pick its endpoints.

        Raises:
            ProviderError: issuer mismatch, a missing endpoint, a non-HTTPS endpoint, or no S256.
        """
        if document.get("issuer") != issuer:
            raise ProviderError(
                f"discovery for {issuer} names a different issuer; "
                "fix the provider's issuer setting (it must match exactly)"
            )
        endpoints: dict[str, str | None] = {}
        for name, required in (
            ("authorization_endpoint", True),
            ("token_endpoint", True),
            ("jwks_uri", True),
            ("userinfo_endpoint", False),
            ("device_authorization_endpoint", False),
            ("revocation_endpoint", False),
        ):
            value = document.get(name)
            if value is None and not required:
                endpoints[name] = None
                continue
            if not isinstance(value, str) or not is_allowed_url(value):
                raise ProviderError(
                    f"discovery for {issuer}: {name} is missing or not an https URL; "
                    "check the identity provider's configuration"
                )
            endpoints[name] = value
        methods = document.get("code_challenge_methods_supported") or []
        methods = tuple(m for m in methods if isinstance(m, str))
        if methods and "S256" not in methods:
            raise ProviderError(
                f"{issuer} does not offer PKCE S256; enable it at the identity provider"
            )
        return cls(
            issuer=issuer,
            authorization_endpoint=str(endpoints["authorization_endpoint"]),
            token_endpoint=str(endpoints["token_endpoint"]),
            jwks_uri=str(endpoints["jwks_uri"]),
            userinfo_endpoint=endpoints["userinfo_endpoint"],
            device_authorization_endpoint=endpoints["device_authorization_endpoint"],
            revocation_endpoint=endpoints["revocation_endpoint"],
            code_challenge_methods_supported=methods,
            iss_in_authorization_response=(
                document.get("authorization_response_iss_parameter_supported") is True
            ),
            scopes_supported=tuple(
                s for s in document.get("scopes_supported") or [] if isinstance(s, str)
            ),
        )


def discover(client: httpx.Client, issuer: str) -> ProviderMetadata:
    """Fetch ``{issuer}/.well-known/openid-configuration`` (§4.1) and check it.

    Raises:
        ProviderUnavailableError: the IdP cannot be reached or answers badly.
        ProviderError: the document fails a check.
    """
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = send(client, client.build_request("GET", url), "OIDC discovery")
    try:
        document = read_json(response, "OIDC discovery")
    except OAuthErrorResponse as exc:
        raise ProviderError(
            f"OIDC discovery for {issuer} failed ({exc.error}); check the issuer URL"
        ) from None
    return ProviderMetadata.from_document(issuer, document)
