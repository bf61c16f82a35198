"""Property: any mutation of a valid signed response is either refused with
``AuthenticationError`` or changes nothing the broker reads. Nothing else ever escapes."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from broker.errors import AuthenticationError
from broker.tokens.saml.assertion import xs_datetime
from broker.tokens.saml.response import ResponsePolicy, validate_response
from providers.saml.redirect_binding import PendingRequests
from tests.saml_forge import KeyPair, MemoryReplayCache, Spec, build_response, encode

SPEC = Spec(in_response_to=None)
EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=200),
        st.sampled_from(["remove", "duplicate", "text", "clear", "attribute", "tail"]),
        st.sampled_from(["", "x", "#", "==", "é", "evil@example.com"]),
    ),
    min_size=1,
    max_size=3,
)


def _mutate(doc: etree._Element, edits: list[tuple[int, str, str]]) -> None:
    for index, op, payload in edits:
        elements = list(doc.iter(tag=etree.Element))
        node = elements[index % len(elements)]
        parent = node.getparent()
        if op == "remove" and parent is not None:
            parent.remove(node)
        elif op == "duplicate" and parent is not None:
            node.addnext(copy.deepcopy(node))
        elif op == "text":
            node.text = (node.text or "") + payload
        elif op == "clear":
            node.text = None
        elif op == "attribute" and node.attrib:
            name = sorted(node.attrib)[index % len(node.attrib)]
            node.set(name, payload)
        elif op == "tail":
            node.tail = payload


def _check(keys: KeyPair, doc: etree._Element):
    policy = ResponsePolicy(
        idp_entity_id=SPEC.idp,
        certificates=(keys.cert,),
        sp_entity_id=SPEC.sp,
        acs_url=SPEC.acs,
        allow_idp_initiated=True,
    )
    return validate_response(
        encode(doc),
        policy,
        # The response's own issue time, not the wall clock: SPEC is built at import, and a
        # loaded machine may reach this test minutes later, after the response has expired.
        now=SPEC.issued,
        pending=PendingRequests(),
        replay_cache=MemoryReplayCache(),
    )


@settings(max_examples=60, deadline=None)
@given(edits=EDITS, sign_response=st.booleans())
def test_mutations_are_refused_or_harmless(keys, edits, sign_response) -> None:
    original = build_response(SPEC, keys, sign_response=sign_response)
    expected = _check(keys, original)
    mutated = copy.deepcopy(original)
    _mutate(mutated, edits)
    try:
        facts = _check(keys, mutated)
    except AuthenticationError as exc:
        assert "\n" not in str(exc)
        return
    assert facts == expected


def test_empty_signature_parts_are_refused_not_a_crash(keys) -> None:
    for part in ("SignatureValue", "DigestValue"):
        doc = build_response(SPEC, keys)
        node = doc.find(f".//{{http://www.w3.org/2000/09/xmldsig#}}{part}")
        node.text = None
        with pytest.raises(AuthenticationError, match="Assertion signature"):
            _check(keys, doc)


def test_times_at_the_end_of_the_calendar_are_refused_not_a_crash() -> None:
    for value in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        with pytest.raises(AuthenticationError, match="not a valid time"):
            xs_datetime(value, "NotOnOrAfter")
