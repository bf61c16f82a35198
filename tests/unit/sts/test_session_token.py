"""Session tokens: pinned algorithm and type, bound to their key id, rotation, tampering."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from broker.errors import ConfigError, StsError
from broker.sts.credential_format import (
    ACCESS_KEY_ID_RE,
    SESSION_PREFIX,
    USER_KEY_PREFIX,
    new_access_key_id,
    new_token_id,
)
from broker.sts.session_token import MAX_TOKEN_BYTES, SessionClaims, sign_session, verify_session
from broker.sts.signing_keys import KeyRing
from broker.sts.state import StsState
from tests.state_support import embedded_state

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def key_file(tmp_path) -> StsState:
    """The state holding the key ring (named for the file the ring once lived in)."""
    return embedded_state(tmp_path)


@pytest.fixture
def ring(key_file: StsState) -> KeyRing:
    return key_file.ring


def claims(**overrides) -> SessionClaims:
    base = SessionClaims(
        kind="assumed-role",
        access_key_id=new_access_key_id(SESSION_PREFIX),
        session_id=new_token_id(),
        arn="arn:aws:sts::111122223333:assumed-role/Admin/alice",
        account="111122223333",
        user="alice",
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        role_arn="arn:aws:iam::111122223333:role/Admin",
        session_name="alice",
        source_identity="alice@example.com",
        tags={"team": "blue", "cost-center": "12345"},
        transitive_tag_keys=("team",),
        policy_digest="ab" * 32,
    )
    return replace(base, **overrides)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_access_key_ids_are_ours_never_aws() -> None:
    ids = {new_access_key_id(SESSION_PREFIX) for _ in range(200)}
    ids |= {new_access_key_id(USER_KEY_PREFIX) for _ in range(200)}
    assert len(ids) == 400
    for key_id in ids:
        assert len(key_id) == 20 and ACCESS_KEY_ID_RE.match(key_id)
        assert not key_id.startswith(("AKIA", "ASIA"))
    with pytest.raises(ValueError):
        new_access_key_id("ASIA")


def test_session_ids_are_128_bits_and_never_read_as_a_command_line_option() -> None:
    """``broker sts revoke --session ID`` must take every id: none may start with ``-``."""
    ids = {new_token_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 26 and i[0] != "-" and i.isalnum() and i == i.lower() for i in ids)


def test_round_trip_gives_claims_and_the_same_secret(ring) -> None:
    original = claims()
    token, secret = sign_session(ring, original)
    assert len(token) < MAX_TOKEN_BYTES
    assert len(secret) == 40 and len(base64.b64decode(secret)) * 8 >= 160
    got, again = verify_session(ring, token, original.access_key_id)
    assert got == original
    assert again == secret


def test_secret_differs_per_session_and_is_not_in_the_token(ring) -> None:
    one, two = claims(), claims()
    token_one, secret_one = sign_session(ring, one)
    _, secret_two = sign_session(ring, two)
    assert secret_one != secret_two
    assert secret_one not in token_one


def test_token_is_bound_to_its_access_key_id(ring) -> None:
    token, _ = sign_session(ring, claims())
    with pytest.raises(StsError) as err:
        verify_session(ring, token, new_access_key_id(SESSION_PREFIX))
    assert err.value.code == "InvalidClientTokenId"


def test_header_is_pinned(ring) -> None:
    original = claims()
    token, _ = sign_session(ring, original)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "ES256", "typ": "broker-session+jwt", "kid": ring.active.kid}


def test_tampered_payload_or_signature_is_refused(ring) -> None:
    original = claims()
    token, _ = sign_session(ring, original)
    head, payload, signature = token.split(".")
    forged = dict(json.loads(base64.urlsafe_b64decode(payload + "==")))
    forged["acct"] = "999999999999"
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    for bad in (f"{head}.{b64(forged)}.{signature}", f"{head}.{payload}.{flipped}"):
        with pytest.raises(StsError) as err:
            verify_session(ring, bad, original.access_key_id)
        assert err.value.code == "InvalidClientTokenId"


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "typ": "broker-session+jwt"},
        {"alg": "HS256", "typ": "broker-session+jwt"},
        {"alg": "ES256", "typ": "JWT"},
        {"alg": "ES256", "typ": "broker-session+jwt", "kid": "unknown"},
        {"alg": "ES256", "typ": "broker-session+jwt", "crit": ["x"]},
    ],
)
def test_confused_or_foreign_headers_are_refused(ring, header) -> None:
    """Algorithm confusion (CVE-2024-33663): HS256 keyed with our public key must not verify."""
    import hashlib
    import hmac

    original = claims()
    token, _ = sign_session(ring, original)
    header = {"kid": ring.active.kid, **header}
    signing_input = f"{b64(header)}.{token.split('.')[1]}"
    mac = hmac.new(ring.active.public_pem.encode(), signing_input.encode(), hashlib.sha256)
    sig = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
    with pytest.raises(StsError):
        verify_session(ring, f"{signing_input}.{sig}", original.access_key_id)


def test_jwe_shaped_and_oversized_tokens_are_refused(ring) -> None:
    original = claims()
    for bad in ("a.b.c.d.e", "x" * (MAX_TOKEN_BYTES + 1), "not-a-token"):
        with pytest.raises(StsError):
            verify_session(ring, bad, original.access_key_id)


def test_expired_token_is_expired_token(ring) -> None:
    original = claims(issued_at=NOW - timedelta(hours=2), expires_at=NOW - timedelta(hours=1))
    token, _ = sign_session(ring, original)
    with pytest.raises(StsError) as err:
        verify_session(ring, token, original.access_key_id)
    assert err.value.code == "ExpiredToken"


def test_rotation_signs_with_new_key_and_old_tokens_keep_verifying(key_file, ring) -> None:
    old_claims = claims()
    old_token, old_secret = sign_session(ring, old_claims)
    rotated = key_file.ring_source.rotate()
    assert rotated.active.kid != ring.active.kid
    assert {k.kid for k in rotated.keys} == {ring.active.kid, rotated.active.kid}
    assert verify_session(rotated, old_token, old_claims.access_key_id)[1] == old_secret
    new_token, _ = sign_session(rotated, claims())
    assert json.loads(base64.urlsafe_b64decode(new_token.split(".")[0] + "=="))["kid"] == (
        rotated.active.kid
    )


def test_retired_key_stops_verifying_after_the_longest_session(key_file, ring) -> None:
    old_claims = claims()
    token, _ = sign_session(ring, old_claims)
    key_file.ring_source.rotate(now=NOW - timedelta(hours=37))
    later = key_file.ring_source.rotate()
    assert ring.active.kid not in {k.kid for k in later.keys}
    with pytest.raises(StsError):
        verify_session(later, token, old_claims.access_key_id)


def test_the_state_database_is_private_and_a_readable_one_is_refused(tmp_path, ring) -> None:
    from broker.sts.state import open_sts_state

    database = tmp_path / "broker.db"
    assert database.stat().st_mode & 0o777 == 0o600
    database.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        open_sts_state(None, tmp_path, pool_size=1)
