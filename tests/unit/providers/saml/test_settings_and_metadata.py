"""Provider settings are strict; the pinned certificate comes from PEM or IdP metadata."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from broker.config import ConfigIssues
from broker.errors import ConfigError
from providers.saml.metadata import sp_metadata
from providers.saml.settings import load_certificates, load_settings
from tests.saml_forge import make_keypair

IDP = "https://idp.example.com/metadata"
BASE = {
    "type": "saml",
    "idp_entity_id": "https://idp.example.com/metadata",
    "sso_url": "https://idp.example.com/sso",
    "idp_certificate": "idp.pem",
    "sp_entity_id": "urn:example:broker",
}


def test_defaults_are_safe() -> None:
    settings = load_settings("corp", BASE, file="broker.toml")
    assert settings.allow_idp_initiated is False
    assert settings.clock_skew <= 180
    assert settings.groups_attribute == "groups"


def test_every_problem_reported_with_file_and_key() -> None:
    table = {**BASE, "sso_url": "http://idp.example.com/sso", "clock_skew": 600, "colour": "red"}
    table.pop("sp_entity_id")
    with pytest.raises(ConfigIssues) as caught:
        load_settings("corp", table, file="broker.toml")
    keys = {issue.key for issue in caught.value.issues}
    assert keys == {"providers.corp.colour", "providers.corp.sp_entity_id"}
    with pytest.raises(ConfigIssues) as caught:
        load_settings(
            "corp",
            {**BASE, "sso_url": "http://idp.example.com/sso", "clock_skew": 600},
            file="broker.toml",
        )
    keys = {issue.key for issue in caught.value.issues}
    assert keys == {"providers.corp.sso_url", "providers.corp.clock_skew"}
    assert str(caught.value).startswith("broker.toml: providers.corp.")


def test_certificate_from_pem_and_from_idp_metadata(tmp_path, keys) -> None:
    pem = tmp_path / "idp.pem"
    pem.write_bytes(keys.cert_pem)
    assert load_certificates(pem, IDP) == (keys.cert,)
    der = base64.b64encode(keys.cert.public_bytes(Encoding.DER)).decode()
    metadata = f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
        xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/metadata">
      <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data>
          <ds:X509Certificate>bm90IGEgY2VydA==</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
        </md:KeyDescriptor>
        <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
          <ds:X509Certificate>{der[:40]}<!-- folded -->
{der[40:]}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      </md:IDPSSODescriptor></md:EntityDescriptor>"""
    path = tmp_path / "idp-metadata.xml"
    path.write_text(metadata)
    assert load_certificates(path, IDP) == (keys.cert,)


def test_unusable_certificate_files_are_config_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_certificates(tmp_path / "missing.pem", IDP)
    evil = tmp_path / "evil.xml"
    evil.write_text('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    with pytest.raises(ConfigError, match="DOCTYPE"):
        load_certificates(evil, IDP)
    empty = tmp_path / "empty.xml"
    empty.write_text(
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP}"/>'
    )
    with pytest.raises(ConfigError, match="no signing certificate"):
        load_certificates(empty, IDP)


def test_a_weak_rsa_idp_certificate_is_refused(tmp_path) -> None:
    """Trust pinned to a 1024-bit RSA key is trust in a forgeable signature (NIST SP 800-131A;
    the OIDC side ignores such JWKS keys too)."""
    weak = make_keypair(key_size=1024)
    path = tmp_path / "idp.pem"
    path.write_bytes(weak.cert.public_bytes(Encoding.PEM))
    with pytest.raises(ConfigError, match="2048"):
        load_certificates(path, IDP)


def test_sp_metadata_describes_us() -> None:
    xml = sp_metadata("urn:example:broker", "http://127.0.0.1:8123/saml/acs")
    root = etree.fromstring(xml.encode())
    md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
    assert root.tag == f"{md}EntityDescriptor" and root.get("entityID") == "urn:example:broker"
    sp = root.find(f"{md}SPSSODescriptor")
    assert sp.get("WantAssertionsSigned") == "true"
    acs = sp.find(f"{md}AssertionConsumerService")
    assert acs.get("Location") == "http://127.0.0.1:8123/saml/acs"
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def test_metadata_of_another_idp_is_refused(tmp_path, keys) -> None:
    other = tmp_path / "other.xml"
    other.write_text(
        '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
        '<md:EntityDescriptor entityID="https://idp.other.test/"/></md:EntitiesDescriptor>'
    )
    with pytest.raises(ConfigError, match="does not describe"):
        load_certificates(other, IDP)
