"""SAML 2.0 Web Browser SSO for the service-provider side (SAML Profiles §4.1).

The public entry point is ``providers.saml.provider.SAMLProvider`` (entry point ``saml``);
``broker.tokens.saml.response.validate_response`` verifies one POSTed response on its own.
"""

__all__: list[str] = []
