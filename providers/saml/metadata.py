"""SAML 2.0 Metadata (saml-metadata-2.0-os): our SP descriptor.

The IdP's signing certificates are read by ``broker.tokens.saml.metadata``.
"""

from __future__ import annotations

from lxml import etree

from broker.tokens.saml.names import (
    BINDING_POST,
    METADATA,
    NAMEID_EMAIL,
    NAMEID_UNSPECIFIED,
    PROTOCOL,
    q,
)

__all__ = ["sp_metadata"]


def sp_metadata(sp_entity_id: str, acs_url: str) -> str:
    """Our ``EntityDescriptor``: an SP that wants signed assertions posted to ``acs_url``."""
    entity = etree.Element(q(METADATA, "EntityDescriptor"), nsmap={"md": METADATA})
    entity.set("entityID", sp_entity_id)
    sp = etree.SubElement(entity, q(METADATA, "SPSSODescriptor"))
    sp.set("AuthnRequestsSigned", "false")
    sp.set("WantAssertionsSigned", "true")
    sp.set("protocolSupportEnumeration", PROTOCOL)
    for fmt in (NAMEID_EMAIL, NAMEID_UNSPECIFIED):
        etree.SubElement(sp, q(METADATA, "NameIDFormat")).text = fmt
    acs = etree.SubElement(sp, q(METADATA, "AssertionConsumerService"))
    acs.set("Binding", BINDING_POST)
    acs.set("Location", acs_url)
    acs.set("index", "0")
    acs.set("isDefault", "true")
    text: bytes = etree.tostring(entity, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return text.decode("utf-8")
