"""XML signature wrapping XSW1–8 on responses signed at the assertion, the response, or both."""

from __future__ import annotations

import pytest

from tests.saml_attacks import EVIL, WRAPPINGS
from tests.saml_forge import build_assertion, build_response, encode
from tests.unit.providers.saml.test_response import refused

SIGNING = {
    "assertion": {"sign_response": False},
    "both": {"sign_response": True},
    "response": {"sign_response": True, "unsigned_assertion": True},
}


# XSW5, 6 and 8 move the assertion's own signature, so they need a signed assertion.
CASES = [
    (name, signed)
    for name in sorted(WRAPPINGS)
    for signed in sorted(SIGNING)
    if not (signed == "response" and name in {"XSW5", "XSW6", "XSW8"})
]


@pytest.mark.parametrize(("name", "signed"), CASES)
def test_wrapping_refused(check, spec, keys, name, signed) -> None:
    options = dict(SIGNING[signed])
    unsigned = options.pop("unsigned_assertion", False)
    assertion = build_assertion(spec) if unsigned else None
    original = build_response(spec, keys, assertion=assertion, **options)
    wrapped = WRAPPINGS[name](original)
    message = refused(check, encode(wrapped), "SAML response refused")
    assert EVIL not in message


def test_signature_in_assertion_covering_something_else_refused(check, spec, keys) -> None:
    """One assertion, signature at the assertion's place, but it signs the whole Response:
    the signed element is not the assertion, so nothing in it may be trusted as one."""
    import copy

    from lxml import etree
    from signxml import XMLSigner
    from signxml.algorithms import CanonicalizationMethod

    doc = build_response(spec, None)
    assertion = doc.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    placeholder = etree.Element("{http://www.w3.org/2000/09/xmldsig#}Signature")
    placeholder.set("Id", "placeholder")
    assertion.insert(1, placeholder)
    signed = XMLSigner(
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
    ).sign(copy.deepcopy(doc), key=keys.key, cert=[keys.cert], reference_uri=spec.response_id)
    refused(check, encode(signed), "does not cover the Assertion")
