"""XML namespaces and fixed URIs of SAML 2.0 (SAML Core §1.2, Bindings §3.4–3.5)."""

from __future__ import annotations

__all__ = [
    "ASSERTION",
    "BINDING_POST",
    "BINDING_REDIRECT",
    "DS",
    "METADATA",
    "NAMEID_EMAIL",
    "NAMEID_UNSPECIFIED",
    "NS",
    "PROTOCOL",
    "STATUS_SUCCESS",
    "q",
]

ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
METADATA = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
NAMEID_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"

NS = {"saml": ASSERTION, "samlp": PROTOCOL, "md": METADATA, "ds": DS}


def q(namespace: str, local: str) -> str:
    """Clark notation ``{namespace}local`` for lxml."""
    return f"{{{namespace}}}{local}"
