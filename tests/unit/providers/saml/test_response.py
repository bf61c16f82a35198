"""Response validation: every SAML rule of docs/security.md, each tried as an attack on a valid
response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from broker.errors import AuthenticationError
from broker.tokens.saml.response import REPLAY_NAMESPACE
from tests.saml_attacks import inject_comment, strip_all_signatures
from tests.saml_forge import AWS_ROLE, build_assertion, build_response, encode, sign
from tests.unit.providers.saml.conftest import ACS, Check


def refused(check: Check, encoded: str, reason: str, **changes: object) -> str:
    with pytest.raises(AuthenticationError) as caught:
        check(encoded, **changes)
    message = str(caught.value)
    assert "\n" not in message
    assert reason in message, message
    return message


def test_valid_response_yields_values_from_the_signed_assertion(check, spec, keys) -> None:
    facts = check(encode(build_response(spec, keys)))
    assert facts.name_id == "alice@example.com"
    assert facts.issuer == spec.idp
    assert facts.in_response_to == spec.in_response_to
    assert facts.attributes["groups"] == ("engineering", "admins")
    assert facts.attributes[AWS_ROLE][0].startswith("arn:aws:iam::111122223333:role/Dev")
    assert facts.attributes["https://aws.amazon.com/SAML/Attributes/PrincipalTag:team"] == (
        "platform",
    )


def test_session_not_on_or_after_is_read(check, spec, keys) -> None:
    ends = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    facts = check(encode(build_response(spec.but(session_not_on_or_after=ends), keys)))
    assert facts.session_not_on_or_after == ends


def test_signed_response_and_assertion_accepted(check, spec, keys) -> None:
    assert check(encode(build_response(spec, keys, sign_response=True))).name_id


def test_response_signed_alone_covers_its_assertion(check, spec, keys) -> None:
    doc = build_response(spec, keys, sign_response=True, assertion=build_assertion(spec))
    assert check(encode(doc)).name_id == "alice@example.com"


def test_required_response_signature_is_enforced(check, spec, keys) -> None:
    refused(
        check,
        encode(build_response(spec, keys)),
        "Response signature",
        require_signed_response=True,
    )


def test_unsigned_assertion_refused(check, spec) -> None:
    refused(check, encode(build_response(spec, None)), "not signed")


def test_all_signatures_stripped_refused(check, spec, keys) -> None:
    doc = strip_all_signatures(build_response(spec, keys, sign_response=True))
    refused(check, encode(doc), "not signed")


def test_signed_by_another_key_refused_even_with_its_cert_in_keyinfo(
    check, spec, other_keys
) -> None:
    refused(check, encode(build_response(spec, other_keys)), "Assertion signature")


def test_keyinfo_is_ignored_for_trust(check, spec, keys, other_keys) -> None:
    """A genuine signature whose KeyInfo names another certificate still verifies by the pin."""
    doc = build_response(spec, keys)
    cert_node = doc.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    import base64

    from cryptography.hazmat.primitives.serialization import Encoding

    cert_node.text = base64.b64encode(other_keys.cert.public_bytes(Encoding.DER)).decode()
    assert check(encode(doc)).name_id == "alice@example.com"


def test_value_changed_after_signing_refused(check, spec, keys) -> None:
    xml = etree.tostring(build_response(spec, keys)).replace(b"admins", b"root-admins")
    refused(check, encode(xml), "Digest mismatch")


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [("rsa-sha1", "sha1"), ("rsa-sha256", "sha1"), ("rsa-sha1", "sha256")],
)
def test_sha1_refused(check, spec, keys, algorithm, digest) -> None:
    doc = build_response(spec, keys, algorithm=algorithm, digest=digest)
    refused(check, encode(doc), "SHA1")


def test_hmac_refused(check, spec) -> None:
    from signxml import XMLSigner

    assertion = build_assertion(spec)
    signed = XMLSigner(signature_algorithm="hmac-sha256").sign(
        assertion, key=b"a-shared-secret-known-to-attacker", reference_uri=spec.assertion_id
    )
    refused(check, encode(build_response(spec, None, assertion=signed)), "HMAC")


def test_dsa_refused(check, spec) -> None:
    from cryptography.hazmat.primitives.asymmetric import dsa
    from signxml import XMLSigner

    key = dsa.generate_private_key(key_size=2048)
    signed = XMLSigner(signature_algorithm="dsa-sha256").sign(
        build_assertion(spec), key=key, reference_uri=spec.assertion_id
    )
    refused(check, encode(build_response(spec, None, assertion=signed)), "DSA")


@pytest.mark.parametrize("where", ["name_id", "group"])
def test_comment_injection_does_not_truncate(check, spec, keys, where) -> None:
    value = "user@example.com.evil.test"
    if where == "name_id":
        spec = spec.but(name_id=value)
    else:
        spec = spec.but(attributes=(("groups", (value, "staff")),))
    xml = inject_comment(etree.tostring(build_response(spec, keys)), value, len("user@example.com"))
    assert b"user@example.com<!---->.evil.test" in xml
    facts = check(encode(xml))
    if where == "name_id":
        assert facts.name_id == value
    else:
        assert facts.attributes["groups"] == (value, "staff")


def _minutes(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=n)


# One field of an otherwise valid, correctly signed response changed, and the rule it breaks.
SINGLE_CHANGE_REFUSALS = {
    "expired": (lambda: {"issued": _minutes(-20)}, "expired"),
    "not yet valid": (
        lambda: {"issued": _minutes(10), "not_before_offset": timedelta(0)},
        "not yet valid",
    ),
    "IdP session ended": (
        lambda: {"session_not_on_or_after": _minutes(-10)},
        "SessionNotOnOrAfter",
    ),
    "wrong audience": (lambda: {"audiences": ("urn:example:another-sp",)}, "Audience"),
    "wrong recipient": (lambda: {"recipient": "http://127.0.0.1:9999/saml/acs"}, "Recipient"),
    "wrong destination": (lambda: {"destination": "https://sp.evil.test/acs"}, "Destination"),
    "wrong issuer": (lambda: {"idp": "https://idp.evil.test/metadata"}, "Issuer"),
    "failed status": (
        lambda: {"status": "urn:oasis:names:tc:SAML:2.0:status:Requester"},
        "status Requester",
    ),
    "wrong InResponseTo": (lambda: {"in_response_to": "_not-our-request"}, "pending request"),
}


@pytest.mark.parametrize("case", sorted(SINGLE_CHANGE_REFUSALS))
def test_single_change_refused(check, spec, keys, case) -> None:
    changes, reason = SINGLE_CHANGE_REFUSALS[case]
    refused(check, encode(build_response(spec.but(**changes()), keys)), reason)


def test_skew_up_to_180_seconds_tolerated_and_no_more(check, spec, keys) -> None:
    soon = spec.but(
        issued=datetime.now(UTC) + timedelta(seconds=150), not_before_offset=timedelta(0)
    )
    assert check(encode(build_response(soon, keys))).name_id
    later = spec.but(
        issued=datetime.now(UTC) + timedelta(seconds=200),
        not_before_offset=timedelta(0),
        in_response_to=None,
    )
    refused(check, encode(build_response(later, keys)), "not yet valid")


def test_audience_list_containing_us_accepted(check, spec, keys) -> None:
    both = spec.but(audiences=("urn:example:another-sp", spec.sp))
    assert check(encode(build_response(both, keys))).name_id


def test_in_response_to_is_consumed_once(check, spec, keys) -> None:
    assert check(encode(build_response(spec, keys))).name_id
    fresh = spec.but(assertion_id="_another", response_id="_another-r")
    refused(check, encode(build_response(fresh, keys)), "pending request")


def test_replayed_assertion_refused(check, spec, keys, replay_cache) -> None:
    unsolicited = spec.but(in_response_to=None)
    encoded = encode(build_response(unsolicited, keys))
    assert check(encoded, allow_idp_initiated=True).name_id
    assert any(ns == REPLAY_NAMESPACE for ns, _ in replay_cache.seen)
    refused(check, encoded, "replay", allow_idp_initiated=True)


def test_idp_initiated_refused_unless_enabled(check, spec, keys) -> None:
    encoded = encode(build_response(spec.but(in_response_to=None), keys))
    refused(check, encoded, "IdP-initiated")
    assert check(encoded, allow_idp_initiated=True).name_id == "alice@example.com"


def test_two_assertions_refused(check, spec, keys) -> None:
    doc = build_response(spec, keys)
    second = sign(build_assertion(spec.but(assertion_id="_second")), keys)
    doc.append(second)
    refused(check, encode(doc), "exactly one Assertion")


def test_no_assertion_refused(check, spec, keys) -> None:
    doc = build_response(spec, keys)
    doc.remove(doc.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"))
    refused(check, encode(doc), "exactly one Assertion")


def test_encrypted_assertion_refused(check, spec, keys) -> None:
    doc = build_response(spec, keys)
    etree.SubElement(doc, "{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedAssertion")
    refused(check, encode(doc), "encrypted")


def test_acs_url_compared_exactly(check, spec, keys) -> None:
    doc = build_response(spec, keys)
    refused(check, encode(doc), "Destination", acs_url=ACS + "/")


def test_signature_with_two_references_refused(check, spec, keys) -> None:
    """Exactly one reference: a signature also covering another element is not accepted."""
    from signxml import XMLSigner
    from signxml.algorithms import CanonicalizationMethod

    doc = build_response(spec, None)
    assertion = doc.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    placeholder = etree.Element("{http://www.w3.org/2000/09/xmldsig#}Signature", Id="placeholder")
    assertion.insert(1, placeholder)
    signed = XMLSigner(
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
    ).sign(
        doc,
        key=keys.key,
        cert=[keys.cert],
        reference_uri=[spec.assertion_id, spec.response_id],
    )
    refused(check, encode(signed), "references")


def test_in_response_to_must_agree_between_response_and_assertion(check, spec, keys) -> None:
    doc = build_response(spec, keys)
    doc.set("InResponseTo", "_something-else")  # the Response itself is unsigned here
    refused(check, encode(doc), "InResponseTo differs")


def test_status_shown_from_the_message_cannot_break_the_line(check, spec, keys) -> None:
    denied = spec.but(status="urn:x:Requester-PLACEHOLDER")
    xml = etree.tostring(build_response(denied, keys))
    xml = xml.replace(b"-PLACEHOLDER", "&#10;\u202eForged".encode())
    message = refused(check, encode(xml), "status RequesterForged")
    assert "\u202e" not in message


@pytest.mark.parametrize("posted", ["another", None], ids=["different", "dropped"])
def test_relay_state_must_be_the_one_sent_with_our_request(
    policy, pending, replay_cache, spec, keys, request_, posted
) -> None:
    """SAML Bindings §3.5.3: a response to a request sent with RelayState MUST carry it back;
    a different one is refused, and dropping the field must not skip the check."""
    from broker.tokens.saml.response import validate_response

    encoded = encode(build_response(spec, keys))
    with pytest.raises(AuthenticationError, match="RelayState"):
        validate_response(
            encoded,
            policy,
            now=datetime.now(UTC),
            pending=pending,
            replay_cache=replay_cache,
            relay_state=None if posted is None else f"{posted}-{request_.relay_state}",
        )


def test_any_of_several_pinned_certificates_verifies(check, spec, keys, other_keys) -> None:
    """Key rollover: metadata may pin the old and the new certificate side by side."""
    encoded = encode(build_response(spec, keys))
    assert check(encoded, certificates=(other_keys.cert, keys.cert)).name_id
    refused(check, encoded, "Assertion signature", certificates=(other_keys.cert,))


def test_an_sp_that_sends_no_requests_accepts_another_sps_in_response_to_once(
    check, spec, keys
) -> None:
    """The STS path: InResponseTo names a request sent elsewhere, so it cannot be matched;
    agreement between Response and Assertion and one-time use still hold."""
    foreign = spec.but(in_response_to="_a-request-another-sp-sent")
    encoded = encode(build_response(foreign, keys))
    refused(check, encoded, "pending request")  # the default: only our own requests
    facts = check(encoded, requests_sent_elsewhere=True)
    assert facts.in_response_to == "_a-request-another-sp-sent"
    refused(check, encoded, "replay", requests_sent_elsewhere=True)
    doc = build_response(foreign.but(assertion_id="_another-assertion"), keys)
    doc.set("InResponseTo", "_something-else")
    refused(check, encode(doc), "InResponseTo differs", requests_sent_elsewhere=True)


def test_without_sent_requests_a_response_to_a_request_is_refused(
    policy, replay_cache, spec, keys, request_
) -> None:
    """``pending=None`` (an SP that sent nothing, as the STS) matches no InResponseTo, even one
    some other store would know, unless the policy says requests are sent elsewhere."""
    from broker.tokens.saml.response import validate_response

    encoded = encode(build_response(spec, keys))
    with pytest.raises(AuthenticationError, match="pending request"):
        validate_response(
            encoded,
            policy,
            now=datetime.now(UTC),
            replay_cache=replay_cache,
            relay_state=request_.relay_state,
        )
