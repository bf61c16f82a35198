"""OIDC Core §3.1.3.7 ID token validation: each rule, and the attack it stops."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from broker.errors import AuthenticationError
from broker.tokens.oidc.http import make_client
from broker.tokens.oidc.id_token import IdTokenRules, validate_id_token
from broker.tokens.oidc.jwks import JWKSCache
from tests.unit.oidc.fake_idp import (
    CLIENT_ID,
    ISSUER,
    FakeIdP,
    b64,
    hs256_with_public_key,
    unsigned,
)

RULES = IdTokenRules(issuer=ISSUER, client_id=CLIENT_ID, algorithms=("RS256", "PS256", "ES256"))


def check(idp: FakeIdP, token: str, nonce: str | None = "n-1", rules: IdTokenRules = RULES):
    cache = JWKSCache(make_client(5, httpx.MockTransport(idp)), f"{ISSUER}/jwks")
    return validate_id_token(token, cache.key_for, rules, nonce=nonce)


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_each_allowed_algorithm_verifies(alg: str) -> None:
    idp = FakeIdP(alg=alg)
    claims = check(idp, idp.id_token("alice", "n-1"))
    assert claims["sub"] == "sub-alice"
    assert claims["iss"] == ISSUER


def refused(idp: FakeIdP, token: str, code: str, **kw) -> None:
    with pytest.raises(AuthenticationError) as caught:
        check(idp, token, **kw)
    assert caught.value.code == code
    assert token not in str(caught.value)


def test_wrong_issuer(idp: FakeIdP) -> None:
    idp.claim_overrides["iss"] = "https://idp.example.com/"  # a trailing slash is another issuer
    refused(idp, idp.id_token("alice", "n-1"), "invalid_issuer")


def test_wrong_audience(idp: FakeIdP) -> None:
    idp.claim_overrides["aud"] = "another-client"
    refused(idp, idp.id_token("alice", "n-1"), "invalid_audience")


TRUSTING = IdTokenRules(
    issuer=ISSUER,
    client_id=CLIENT_ID,
    algorithms=("RS256",),
    trusted_audiences=("https://api.example.com",),
)


def test_an_extra_untrusted_audience_is_refused_even_beside_ours(idp: FakeIdP) -> None:
    # OIDC Core 3.1.3.7 (3): a token also minted for another party could be replayed to us by
    # that party (or ours to it); our presence in the list is not enough.
    idp.claim_overrides.update(aud=[CLIENT_ID, "https://evil.example.net"], azp=CLIENT_ID)
    refused(idp, idp.id_token("alice", "n-1"), "invalid_audience")
    refused(idp, idp.id_token("alice", "n-1"), "invalid_audience", rules=TRUSTING)


def test_a_trusted_extra_audience_is_accepted_with_our_azp(idp: FakeIdP) -> None:
    idp.claim_overrides.update(aud=[CLIENT_ID, "https://api.example.com"], azp=CLIENT_ID)
    claims = check(idp, idp.id_token("alice", "n-1"), rules=TRUSTING)
    assert claims["aud"] == [CLIENT_ID, "https://api.example.com"]


def test_several_audiences_need_azp_equal_to_our_client_id(idp: FakeIdP) -> None:
    idp.claim_overrides["aud"] = [CLIENT_ID, "https://api.example.com"]
    refused(idp, idp.id_token("alice", "n-1"), "invalid_audience", rules=TRUSTING)
    idp.claim_overrides["azp"] = "https://api.example.com"
    refused(idp, idp.id_token("alice", "n-1"), "invalid_audience", rules=TRUSTING)
    idp.claim_overrides["azp"] = CLIENT_ID
    assert check(idp, idp.id_token("alice", "n-1"), rules=TRUSTING)["azp"] == CLIENT_ID


def test_a_trusted_audience_alone_is_not_ours(idp: FakeIdP) -> None:
    idp.claim_overrides.update(aud=["https://api.example.com"], azp=CLIENT_ID)
    refused(idp, idp.id_token("alice", "n-1"), "invalid_audience", rules=TRUSTING)


def test_sts_audience_rule_needs_only_a_listed_client_id(idp: FakeIdP) -> None:
    sts = IdTokenRules(ISSUER, CLIENT_ID, ("RS256",), sts_audience=True)
    idp.claim_overrides["aud"] = [CLIENT_ID, "https://api.example.com"]
    assert check(idp, idp.id_token("alice", "n-1"), rules=sts)["sub"] == "sub-alice"
    idp.claim_overrides["aud"] = ["https://api.example.com"]
    refused(idp, idp.id_token("alice", "n-1"), "invalid_audience", rules=sts)


def test_expired_beyond_leeway(idp: FakeIdP) -> None:
    now = int(time.time())
    idp.claim_overrides.update(iat=now - 7200, exp=now - 61)
    refused(idp, idp.id_token("alice", "n-1"), "expired")
    idp.claim_overrides.update(exp=now - 30)  # within the 60 s leeway
    assert check(idp, idp.id_token("alice", "n-1"))


def test_issued_in_the_future(idp: FakeIdP) -> None:
    idp.claim_overrides.update(iat=int(time.time()) + 600)
    refused(idp, idp.id_token("alice", "n-1"), "invalid_iat")


def test_not_valid_yet(idp: FakeIdP) -> None:
    idp.claim_overrides.update(nbf=int(time.time()) + 600)
    refused(idp, idp.id_token("alice", "n-1"), "invalid_nbf")


def test_weak_rsa_keys_in_the_jwks_are_ignored(idp: FakeIdP) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc warns about the weak key we make on purpose
        idp.keys[0] = RSAKey.generate_key(1024, auto_kid=True)
        token = idp.id_token("alice", "n-1")
    refused(idp, token, "unknown_key")


def test_wrong_nonce(idp: FakeIdP) -> None:
    refused(idp, idp.id_token("alice", "n-other"), "invalid_nonce")
    refused(idp, idp.id_token("alice", None), "invalid_nonce")


def test_alg_none_is_refused(idp: FakeIdP) -> None:
    idp.token_signer = unsigned
    refused(idp, idp.id_token("alice", "n-1"), "invalid_algorithm")


def test_hs256_signed_with_the_public_key_is_refused(idp: FakeIdP) -> None:
    idp.token_signer = hs256_with_public_key(idp)
    token = idp.id_token("alice", "n-1")
    refused(idp, token, "invalid_algorithm")
    # Even a client that (wrongly) listed HS256 never uses an RSA key as an HMAC secret.
    with pytest.raises(AuthenticationError):
        check(idp, token, rules=IdTokenRules(ISSUER, CLIENT_ID, ("RS256", "HS256")))


def test_signature_by_another_key(idp: FakeIdP) -> None:
    rogue = RSAKey.generate_key(2048)
    header = {"alg": "RS256", "kid": idp.keys[0].kid}
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "x", "exp": time.time() + 60}
    claims |= {"iat": time.time(), "nonce": "n-1"}
    refused(idp, jwt.encode(header, claims, rogue), "invalid_signature")


@pytest.mark.parametrize("where", ["jwk", "jku", "x5u"])
def test_keys_named_in_the_token_header_are_never_trusted(idp: FakeIdP, where: str) -> None:
    """Keys come only from the issuer's JWKS: a token carrying its own key (``jwk``) or a URL
    to fetch one from (``jku``, ``x5u``) and signed by that rogue key is refused, unfetched."""
    rogue = RSAKey.generate_key(2048, auto_kid=True)
    pointer = {
        "jwk": rogue.as_dict(private=False),
        "jku": "https://attacker.example/jwks",
        "x5u": "https://attacker.example/cert.pem",
    }[where]
    header = {"alg": "RS256", "kid": rogue.kid, where: pointer}
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "x", "exp": time.time() + 60}
    claims |= {"iat": time.time(), "nonce": "n-1"}
    requests_before = len(idp.requests)
    refused(idp, jwt.encode(header, claims, rogue), "unknown_key")
    assert all(r.url.host == "idp.example.com" for r in idp.requests[requests_before:])


def test_algorithm_must_fit_the_key_type(idp: FakeIdP) -> None:
    """ES256 in the header with the kid of an RSA key: no key fits, nothing is tried."""
    ec = ECKey.generate_key("P-256")
    header = {"alg": "ES256", "kid": idp.keys[0].kid}
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "x", "exp": time.time() + 60}
    claims |= {"iat": time.time(), "nonce": "n-1"}
    refused(idp, jwt.encode(header, claims, ec), "unknown_key")


def rs256_by_hand(idp: FakeIdP):
    """Sign with the IdP's real key, whatever the header says (joserfc would refuse to)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def sign(header, claims):
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        private = idp.keys[0].private_key
        signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"

    return sign


def test_hand_signer_is_accepted_without_crit(idp: FakeIdP) -> None:
    idp.token_signer = rs256_by_hand(idp)
    assert check(idp, idp.id_token("alice", "n-1"))["sub"] == "sub-alice"


def test_unknown_crit_is_refused(idp: FakeIdP) -> None:
    idp.token_signer = rs256_by_hand(idp)
    idp.header_overrides = {"crit": ["exp-policy"], "exp-policy": 1}
    with pytest.raises(AuthenticationError, match="critical"):
        check(idp, idp.id_token("alice", "n-1"))


def test_size_cap(idp: FakeIdP) -> None:
    idp.claim_overrides["padding"] = "x" * 20_000
    with pytest.raises(AuthenticationError, match="size cap"):
        check(idp, idp.id_token("alice", "n-1"))


def test_encrypted_token_is_refused(idp: FakeIdP) -> None:
    with pytest.raises(AuthenticationError, match="compact signed"):
        check(idp, "a.b.c.d.e")


def test_unknown_kid_refetches_once_for_rotation(idp: FakeIdP) -> None:
    now = [1000.0]
    cache = JWKSCache(
        make_client(5, httpx.MockTransport(idp)), f"{ISSUER}/jwks", clock=lambda: now[0]
    )
    validate_id_token(idp.id_token("alice", "n"), cache.key_for, RULES, nonce="n")
    assert idp.jwks_fetches == 1
    validate_id_token(idp.id_token("alice", "n"), cache.key_for, RULES, nonce="n")
    assert idp.jwks_fetches == 1  # cached
    idp.rotate()
    validate_id_token(idp.id_token("alice", "n"), cache.key_for, RULES, nonce="n")
    assert idp.jwks_fetches == 2
    idp.header_overrides = {"kid": "made-up"}
    now[0] += JWKSCache.refetch_cooldown
    with pytest.raises(AuthenticationError):
        validate_id_token(idp.id_token("alice", "n"), cache.key_for, RULES, nonce="n")
    assert idp.jwks_fetches == 3  # exactly one more fetch, no loop


def test_made_up_kids_cannot_make_the_broker_fetch_the_jwks_per_request(idp: FakeIdP) -> None:
    """An unauthenticated caller (AssumeRoleWithWebIdentity) sending tokens with made-up kids:
    one re-fetch, then none until the cooldown has passed, and a known key still verifies."""
    now = [1000.0]
    cache = JWKSCache(
        make_client(5, httpx.MockTransport(idp)), f"{ISSUER}/jwks", clock=lambda: now[0]
    )
    validate_id_token(idp.id_token("alice", "n"), cache.key_for, RULES, nonce="n")
    idp.header_overrides = {"kid": "made-up"}
    for _ in range(50):
        with pytest.raises(AuthenticationError):
            validate_id_token(idp.id_token("alice", "n"), cache.key_for, RULES, nonce="n")
        now[0] += 0.5
    assert idp.jwks_fetches == 2
    now[0] += JWKSCache.refetch_cooldown
    with pytest.raises(AuthenticationError):
        validate_id_token(idp.id_token("alice", "n"), cache.key_for, RULES, nonce="n")
    assert idp.jwks_fetches == 3
    idp.header_overrides = {}
    validate_id_token(idp.id_token("alice", "n"), cache.key_for, RULES, nonce="n")
    assert idp.jwks_fetches == 3


def test_missing_subject(idp: FakeIdP) -> None:
    idp.claim_overrides["sub"] = ""
    with pytest.raises(AuthenticationError, match="subject"):
        check(idp, idp.id_token("alice", "n-1"))
