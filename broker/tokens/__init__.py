"""Token validation as a library: OIDC ID tokens and SAML responses, verified the same way for
every caller.

Both sides that must trust a token from an outside IdP import this package: the provider
plugins (``providers.oidc``, ``providers.saml``, ``providers.embedded``) when a person signs in,
and the STS (``broker.sts.web_identity``, ``broker.sts.saml_assertion``) when a caller presents
a token to AssumeRoleWithWebIdentity or AssumeRoleWithSAML. Keeping the checks here rather than
in a plugin means one implementation of each rule, and the STS never depends on a plugin.

It depends on nothing of ours but ``broker.errors`` (and ``broker.proxy_hint``, standard library
only, for "cannot reach" messages); the import contract in pyproject.toml checks it.
Cryptography is never hand-rolled: joserfc verifies JWS signatures, signxml/lxml XML-DSig.
"""

__all__: list[str] = []
