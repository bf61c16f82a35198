"""OpenID Connect sign-in: one module per spec, ``provider.OIDCProvider`` ties them together.

The flows live here (PKCE, loopback redirect, device grant, token endpoint, settings, claims);
discovery, the JWKS and ID-token validation are ``broker.tokens.oidc``, shared with the STS.

Nothing here is imported by the broker at start-up; the provider registry loads
``providers.oidc.provider`` only when an OIDC provider is used (httpx and joserfc are heavy).
"""

__all__: list[str] = []
