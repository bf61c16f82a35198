"""SAMLProvider end to end with a person who answers through a forged-but-validly-signed IdP.

The IdP side here is the test's own signer (tests/saml_forge.py); the real pysaml2 IdP is in
tests/integration/test_saml_idp.py.
"""

from __future__ import annotations

import base64
import socket
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import etree

from broker.errors import (
    AuthenticationError,
    ConfigError,
    ProviderUnavailableError,
    ReauthenticationRequired,
    UsageError,
)
from providers.base import SignInOptions
from providers.saml.provider import SAMLProvider
from providers.testing import SilentUI
from tests.saml_forge import KeyPair, Spec, build_response, encode, saml_provider

IDP = "https://idp.example.com/metadata"
SP = "urn:example:broker"


@pytest.fixture
def idp_port() -> Iterator[int]:
    """Something listening where the IdP's SSO endpoint is, so the reachability check passes."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def make_provider(tmp_path: Path, keys: KeyPair, port: int, **extra: object) -> SAMLProvider:
    (tmp_path / "idp.pem").write_bytes(keys.cert_pem)
    sso_url = f"http://127.0.0.1:{port}/sso"
    return saml_provider(tmp_path, idp=IDP, sp=SP, cert="idp.pem", sso_url=sso_url, **extra)


class ForgedIdPPerson(SilentUI):
    """Plays the browser: reads the AuthnRequest, gets a signed response, POSTs it to the ACS."""

    def __init__(self, keys: KeyPair, **spec_changes: object) -> None:
        super().__init__()
        self.keys = keys
        self.spec_changes = spec_changes
        self.pages: list[httpx.Response] = []
        self.posted: tuple[str, dict[str, str]] | None = None

    def open_url(self, url: str) -> bool:
        self.opened.append(url)
        query = parse_qs(urlsplit(url).query)
        request = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15))
        acs = request.get("AssertionConsumerServiceURL")
        spec = Spec(idp=IDP, sp=SP, acs=acs, in_response_to=request.get("ID"))
        spec = spec.but(**self.spec_changes)
        form = {
            "SAMLResponse": encode(build_response(spec, self.keys)),
            "RelayState": query["RelayState"][0],
        }
        self.posted = (acs, form)
        self.pages.append(httpx.post(acs, data=form, timeout=10))
        return True


def test_sign_in_returns_claims_from_the_signed_assertion(tmp_path, keys, idp_port) -> None:
    provider = make_provider(tmp_path, keys, idp_port)
    ends = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    person = ForgedIdPPerson(
        keys,
        session_not_on_or_after=ends,
        authn_context="urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    )
    result = provider.sign_in(SignInOptions(ui=person, timeout=20))
    claims = result.claims
    assert claims.provider == "corp" and claims.issuer == IDP
    assert claims.subject == claims.email == "alice@example.com"
    assert claims.groups == ("engineering", "admins")
    assert claims.mfa and claims.acr.endswith("TimeSyncToken")
    assert claims.session_not_on_or_after == ends == result.expires_at
    assert claims.attributes["NameID"] == ("alice@example.com",)
    assert "https://aws.amazon.com/SAML/Attributes/Role" in claims.attributes
    assert result.saml_response == person.posted[1]["SAMLResponse"]
    assert result.saml_response not in repr(result)
    assert person.pages[0].status_code == 200 and "close this tab" in person.pages[0].text


def test_without_session_end_the_configured_length_applies(tmp_path, keys, idp_port) -> None:
    provider = make_provider(tmp_path, keys, idp_port, session_seconds=7200)
    result = provider.sign_in(SignInOptions(ui=ForgedIdPPerson(keys), timeout=20))
    assert result.claims.session_not_on_or_after is None
    left = (result.expires_at - datetime.now(UTC)).total_seconds()
    assert 7100 < left <= 7200
    assert not result.claims.mfa


def test_refused_response_fails_sign_in_and_says_so_in_the_browser(
    tmp_path, keys, idp_port
) -> None:
    provider = make_provider(tmp_path, keys, idp_port)
    person = ForgedIdPPerson(keys, audiences=("urn:example:someone-else",))
    with pytest.raises(AuthenticationError, match="Audience"):
        provider.sign_in(SignInOptions(ui=person, timeout=20))
    assert person.pages[0].status_code == 400 and "Sign-in failed" in person.pages[0].text


def test_acs_accepts_one_response_then_closes(tmp_path, keys, idp_port) -> None:
    provider = make_provider(tmp_path, keys, idp_port)
    person = ForgedIdPPerson(keys)
    provider.sign_in(SignInOptions(ui=person, timeout=20))
    acs, form = person.posted
    assert urlsplit(acs).hostname == "127.0.0.1"
    with pytest.raises(httpx.ConnectError):
        httpx.post(acs, data=form, timeout=5)


def test_second_post_during_sign_in_is_not_accepted(tmp_path, keys, idp_port) -> None:
    class TwoPosts(ForgedIdPPerson):
        def open_url(self, url: str) -> bool:
            super().open_url(url)
            acs, form = self.posted
            self.pages.append(httpx.post(acs, data=form, timeout=10))
            return True

    provider = make_provider(tmp_path, keys, idp_port)
    person = TwoPosts(keys)
    provider.sign_in(SignInOptions(ui=person, timeout=20))
    assert [p.status_code for p in person.pages] == [200, 404]


def test_the_acs_ignores_gets_and_junk(tmp_path, keys, idp_port) -> None:
    class Prober(ForgedIdPPerson):
        def open_url(self, url: str) -> bool:
            acs = parse_qs(urlsplit(url).query)
            request = etree.fromstring(
                zlib.decompress(base64.b64decode(acs["SAMLRequest"][0]), -15)
            )
            target = request.get("AssertionConsumerServiceURL")
            self.pages.append(httpx.get(target, timeout=5))
            self.pages.append(httpx.post(target, content=b"x" * 10, timeout=5))
            return super().open_url(url)

    provider = make_provider(tmp_path, keys, idp_port)
    person = Prober(keys)
    assert provider.sign_in(SignInOptions(ui=person, timeout=20)).claims.subject
    assert [p.status_code for p in person.pages] == [405, 400, 200]


def test_no_response_in_time_is_an_authentication_error(tmp_path, keys, idp_port) -> None:
    provider = make_provider(tmp_path, keys, idp_port)
    ui = SilentUI()
    with pytest.raises(AuthenticationError, match="no SAML response arrived"):
        provider.sign_in(SignInOptions(ui=ui, timeout=0.3))
    assert len(ui.opened) == 1


def test_headless_and_device_sign_in_and_refresh_are_refused(tmp_path, keys, idp_port) -> None:
    provider = make_provider(tmp_path, keys, idp_port)
    ui = SilentUI()
    with pytest.raises(ReauthenticationRequired):
        provider.sign_in(SignInOptions(ui=ui, interactive=False))
    with pytest.raises(UsageError):
        provider.sign_in(SignInOptions(ui=ui, device=True))
    with pytest.raises(ReauthenticationRequired):
        provider.refresh("anything")
    assert ui.opened == []
    caps = provider.capabilities()
    assert caps.browser and not caps.device and not caps.refresh and not caps.idp_initiated


def test_unreachable_idp_is_transient(tmp_path, keys) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    provider = make_provider(tmp_path, keys, dead)
    with pytest.raises(ProviderUnavailableError, match="unreachable"):
        provider.sign_in(SignInOptions(ui=SilentUI(), timeout=5))


def test_idp_initiated_needs_a_fixed_port_and_then_works(tmp_path, keys, idp_port) -> None:
    with pytest.raises(ConfigError, match="acs_port"):
        make_provider(tmp_path, keys, idp_port, allow_idp_initiated=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = make_provider(tmp_path, keys, idp_port, allow_idp_initiated=True, acs_port=port)
    assert provider.capabilities().idp_initiated
    acs = f"http://127.0.0.1:{port}/saml/acs"
    form = {
        "SAMLResponse": encode(
            build_response(Spec(idp=IDP, sp=SP, acs=acs, in_response_to=None), keys)
        )
    }

    class Unsolicited(SilentUI):
        def open_url(self, url: str) -> bool:
            assert httpx.post(acs, data=form, timeout=10).status_code == 200
            return True

    result = provider.sign_in(SignInOptions(ui=Unsolicited(), timeout=20))
    assert result.claims.subject == "alice@example.com"
