"""OIDCProvider against the certified ``oidc-provider`` on loopback: the flows and the attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from broker.errors import AuthenticationError, ProviderError, ReauthenticationRequired
from broker.tokens.oidc.http import make_client
from broker.tokens.oidc.id_token import IdTokenRules, validate_id_token
from broker.tokens.oidc.jwks import JWKSCache
from providers.base import SignInOptions
from providers.oidc.provider import OIDCProvider
from providers.testing import ProviderConformance
from tests.integration.oidc.conftest import Peer, Person
from tests.unit.oidc.fakes import make_context

pytestmark = pytest.mark.integration


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def header_of(token: str) -> dict:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def payload_of(token: str) -> dict:
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


class TestOIDCProviderAgainstOidcProvider(ProviderConformance):
    @pytest.fixture
    def provider(self, make_peer_provider):
        return make_peer_provider()

    @pytest.fixture
    def expected_subject(self) -> str:
        return "alice"

    @pytest.fixture
    def unreachable_provider(self, tmp_path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        table = {"type": "oidc", "issuer": f"http://127.0.0.1:{port}", "client_id": "x"}
        return OIDCProvider.from_config("corp", table, make_context(tmp_path / "unreachable"))


@pytest.mark.parametrize(
    ("client_id", "alg"),
    [("broker-rs256", "RS256"), ("broker-es256", "ES256"), ("broker-ps256", "PS256")],
)
def test_code_and_pkce_login(make_peer_provider, oidc_peer, client_id: str, alg: str) -> None:
    person = Person("bob")
    scopes = ["openid", "email", "profile", "groups", "offline_access"]
    provider = make_peer_provider(client_id, scopes=scopes)
    result = provider.sign_in(SignInOptions(ui=person, timeout=30))
    assert header_of(result.id_token)["alg"] == alg
    claims = result.claims
    assert (claims.issuer, claims.subject, claims.email) == (
        oidc_peer.issuer,
        "bob",
        "bob@example.com",
    )
    assert claims.groups == ("engineering", "payments-developers")  # from userinfo, same sub
    assert result.refresh_token
    query = parse_qs(urlsplit(person.opened[0]).query)
    assert query["code_challenge_method"] == ["S256"] and "nonce" in query
    assert "You can close this tab" in person.browser.pages[-1]


def test_device_flow_approved_in_the_browser(make_peer_provider) -> None:
    person = Person("alice")
    result = make_peer_provider().sign_in(SignInOptions(ui=person, device=True, timeout=60))
    assert result.claims.subject == "alice"
    assert person.opened == []


def test_no_browser_falls_back_to_device_flow(make_peer_provider) -> None:
    person = Person("alice", device_only=True)
    result = make_peer_provider().sign_in(SignInOptions(ui=person, timeout=60))
    assert result.claims.subject == "alice" and len(person.opened) == 1


def test_refresh_rotation(make_peer_provider, person) -> None:
    provider = make_peer_provider()
    first = provider.sign_in(SignInOptions(ui=person, timeout=30))
    second = provider.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.claims.subject == "alice"
    with pytest.raises(ReauthenticationRequired):
        provider.refresh(first.refresh_token)  # the rotated-out token is refused


def test_jwks_rotation_is_followed(make_peer_provider, oidc_peer: Peer, person) -> None:
    provider = make_peer_provider()
    before = provider.sign_in(SignInOptions(ui=person, timeout=30))
    kids = oidc_peer.rotate_keys()
    after = provider.sign_in(SignInOptions(ui=Person("alice"), timeout=30))
    assert header_of(after.id_token)["kid"] != header_of(before.id_token)["kid"]
    assert header_of(after.id_token)["kid"] in kids
    assert provider._key_lookup().fetches == 2  # one re-fetch for the unknown kid


# -- attacks -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_token(oidc_peer: Peer, tmp_path_factory) -> tuple[str, str]:
    """A genuine RS256 ID token from the peer and the nonce it was issued for."""
    table = {"type": "oidc", "issuer": oidc_peer.issuer, "client_id": "broker-rs256"}
    provider = OIDCProvider.from_config("corp", table, make_context(tmp_path_factory.mktemp("t")))
    token = provider.sign_in(SignInOptions(ui=Person("alice"), timeout=30)).id_token
    provider.close()
    return token, payload_of(token)["nonce"]


def validate(oidc_peer: Peer, token: str, nonce: str, client_id: str = "broker-rs256", **kw):
    rules = IdTokenRules(oidc_peer.issuer, client_id, ("RS256", "PS256", "ES256"))
    with make_client(10) as client:
        cache = JWKSCache(client, f"{oidc_peer.issuer}/jwks")
        return validate_id_token(token, cache.key_for, rules, nonce=nonce, **kw)


def test_real_token_validates(oidc_peer, real_token) -> None:
    assert validate(oidc_peer, *real_token)["sub"] == "alice"


def test_wrong_issuer_is_refused(make_peer_provider, oidc_peer: Peer, person) -> None:
    # The same IdP named differently: discovery's issuer no longer matches exactly.
    provider = make_peer_provider(issuer=oidc_peer.issuer.replace("127.0.0.1", "localhost"))
    with pytest.raises(ProviderError, match="different issuer"):
        provider.sign_in(SignInOptions(ui=person, timeout=30))


def test_token_from_another_issuer_is_refused(oidc_peer, real_token) -> None:
    rules = IdTokenRules(oidc_peer.issuer + "/", "broker-rs256", ("RS256",))
    with make_client(10) as client, pytest.raises(AuthenticationError) as caught:
        cache = JWKSCache(client, f"{oidc_peer.issuer}/jwks")
        validate_id_token(real_token[0], cache.key_for, rules, nonce=real_token[1])
    assert caught.value.code == "invalid_issuer"


def test_wrong_audience_is_refused(oidc_peer, real_token) -> None:
    with pytest.raises(AuthenticationError) as caught:
        validate(oidc_peer, *real_token, client_id="broker-es256")
    assert caught.value.code == "invalid_audience"


def test_expired_is_refused(oidc_peer, real_token) -> None:
    exp = payload_of(real_token[0])["exp"]
    with pytest.raises(AuthenticationError) as caught:
        validate(oidc_peer, *real_token, now=lambda: exp + 120)
    assert caught.value.code == "expired"


def test_wrong_nonce_is_refused(oidc_peer, real_token) -> None:
    with pytest.raises(AuthenticationError) as caught:
        validate(oidc_peer, real_token[0], "another-nonce")
    assert caught.value.code == "invalid_nonce"


def test_alg_none_is_refused(oidc_peer, real_token) -> None:
    token = real_token[0]
    header = {**header_of(token), "alg": "none"}
    forged = f"{b64(json.dumps(header).encode())}.{token.split('.')[1]}."
    with pytest.raises(AuthenticationError) as caught:
        validate(oidc_peer, forged, real_token[1])
    assert caught.value.code == "invalid_algorithm"


def test_hs256_with_the_public_key_is_refused(oidc_peer, real_token) -> None:
    from joserfc.jwk import RSAKey

    token = real_token[0]
    jwks = httpx.get(f"{oidc_peer.issuer}/jwks", trust_env=False).json()["keys"]
    published = next(k for k in jwks if k["kid"] == header_of(token)["kid"])
    public_pem = RSAKey.import_key(published).as_pem(private=False)
    header = {**header_of(token), "alg": "HS256"}
    claims = {**payload_of(token), "sub": "mallory"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(AuthenticationError) as caught:
        validate(oidc_peer, f"{signing_input}.{b64(mac)}", real_token[1])
    assert caught.value.code == "invalid_algorithm"


def test_state_mismatch_is_refused(make_peer_provider) -> None:
    person = Person("alice", tamper=lambda url: url.replace("state=", "state=x"))
    with pytest.raises(AuthenticationError) as caught:
        make_peer_provider().sign_in(SignInOptions(ui=person, timeout=30))
    assert caught.value.code == "state_mismatch"


def test_callback_stripped_of_iss_is_refused(make_peer_provider) -> None:
    """The peer advertises RFC 9207 ``iss`` in responses: one without it is a mix-up sign."""

    def strip_iss(url: str) -> str:
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items() if k != "iss"}
        return url.split("?")[0] + "?" + urlencode(query)

    person = Person("alice", tamper=strip_iss)
    with pytest.raises(AuthenticationError) as caught:
        make_peer_provider().sign_in(SignInOptions(ui=person, timeout=30))
    assert caught.value.code == "invalid_issuer"


def test_replayed_code_is_refused(make_peer_provider, person) -> None:
    provider = make_peer_provider()
    provider.sign_in(SignInOptions(ui=person, timeout=30))
    stolen = parse_qs(urlsplit(person.browser.callbacks[0]).query)

    def replay(url: str) -> str:
        # The whole stolen callback (code and the RFC 9207 iss), with the new attempt's state.
        query = parse_qs(urlsplit(url).query)
        forged = {"code": stolen["code"][0], "state": query["state"][0], "iss": stolen["iss"][0]}
        return url.split("?")[0] + "?" + urlencode(forged)

    with pytest.raises(AuthenticationError) as caught:
        provider.sign_in(SignInOptions(ui=Person("alice", tamper=replay), timeout=30))
    assert caught.value.code == "invalid_grant"


def test_second_callback_finds_nothing_listening(make_peer_provider, person) -> None:
    make_peer_provider().sign_in(SignInOptions(ui=person, timeout=30))
    with pytest.raises(httpx.ConnectError):
        httpx.get(person.browser.callbacks[0], trust_env=False, timeout=3)


def test_sign_out_revokes_the_refresh_token(make_peer_provider, person) -> None:
    provider = make_peer_provider()
    result = provider.sign_in(SignInOptions(ui=person, timeout=30))
    provider.sign_out(result)
    with pytest.raises(ReauthenticationRequired):
        provider.refresh(result.refresh_token)
