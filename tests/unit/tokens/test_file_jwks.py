"""A key set read from a file on this machine: what the web-identity verifier trusts for an
issuer whose keys cannot be fetched. It must never reach the network, must pick up a new key
without a pause, and must refuse a file another user could have written."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from broker.errors import AuthenticationError, ProviderUnavailableError
from broker.tokens.oidc.id_token import IdTokenRules, validate_id_token
from broker.tokens.oidc.jwks import FileJWKS

ISSUER = "https://local-idp.test"
RULES = IdTokenRules(ISSUER, "client", ("ES256",))


def publish(path: Path, *keys: ECKey) -> None:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(json.dumps({"keys": [k.as_dict(private=False) for k in keys]}))
    path.chmod(0o600)


def token(key: ECKey) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "client", "sub": "alice", "iat": now, "exp": now + 300}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "jwks.json"


def test_verifies_with_the_files_keys_and_rereads_for_a_new_kid(path: Path) -> None:
    first = ECKey.generate_key("P-256", auto_kid=True)
    publish(path, first)
    keys = FileJWKS(path, missing="sign in first")
    assert validate_id_token(token(first), keys.key_for, RULES, nonce=None)["sub"] == "alice"
    rotated = ECKey.generate_key("P-256", auto_kid=True)
    publish(path, first, rotated)  # no pause: a local read costs no network call
    assert validate_id_token(token(rotated), keys.key_for, RULES, nonce=None)["sub"] == "alice"
    assert keys.fetches == 2
    with pytest.raises(AuthenticationError):  # a key nobody published
        validate_id_token(
            token(ECKey.generate_key("P-256", auto_kid=True)), keys.key_for, RULES, nonce=None
        )


def test_a_missing_file_says_what_to_do(path: Path) -> None:
    with pytest.raises(ProviderUnavailableError, match="sign in first"):
        FileJWKS(path, missing="sign in first").key_for(None, "ES256")


@pytest.mark.parametrize("target", ["file", "dir"])
def test_a_file_others_could_write_is_refused(path: Path, target: str) -> None:
    publish(path, ECKey.generate_key("P-256", auto_kid=True))
    where = path if target == "file" else path.parent
    os.chmod(where, stat.S_IMODE(where.stat().st_mode) | 0o002)
    with pytest.raises(ProviderUnavailableError, match="writable by another user"):
        FileJWKS(path, missing="-").key_for(None, "ES256")


@pytest.mark.parametrize("content", ["not json", '{"no": "keys"}', "[1, 2]"])
def test_a_file_that_is_not_a_key_set_is_refused(path: Path, content: str) -> None:
    publish(path)
    path.write_text(content)
    with pytest.raises(ProviderUnavailableError, match="JSON Web Key Set"):
        FileJWKS(path, missing="-").key_for(None, "ES256")
