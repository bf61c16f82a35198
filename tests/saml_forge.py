"""Building SAML responses for tests: keys and certificates made at test time, and a small
IdP-side builder signing with signxml (the real IdP in tests/integration is pysaml2 + xmlsec1).

Used to produce valid responses and, from them, every variant the attack corpus needs.
"""

from __future__ import annotations

import base64
import copy
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod

from providers.base import ProviderContext
from providers.saml.provider import SAMLProvider

A = "urn:oasis:names:tc:SAML:2.0:assertion"
P = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
NSMAP = {"saml": A, "samlp": P, "ds": DS}
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
AWS_ROLE = "https://aws.amazon.com/SAML/Attributes/Role"


@dataclass(frozen=True)
class KeyPair:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def make_keypair(common_name: str = "idp.example.com", key_size: int = 2048) -> KeyPair:
    """A fresh RSA key (2048 bits unless told) and a self-signed certificate valid for a day."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(key, cert)


def t(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Spec:
    """Everything a response says; tests ``replace`` one field to make a variant."""

    idp: str = "https://idp.example.com/metadata"
    sp: str = "urn:example:broker"
    acs: str = "http://127.0.0.1:8123/saml/acs"
    destination: str | None = None  # defaults to acs
    recipient: str | None = None  # defaults to acs
    audiences: tuple[str, ...] = ()  # defaults to (sp,)
    in_response_to: str | None = "_req1"
    name_id: str = "alice@example.com"
    name_id_format: str = EMAIL
    status: str = SUCCESS
    issued: datetime = field(default_factory=lambda: datetime.now(UTC))
    lifetime: timedelta = timedelta(minutes=5)
    not_before_offset: timedelta = timedelta(seconds=-30)
    session_not_on_or_after: datetime | None = None
    authn_context: str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("groups", ("engineering", "admins")),
        ("email", ("alice@example.com",)),
        (
            AWS_ROLE,
            ("arn:aws:iam::111122223333:role/Dev,arn:aws:iam::111122223333:saml-provider/X",),
        ),
        ("https://aws.amazon.com/SAML/Attributes/RoleSessionName", ("alice",)),
        ("https://aws.amazon.com/SAML/Attributes/PrincipalTag:team", ("platform",)),
    )
    assertion_id: str = field(default_factory=lambda: "_a" + secrets.token_hex(16))
    response_id: str = field(default_factory=lambda: "_r" + secrets.token_hex(16))

    def but(self, **changes: object) -> Spec:
        return replace(self, **changes)  # type: ignore[arg-type]


def _sub(
    parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str
) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}")
    for k, v in attrs.items():
        node.set(k, v)
    if text is not None:
        node.text = text
    return node


def build_assertion(spec: Spec) -> etree._Element:
    now = spec.issued
    a = etree.Element(f"{{{A}}}Assertion", nsmap={"saml": A})
    a.set("ID", spec.assertion_id)
    a.set("Version", "2.0")
    a.set("IssueInstant", t(now))
    _sub(a, A, "Issuer", spec.idp)
    subject = _sub(a, A, "Subject")
    _sub(subject, A, "NameID", spec.name_id, Format=spec.name_id_format)
    sc = _sub(subject, A, "SubjectConfirmation", Method=BEARER)
    data = {"Recipient": spec.recipient or spec.acs, "NotOnOrAfter": t(now + spec.lifetime)}
    if spec.in_response_to:
        data["InResponseTo"] = spec.in_response_to
    _sub(sc, A, "SubjectConfirmationData", **data)
    cond = _sub(
        a,
        A,
        "Conditions",
        NotBefore=t(now + spec.not_before_offset),
        NotOnOrAfter=t(now + spec.lifetime),
    )
    ar = _sub(cond, A, "AudienceRestriction")
    for aud in spec.audiences or (spec.sp,):
        _sub(ar, A, "Audience", aud)
    authn = {"AuthnInstant": t(now), "SessionIndex": "_s1"}
    if spec.session_not_on_or_after:
        authn["SessionNotOnOrAfter"] = t(spec.session_not_on_or_after)
    st = _sub(a, A, "AuthnStatement", **authn)
    ctx = _sub(st, A, "AuthnContext")
    _sub(ctx, A, "AuthnContextClassRef", spec.authn_context)
    attrs = _sub(a, A, "AttributeStatement")
    for name, values in spec.attributes:
        at = _sub(attrs, A, "Attribute", Name=name)
        for v in values:
            _sub(at, A, "AttributeValue", v)
    return a


class _LegacySigner(XMLSigner):
    """A signer that also signs with SHA-1, as an old or hostile IdP would."""

    def check_deprecated_methods(self) -> None:
        return None


def sign(
    element: etree._Element,
    keys: KeyPair,
    *,
    algorithm: str = "rsa-sha256",
    digest: str = "sha256",
) -> etree._Element:
    """Sign ``element`` enveloped, the Signature placed right after its Issuer (as SAML wants)."""
    element = copy.deepcopy(element)
    placeholder = etree.Element(f"{{{DS}}}Signature", nsmap={"ds": DS})
    placeholder.set("Id", "placeholder")
    issuer = element.find(f"{{{A}}}Issuer")
    index = list(element).index(issuer) + 1 if issuer is not None else 0
    element.insert(index, placeholder)
    signer = _LegacySigner(
        signature_algorithm=algorithm,
        digest_algorithm=digest,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    return signer.sign(element, key=keys.key, cert=[keys.cert], reference_uri=element.get("ID"))


def build_response(
    spec: Spec,
    keys: KeyPair | None,
    *,
    sign_response: bool = False,
    assertion: etree._Element | None = None,
    algorithm: str = "rsa-sha256",
    digest: str = "sha256",
) -> etree._Element:
    """A Response around ``assertion`` (built from ``spec`` and signed by ``keys`` if given)."""
    r = etree.Element(f"{{{P}}}Response", nsmap={"samlp": P, "saml": A})
    r.set("ID", spec.response_id)
    r.set("Version", "2.0")
    r.set("IssueInstant", t(spec.issued))
    r.set("Destination", spec.destination or spec.acs)
    if spec.in_response_to:
        r.set("InResponseTo", spec.in_response_to)
    _sub(r, A, "Issuer", spec.idp)
    status = _sub(r, P, "Status")
    _sub(status, P, "StatusCode", Value=spec.status)
    if assertion is None:
        assertion = build_assertion(spec)
        if keys is not None:
            assertion = sign(assertion, keys, algorithm=algorithm, digest=digest)
    r.append(assertion)
    if sign_response and keys is not None:
        r = sign(r, keys, algorithm=algorithm, digest=digest)
    return r


def encode(doc: etree._Element | bytes) -> str:
    data = doc if isinstance(doc, bytes) else etree.tostring(doc)
    return base64.b64encode(data).decode("ascii")


def decode(encoded: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(base64.b64decode(encoded), parser=parser)


class MemoryReplayCache:
    """An in-memory ``ReplayCache`` (the broker's real one is SQLite, shared by processes)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], datetime] = {}

    def add_once(self, namespace: str, value: str, expires_at: datetime) -> bool:
        now = datetime.now(UTC)
        key = (namespace, value)
        if key in self.seen and self.seen[key] > now:
            return False
        self.seen[key] = expires_at
        return True


def saml_provider(
    config_dir: Path, *, idp: str, sp: str | None, cert: str, sso_url: str, **extra: object
) -> SAMLProvider:
    """A ``SAMLProvider`` named ``corp`` built through ``from_config`` like the broker does
    (``sp`` None: no ``sp_entity_id``, as for an ``aws_federation`` provider)."""
    table = {
        "type": "saml",
        "idp_entity_id": idp,
        "sso_url": sso_url,
        "idp_certificate": cert,
        **({"sp_entity_id": sp} if sp is not None else {}),
        **extra,
    }
    context = ProviderContext(
        config_dir=config_dir,
        data_dir=config_dir,
        replay_cache=MemoryReplayCache(),
        secrets=None,  # type: ignore[arg-type]  # SAML keeps no secrets of its own
    )
    return SAMLProvider.from_config("corp", table, context)


def idp_metadata(entity_id: str, cert_der: bytes) -> str:
    """IdP metadata naming ``entity_id`` with one signing certificate (DER bytes)."""
    cert = base64.b64encode(cert_der).decode()
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{cert}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""
