"""Hardened XML intake for SAML messages: size cap, base64, no DTDs, one lxml parse.

Why so strict: SAML bugs come from XML parsing (XXE, entity expansion, and "verify one node,
read another" when two parsers disagree, ruby-saml CVE-2024-45409). We cap the encoded size
before decoding, refuse any ``<!DOCTYPE`` outright, and parse exactly once with lxml configured
to resolve nothing; the same parser instance is handed to signxml for its internal copies.
"""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from broker.errors import AuthenticationError

__all__ = ["MAX_ENCODED_BYTES", "decode_post_binding", "hardened_parser", "parse_document"]

# A real response with a few dozen attributes is a few KiB; 256 KiB leaves ample room.
MAX_ENCODED_BYTES = 256 * 1024


def hardened_parser() -> etree.XMLParser:
    """An lxml parser that never resolves entities, loads DTDs or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=True,
        collect_ids=False,
    )


def decode_post_binding(encoded: str) -> bytes:
    """The XML bytes of a ``SAMLResponse`` form value (HTTP-POST binding, base64).

    Raises:
        AuthenticationError: too large, not base64, or carrying a DOCTYPE.
    """
    if len(encoded) > MAX_ENCODED_BYTES:
        raise AuthenticationError(
            f"SAML response refused: larger than {MAX_ENCODED_BYTES} bytes encoded"
        )
    compact = "".join(encoded.split())
    try:
        xml = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationError("SAML response refused: not valid base64") from None
    return xml


def parse_document(xml: bytes) -> etree._Element:
    """Parse ``xml`` once with the hardened parser.

    Raises:
        AuthenticationError: a DOCTYPE (DTD, XXE, entity expansion) or malformed XML.
    """
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError:
        # UTF-16 and friends would hide a DOCTYPE from the byte check below.
        raise AuthenticationError("SAML response refused: not UTF-8 encoded") from None
    if b"<!DOCTYPE" in xml.upper() or b"<!ENTITY" in xml.upper():
        raise AuthenticationError("SAML response refused: DOCTYPE/DTD declarations are not allowed")
    try:
        root = etree.fromstring(xml, parser=hardened_parser())
    except etree.XMLSyntaxError:
        raise AuthenticationError("SAML response refused: malformed XML") from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise AuthenticationError("SAML response refused: DOCTYPE/DTD declarations are not allowed")
    return root
