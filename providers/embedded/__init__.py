"""The embedded development IdP: a small OIDC issuer in-process on 127.0.0.1. Development only.

``provider.EmbeddedProvider`` signs in through ``providers.oidc.provider.OIDCProvider``, the
same code path as a real IdP, against the issuer in ``issuer.EmbeddedIssuer``.
"""

__all__: list[str] = []
