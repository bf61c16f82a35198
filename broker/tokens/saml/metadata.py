"""SAML 2.0 Metadata (saml-metadata-2.0-os): the signing certificates an IdP's metadata lists.

These are the certificates pinned for verifying its responses, by the SAML provider plugin and
by the STS (a directory SAML provider entry) alike.
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from lxml import etree

from broker.errors import AuthenticationError, ConfigError
from broker.tokens.saml.assertion import text_of
from broker.tokens.saml.names import METADATA, NS, q
from broker.tokens.saml.safe_xml import parse_document

__all__ = ["signing_certificates_from_idp_metadata"]


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
