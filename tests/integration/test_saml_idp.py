"""SAML sign-in against a real IdP (pysaml2 + xmlsec1 on 127.0.0.1), and the attack corpus
generated from the responses it signs."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from broker.errors import AuthenticationError
from broker.tokens.saml.response import ResponsePolicy, validate_response
from broker.tokens.saml.safe_xml import MAX_ENCODED_BYTES
from providers.base import SignInOptions
from providers.saml.redirect_binding import PendingRequests, build_authn_request, redirect_url
from providers.testing import ProviderConformance, SilentUI
from tests.integration.saml_peer import (
    IDP_ENTITY,
    MFA,
    SP_ENTITY,
    Browser,
    RunningIdP,
    start_idp,
)
from tests.saml_attacks import (
    BILLION_LAUGHS,
    DOCTYPE_XXE,
    EVIL,
    WRAPPINGS,
    inject_comment,
    strip_all_signatures,
    with_prolog,
)
from tests.saml_forge import (
    AWS_ROLE,
    KeyPair,
    MemoryReplayCache,
    decode,
    encode,
    make_keypair,
    saml_provider,
)

pytestmark = pytest.mark.integration

ACS = "http://127.0.0.1:5555/saml/acs"


@pytest.fixture(scope="session")
def idp_keys() -> KeyPair:
    return make_keypair("idp.example.test")


@pytest.fixture(scope="session")
def idp(tmp_path_factory: pytest.TempPathFactory, idp_keys: KeyPair) -> Iterator[RunningIdP]:
    with start_idp(tmp_path_factory.mktemp("idp"), idp_keys) as running:
        yield running


@pytest.fixture(scope="session")
def idp_signing_responses(
    tmp_path_factory: pytest.TempPathFactory, idp_keys: KeyPair
) -> Iterator[RunningIdP]:
    with start_idp(tmp_path_factory.mktemp("idp-r"), idp_keys, sign_response=True) as running:
        yield running


@pytest.fixture(scope="session")
def idp_sha1(tmp_path_factory: pytest.TempPathFactory, idp_keys: KeyPair) -> Iterator[RunningIdP]:
    with start_idp(tmp_path_factory.mktemp("idp-sha1"), idp_keys, algorithm="sha1") as running:
        yield running


@pytest.fixture(scope="session")
def impostor_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdP]:
    """Same entity id, same software, its own key: what an attacker running an IdP can do."""
    keys = make_keypair("idp.example.test")
    with start_idp(tmp_path_factory.mktemp("impostor"), keys) as running:
        yield running


def provider_for(idp: RunningIdP, tmp_path: Path, sso_url: str | None = None, **extra: object):
    return saml_provider(
        tmp_path,
        idp=IDP_ENTITY,
        sp=SP_ENTITY,
        cert=str(idp.cert_path),
        sso_url=sso_url or idp.sso_url,
        **extra,
    )


class BrowserPerson(SilentUI):
    """The person: signs in at the IdP and lets the browser POST the response to our ACS."""

    def __init__(self, idp: RunningIdP, username: str = "alice") -> None:
        super().__init__()
        self.browser = Browser(idp, username)
        self.pages: list[httpx.Response] = []

    def open_url(self, url: str) -> bool:
        self.opened.append(url)
        action, form = self.browser.login(url)
        self.pages.append(httpx.post(action, data=form, timeout=20))
        return True


class TestSAMLProviderConformance(ProviderConformance):
    @pytest.fixture
    def provider(self, idp, tmp_path):
        return provider_for(idp, tmp_path)

    @pytest.fixture
    def person(self, idp):
        return BrowserPerson(idp)

    @pytest.fixture
    def unreachable_provider(self, idp, tmp_path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return provider_for(idp, tmp_path, sso_url=f"http://127.0.0.1:{port}/sso/redirect")

    @pytest.fixture
    def expected_subject(self) -> str:
        return "alice@example.com"


def test_claims_from_a_real_idp(idp, tmp_path) -> None:
    provider = provider_for(idp, tmp_path)
    person = BrowserPerson(idp)
    result = provider.sign_in(SignInOptions(ui=person, timeout=60))
    claims = result.claims
    assert claims.subject == claims.email == "alice@example.com"
    assert claims.issuer == IDP_ENTITY
    assert claims.name == "Alice Example"
    assert claims.groups == ("engineering", "admins")
    assert claims.mfa and claims.acr == MFA
    assert claims.attributes[AWS_ROLE][0].startswith("arn:aws:iam::111122223333:role/Dev,")
    for name in ("RoleSessionName", "SessionDuration", "PrincipalTag:team", "SourceIdentity"):
        assert claims.attributes[f"https://aws.amazon.com/SAML/Attributes/{name}"]
    left = claims.session_not_on_or_after - datetime.now(UTC)
    assert timedelta(hours=3, minutes=55) < left <= timedelta(hours=4)
    assert result.expires_at == claims.session_not_on_or_after
    assert decode(result.saml_response).tag.endswith("Response")
    assert "close this tab" in person.pages[0].text


def test_bob_has_no_mfa(idp, tmp_path) -> None:
    result = provider_for(idp, tmp_path).sign_in(
        SignInOptions(ui=BrowserPerson(idp, "bob"), timeout=60)
    )
    assert result.claims.subject == "bob@example.com"
    assert result.claims.groups == ("staff",) and not result.claims.mfa


def test_signed_responses_with_signed_assertions(idp_signing_responses, tmp_path) -> None:
    provider = provider_for(idp_signing_responses, tmp_path, require_signed_response=True)
    result = provider.sign_in(SignInOptions(ui=BrowserPerson(idp_signing_responses), timeout=60))
    assert result.claims.subject == "alice@example.com"


def test_idp_initiated_sign_in_when_enabled(idp, tmp_path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = provider_for(idp, tmp_path, allow_idp_initiated=True, acs_port=port)
    acs = f"http://127.0.0.1:{port}/saml/acs"

    class StartsAtTheIdP(SilentUI):
        def open_url(self, url: str) -> bool:
            action, form = Browser(idp, "bob").unsolicited(acs)
            assert httpx.post(action, data=form, timeout=10).status_code == 200
            return True

    result = provider.sign_in(SignInOptions(ui=StartsAtTheIdP(), timeout=60))
    assert result.claims.subject == "bob@example.com"


# --- the attack corpus, generated from real signed responses ------------------------------


class Fresh:
    """One real response to a request of ours, and everything needed to check it."""

    def __init__(self, idp: RunningIdP, username: str = "alice", unsolicited: bool = False):
        self.pending = PendingRequests()
        self.replay_cache = MemoryReplayCache()
        self.policy = ResponsePolicy(
            idp_entity_id=IDP_ENTITY,
            certificates=(idp.keys.cert,),
            sp_entity_id=SP_ENTITY,
            acs_url=ACS,
            clock_skew=180,
        )
        browser = Browser(idp, username)
        if unsolicited:
            _, form = browser.unsolicited(ACS)
        else:
            request = build_authn_request(
                sp_entity_id=SP_ENTITY,
                sso_url=idp.sso_url,
                acs_url=ACS,
                now=datetime.now(UTC),
                lifetime=300,
            )
            self.pending.add(request)
            _, form = browser.login(redirect_url(idp.sso_url, request))
        self.encoded = form["SAMLResponse"]
        self.relay_state = form.get("RelayState") or None
        self.xml = base64.b64decode(self.encoded)

    def check(self, encoded: str | None = None, *, now: datetime | None = None, **changes):
        return validate_response(
            encoded or self.encoded,
            replace(self.policy, **changes),
            now=now or datetime.now(UTC),
            pending=self.pending,
            replay_cache=self.replay_cache,
            relay_state=self.relay_state,
        )

    def refused(self, reason: str, encoded: str | None = None, **kwargs) -> str:
        with pytest.raises(AuthenticationError) as caught:
            self.check(encoded, **kwargs)
        message = str(caught.value)
        assert "\n" not in message and reason in message, message
        return message


def test_the_genuine_response_is_accepted_first(idp) -> None:
    assert Fresh(idp).check().name_id == "alice@example.com"


@pytest.mark.parametrize("name", sorted(WRAPPINGS))
@pytest.mark.parametrize("signed", ["assertion", "response+assertion"])
def test_signature_wrapping(idp, idp_signing_responses, name, signed) -> None:
    fresh = Fresh(idp if signed == "assertion" else idp_signing_responses)
    wrapped = WRAPPINGS[name](decode(fresh.encoded))
    assert EVIL not in fresh.refused("SAML response refused", encode(wrapped))


@pytest.mark.parametrize("where", ["NameID", "group"])
def test_comment_injection(idp, where) -> None:
    fresh = Fresh(idp, "trudy")
    value = "user@example.com.evil.test" if where == "NameID" else "admins.evil.test"
    cut = value.index(".evil")
    xml = inject_comment(fresh.xml, value, cut)
    facts = fresh.check(encode(xml))
    assert facts.name_id == "user@example.com.evil.test"
    assert facts.attributes["groups"] == ("admins.evil.test",)


def test_unsigned(idp) -> None:
    fresh = Fresh(idp)
    fresh.refused("not signed", encode(strip_all_signatures(decode(fresh.encoded))))


def test_signed_by_a_key_we_do_not_pin(idp) -> None:
    fresh = Fresh(idp)
    fresh.refused("Assertion signature", certificates=(make_keypair().cert,))


def test_expired_and_not_yet_valid(idp) -> None:
    fresh = Fresh(idp)
    fresh.refused("expired", now=datetime.now(UTC) + timedelta(minutes=9))
    fresh.refused("not yet valid", now=datetime.now(UTC) - timedelta(minutes=5))


def test_wrong_audience(idp) -> None:
    Fresh(idp).refused("Audience", sp_entity_id="urn:example:another-sp")


def test_wrong_destination(idp) -> None:
    Fresh(idp).refused("Destination", acs_url="http://127.0.0.1:6666/saml/acs")


def test_wrong_recipient_even_when_the_unsigned_destination_is_rewritten(idp) -> None:
    fresh = Fresh(idp)
    other = "http://127.0.0.1:6666/saml/acs"
    xml = fresh.xml.replace(f'Destination="{ACS}"'.encode(), f'Destination="{other}"'.encode())
    fresh.refused("Recipient", encode(xml), acs_url=other)


def test_replay_of_an_unsolicited_response(idp) -> None:
    fresh = Fresh(idp, unsolicited=True)
    assert fresh.check(allow_idp_initiated=True).name_id == "alice@example.com"
    fresh.refused("replay", allow_idp_initiated=True)


def test_second_use_of_a_solicited_response(idp) -> None:
    fresh = Fresh(idp)
    fresh.check()
    fresh.refused("pending request")


def test_wrong_in_response_to(idp) -> None:
    fresh = Fresh(idp)
    fresh.pending = PendingRequests()  # we never sent the request it answers
    fresh.refused("pending request")


def test_idp_initiated_when_disabled(idp) -> None:
    Fresh(idp, unsolicited=True).refused("IdP-initiated")


@pytest.mark.parametrize(("prolog", "ref"), [(DOCTYPE_XXE, b"&x;"), (BILLION_LAUGHS, b"&d;")])
def test_doctype_xxe_and_entity_expansion(idp, prolog, ref) -> None:
    fresh = Fresh(idp)
    fresh.refused("DOCTYPE", encode(with_prolog(fresh.xml, prolog, ref)))


def test_sha1_signed_response(idp_sha1) -> None:
    fresh = Fresh(idp_sha1)
    assert b"rsa-sha1" in fresh.xml
    fresh.refused("SHA1")


def test_oversized_response(idp) -> None:
    fresh = Fresh(idp)
    body = fresh.xml.rstrip()
    padded = body[:-1] + b" " * MAX_ENCODED_BYTES + b">"  # spaces inside the final end tag
    fresh.refused("larger than", encode(padded))


def test_response_from_an_impostor_idp_is_refused_end_to_end(idp, impostor_idp, tmp_path) -> None:
    """The provider pins the real IdP's certificate; the impostor's KeyInfo carries its own."""
    provider = provider_for(idp, tmp_path, sso_url=impostor_idp.sso_url)
    person = BrowserPerson(impostor_idp)
    with pytest.raises(AuthenticationError, match="Assertion signature"):
        provider.sign_in(SignInOptions(ui=person, timeout=60))
    assert person.pages[0].status_code == 400 and "Sign-in failed" in person.pages[0].text
