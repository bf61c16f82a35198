"""Property: any change to a valid ID token is refused with ``AuthenticationError``, never a
crash and never an acceptance (whatever byte changes, wherever it is)."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.errors import AuthenticationError
from broker.tokens.oidc.http import make_client
from broker.tokens.oidc.id_token import IdTokenRules, validate_id_token
from broker.tokens.oidc.jwks import JWKSCache
from tests.unit.oidc.fake_idp import CLIENT_ID, ISSUER, FakeIdP

IDP = FakeIdP(alg="ES256")
TOKEN = IDP.id_token("alice", "n")
RULES = IdTokenRules(issuer=ISSUER, client_id=CLIENT_ID, algorithms=("RS256", "ES256"))
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\"'"


def check(token: str) -> None:
    with make_client(5, httpx.MockTransport(IDP)) as client:
        cache = JWKSCache(client, f"{ISSUER}/jwks")
        validate_id_token(token, cache.key_for, RULES, nonce="n")


def test_the_unchanged_token_is_accepted() -> None:
    check(TOKEN)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0, max_value=len(TOKEN) - 1),
    replacement=st.sampled_from(ALPHABET),
)
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    changed = TOKEN[:position] + replacement + TOKEN[position + 1 :]
    if changed == TOKEN:
        return
    try:
        check(changed)
    except AuthenticationError:
        return
    # base64url padding bits: a last-character change may decode to the same bytes.
    assert _same_bytes(changed, TOKEN), f"a changed token was accepted at {position}"


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=300))
def test_arbitrary_strings_are_refused(text: str) -> None:
    try:
        check(text)
    except AuthenticationError:
        return
    raise AssertionError("an arbitrary string validated")


def _same_bytes(a: str, b: str) -> bool:
    import base64

    def raw(token: str) -> list[bytes]:
        return [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in token.split(".")]

    try:
        return raw(a) == raw(b)
    except ValueError:
        return False
