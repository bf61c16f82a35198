"""SAML 2.0 Metadata (saml-metadata-2.0-os): our SP descriptor, and the IdP's signing certs."""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from lxml import etree

from broker.errors import AuthenticationError, ConfigError
from providers.saml.assertion import text_of
from providers.saml.names import (
    BINDING_POST,
    METADATA,
    NAMEID_EMAIL,
    NAMEID_UNSPECIFIED,
    NS,
    PROTOCOL,
    q,
)
from providers.saml.safe_xml import parse_document

__all__ = ["signing_certificates_from_idp_metadata", "sp_metadata"]


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


def signing_certificates_from_idp_metadata(
    data: bytes, *, source: str, entity_id: str
) -> tuple[x509.Certificate, ...]:
    """The certificates the metadata of IdP ``entity_id`` lists for signing (``use="signing"``
    or no ``use``); the file may be one ``EntityDescriptor`` or an ``EntitiesDescriptor``.

    Raises:
        ConfigError: the metadata is not safe, well-formed XML, does not describe
            ``entity_id``, or a certificate is invalid.
    """
    try:
        root = parse_document(data)
    except AuthenticationError as exc:
        raise ConfigError(f"{source}: IdP metadata unusable ({exc}); fix idp_certificate") from None
    entities = [
        node
        for node in [root, *root.iter(q(METADATA, "EntityDescriptor"))]
        if node.tag == q(METADATA, "EntityDescriptor") and node.get("entityID") == entity_id
    ]
    if not entities:
        raise ConfigError(
            f"{source}: the IdP metadata does not describe {entity_id!r}; "
            "fix idp_entity_id or idp_certificate"
        )
    root = entities[0]
    path = (
        "./md:IDPSSODescriptor/md:KeyDescriptor[not(@use) or @use='signing']"
        "/ds:KeyInfo/ds:X509Data/ds:X509Certificate"
    )
    certs: list[x509.Certificate] = []
    found = root.xpath(path, namespaces=NS)
    nodes = [n for n in found if isinstance(n, etree._Element)] if isinstance(found, list) else []
    for node in nodes:
        text = text_of(node)
        try:
            der = base64.b64decode("".join(text.split()), validate=True)
            certs.append(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError):
            raise ConfigError(
                f"{source}: an X509Certificate in the IdP metadata is invalid; fix the file"
            ) from None
    return tuple(certs)
