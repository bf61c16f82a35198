"""SAML 2.0 response validation: hardened XML intake, XML-DSig with pinned certificates, the
assertion's Web Browser SSO rules, and reading an IdP's signing certificates from its metadata.

``response.validate_response`` verifies one POSTed response on its own.
"""

__all__: list[str] = []
