"""XML intake: size cap before decoding, DTDs refused (XXE, entity expansion), UTF-8 only."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from broker.errors import AuthenticationError
from broker.tokens.saml.safe_xml import MAX_ENCODED_BYTES, decode_post_binding, parse_document
from tests.saml_attacks import BILLION_LAUGHS, DOCTYPE_XXE, with_prolog
from tests.saml_forge import build_response, encode
from tests.unit.providers.saml.test_response import refused


@pytest.mark.parametrize(
    ("prolog", "ref"), [(DOCTYPE_XXE, b"&x;"), (BILLION_LAUGHS, b"&d;")], ids=["xxe", "laughs"]
)
def test_doctype_refused(check, spec, keys, prolog, ref) -> None:
    xml = with_prolog(etree.tostring(build_response(spec, keys)), prolog, ref)
    refused(check, encode(xml), "DOCTYPE")


def test_lowercase_or_spaced_doctype_still_refused() -> None:
    with pytest.raises(AuthenticationError, match="DOCTYPE"):
        parse_document(b'<!doctype r [<!ENTITY x "y">]><r>&x;</r>')


def test_utf16_cannot_hide_a_doctype() -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    with pytest.raises(AuthenticationError, match="UTF-8"):
        parse_document(xml.encode("utf-16"))


def test_oversized_input_refused_before_decoding(check) -> None:
    huge = "A" * (MAX_ENCODED_BYTES + 4)
    refused(check, huge, "larger than")


def test_not_base64_refused(check) -> None:
    refused(check, "this is *not* base64!", "base64")


def test_malformed_xml_refused(check) -> None:
    refused(check, base64.b64encode(b"<samlp:Response").decode(), "malformed")


def test_decode_accepts_folded_base64() -> None:
    data = base64.encodebytes(b"<r/>" * 40).decode()
    assert "\n" in data
    assert decode_post_binding(data) == b"<r/>" * 40
