"""A session token has exactly one spelling: canonical base64url parts and a low-S signature."""

from __future__ import annotations

import base64

import pytest
from jose import jwt
from jose.exceptions import JOSEError

from broker.errors import StsError
from broker.sts.session_token import ALGORITHM, sign_session, verify_session
from broker.sts.signing_keys import KeyRing
from broker.sts.token_form import P256_ORDER, canonical_token, low_s_token
from tests.state_support import embedded_state
from tests.token_mutations import high_s_twin, unused_bits_twin
from tests.unit.sts.test_session_token import NOW, claims


@pytest.fixture
def ring(tmp_path) -> KeyRing:
    return embedded_state(tmp_path).ring


def s_of(token: str) -> int:
    signature = token.rsplit(".", 1)[1]
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    return int.from_bytes(raw[32:], "big")


def jose_accepts(ring: KeyRing, token: str) -> bool:
    """The plain library check, with no spelling rule: shows a twin is a real re-spelling."""
    try:
        jwt.decode(
            token, ring.active.public_pem, algorithms=[ALGORITHM], options={"verify_aud": False}
        )
    except JOSEError:
        return False
    return True


def test_every_signed_token_is_low_s_and_verifies(ring) -> None:
    # ECDSA's s is uniform: 40 signatures all in the lower half happen by chance 1 in 2**40.
    for _ in range(40):
        session = claims()
        token, secret = sign_session(ring, session)
        assert s_of(token) <= P256_ORDER // 2
        assert canonical_token(token)
        assert verify_session(ring, token, session.access_key_id, now=NOW) == (session, secret)


@pytest.mark.parametrize("respell", [high_s_twin, unused_bits_twin])
def test_a_respelled_token_is_refused_though_its_signature_verifies(ring, respell) -> None:
    session = claims()
    token, _secret = sign_session(ring, session)
    twin = respell(token)
    assert twin != token and jose_accepts(ring, twin)
    with pytest.raises(StsError) as refused:
        verify_session(ring, twin, session.access_key_id, now=NOW)
    assert refused.value.code == "InvalidClientTokenId"


@pytest.mark.parametrize(
    "respell",
    [
        lambda t: t + "=",  # padding
        lambda t: t.replace(".", "=.", 1),  # padding inside
        lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t + "+",
        lambda t: t + ".",  # a fourth part
        lambda t: t[:-1] + " ",  # outside the alphabet
    ],
    ids=["padding", "inner-padding", "standard-alphabet", "four-parts", "space"],
)
def test_other_spellings_are_not_canonical(ring, respell) -> None:
    token, _secret = sign_session(ring, claims())
    assert not canonical_token(respell(token))


def test_low_s_keeps_the_signature_valid_and_is_idempotent(ring) -> None:
    session = claims()
    token, _secret = sign_session(ring, session)
    high = high_s_twin(token)
    assert s_of(high) > P256_ORDER // 2 and jose_accepts(ring, high)
    assert low_s_token(high) == token
    assert low_s_token(token) == token
