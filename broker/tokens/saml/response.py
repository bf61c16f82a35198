"""Validating a POSTed SAML Response (SAML Core §3.2.2, Profiles §4.1.4.3, Bindings §3.5).

Order of work: cap and decode, refuse DTDs, parse once; require exactly one Assertion (and no
EncryptedAssertion) anywhere in the document; verify the Response signature when present (or
required) and the Assertion signature at its pinned place; then read every value from the
signed copies only. XML signature wrapping (XSW1–8) fails one of: the single-assertion count,
the pinned signature location, signxml's unique-ID reference resolution, or the check that the
signed element is the one at that location.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cryptography import x509
from lxml import etree

from broker.tokens.replay import ReplayCache
from broker.tokens.saml.assertion import AssertionFacts, read_assertion, refuse, text_of
from broker.tokens.saml.names import ASSERTION, DS, NS, PROTOCOL, STATUS_SUCCESS, q
from broker.tokens.saml.safe_xml import decode_post_binding, parse_document
from broker.tokens.saml.xmldsig import verify_enveloped

__all__ = [
    "REPLAY_NAMESPACE",
    "ResponsePolicy",
    "SentRequest",
    "SentRequests",
    "validate_response",
]

REPLAY_NAMESPACE = "saml-assertion"


class SentRequest(Protocol):
    """An AuthnRequest this SP sent: what its answer must carry back."""

    @property
    def relay_state(self) -> str: ...


class SentRequests(Protocol):
    """This SP's outstanding AuthnRequests (the SAML plugin's redirect binding keeps them)."""

    def consume(self, request_id: str, now: datetime) -> SentRequest | None:
        """The pending request ``request_id`` (removed), or None if unknown, used or lapsed."""
        ...


@dataclass(frozen=True)
class ResponsePolicy:
    """What a response must satisfy to be accepted by this SP."""

    idp_entity_id: str
    certificates: tuple[x509.Certificate, ...]
    sp_entity_id: str
    acs_url: str
    allow_idp_initiated: bool = False
    requests_sent_elsewhere: bool = False
    """The SP answering never sends AuthnRequests (the STS's AssumeRoleWithSAML, like AWS's
    sign-in endpoint): a response's ``InResponseTo`` names another SP's request, which cannot
    be matched here, so it is accepted unmatched (Response and Assertion must still agree).
    Every other check stands, and the replay cache still makes each assertion single-use."""
    require_signed_response: bool = False
    clock_skew: int = 120
    single_subject_confirmation: bool = False
    """The Subject must hold exactly one SubjectConfirmation (AWS's rule for the responses
    AssumeRoleWithSAML accepts), not merely one bearer confirmation meant for us."""


def _signed_envelope(root: etree._Element, policy: ResponsePolicy) -> etree._Element | None:
    """The Response as signed, or None when it carries no signature (and none is required)."""
    if root.find(q(DS, "Signature")) is None and not policy.require_signed_response:
        return None
    signed = verify_enveloped(
        root, location="./", certificates=policy.certificates, what="Response signature"
    )
    if signed.tag != q(PROTOCOL, "Response") or signed.get("ID") != root.get("ID"):
        raise refuse("the Response signature does not cover this Response")
    return signed


def _signed_assertion(
    root: etree._Element, envelope: etree._Element | None, policy: ResponsePolicy
) -> etree._Element:
    """The one Assertion as signed: by its own signature, else by the Response's."""
    (assertion,) = root.findall(q(ASSERTION, "Assertion"))
    if assertion.find(q(DS, "Signature")) is not None:
        signed = verify_enveloped(
            root,
            location=f"./{q(ASSERTION, 'Assertion')}/",
            certificates=policy.certificates,
            what="Assertion signature",
        )
        if signed.tag != q(ASSERTION, "Assertion") or signed.get("ID") != assertion.get("ID"):
            raise refuse("the Assertion signature does not cover the Assertion")
        return signed
    if envelope is not None:
        return envelope.findall(q(ASSERTION, "Assertion"))[0]
    raise refuse("the Assertion is not signed")


def _check_envelope(envelope: etree._Element, policy: ResponsePolicy) -> None:
    if envelope.get("Version") != "2.0" or not envelope.get("ID"):
        raise refuse("not a SAML 2.0 Response with an ID")
    if envelope.get("Destination") != policy.acs_url:
        raise refuse(f"Destination is not {policy.acs_url}")
    issuers = envelope.findall("saml:Issuer", NS)
    if issuers and text_of(issuers[0]) != policy.idp_entity_id:
        raise refuse("Response Issuer is not the configured IdP")


def _check_status(root: etree._Element) -> None:
    codes = root.findall("samlp:Status/samlp:StatusCode", NS)
    value = codes[0].get("Value") if len(codes) == 1 else None
    if value != STATUS_SUCCESS:
        last = (value or "missing").rsplit(":", 1)[-1]
        shown = "".join(c for c in last if c.isascii() and c.isalnum())[:40] or "unknown"
        raise refuse(f"the IdP answered status {shown}, not Success")


def _count_assertions(root: etree._Element) -> None:
    if root.findall(".//saml:EncryptedAssertion", NS):
        raise refuse("encrypted assertions are not supported")
    anywhere = root.findall(".//saml:Assertion", NS)
    direct = root.findall("saml:Assertion", NS)
    if len(anywhere) != 1 or len(direct) != 1:
        raise refuse(f"expected exactly one Assertion, found {len(anywhere)}")


def validate_response(
    encoded: str,
    policy: ResponsePolicy,
    *,
    now: datetime,
    replay_cache: ReplayCache,
    pending: SentRequests | None = None,
    relay_state: str | None = None,
) -> AssertionFacts:
    """Verify a base64 ``SAMLResponse`` and return what its signed assertion says.

    Args:
        encoded: the ``SAMLResponse`` form value as POSTed.
        policy: our entity id, ACS URL and the pinned IdP certificate(s).
        now: the current time (UTC-aware).
        replay_cache: where assertion IDs are remembered until they expire.
        pending: our outstanding AuthnRequests; the matching one is consumed. None: this SP
            sent none, so a response answering a request is refused unless the policy says
            ``requests_sent_elsewhere``.
        relay_state: the ``RelayState`` POSTed beside the response, if any (a response to
            one of our requests must carry that request's RelayState).

    Raises:
        AuthenticationError: the first check that failed, on one line.
    """
    root = parse_document(decode_post_binding(encoded))
    if root.tag != q(PROTOCOL, "Response"):
        raise refuse("the document is not a samlp:Response")
    _check_status(root)  # only ever refuses; re-read from the signed copy below when signed
    _count_assertions(root)
    envelope_signed = _signed_envelope(root, policy)
    signed_assertion = _signed_assertion(root, envelope_signed, policy)
    # Response-level attributes come from the signed copy when the Response is signed; when
    # it is not, every value that decides trust is re-checked inside the signed Assertion.
    envelope = envelope_signed if envelope_signed is not None else root
    _check_envelope(envelope, policy)
    _check_status(envelope)
    skew = timedelta(seconds=policy.clock_skew)
    facts = read_assertion(
        signed_assertion,
        idp_entity_id=policy.idp_entity_id,
        sp_entity_id=policy.sp_entity_id,
        acs_url=policy.acs_url,
        now=now,
        skew=skew,
        single_confirmation=policy.single_subject_confirmation,
    )
    _check_in_response_to(envelope.get("InResponseTo"), facts, policy, now, pending, relay_state)
    if not replay_cache.add_once(
        REPLAY_NAMESPACE, f"{facts.issuer}\n{facts.id}", facts.not_on_or_after + skew
    ):
        raise refuse("this assertion was already used (replay)")
    return facts


def _check_in_response_to(
    envelope_value: str | None,
    facts: AssertionFacts,
    policy: ResponsePolicy,
    now: datetime,
    pending: SentRequests | None,
    relay_state: str | None,
) -> None:
    if envelope_value != facts.in_response_to:
        raise refuse("InResponseTo differs between the Response and the Assertion")
    if facts.in_response_to is None:
        if not policy.allow_idp_initiated:
            raise refuse("IdP-initiated (unsolicited) responses are not enabled for this provider")
        return
    if policy.requests_sent_elsewhere:
        return
    request = pending.consume(facts.in_response_to, now) if pending is not None else None
    if request is None:
        raise refuse("InResponseTo does not match a pending request of ours")
    # SAML Bindings §3.5.3: the IdP MUST return the RelayState sent with our request, so an
    # absent one is refused like a different one (else dropping it would skip the check).
    if relay_state is None or not hmac.compare_digest(
        relay_state.encode(), request.relay_state.encode()
    ):
        raise refuse("RelayState does not match our request")
