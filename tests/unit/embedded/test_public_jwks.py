"""The embedded issuer's public keys, published for ``broker serve`` and the local minter, and
read by the web-identity verifier for that one development issuer only."""

from __future__ import annotations

import json
import os
import stat
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from broker.errors import ProviderUnavailableError, StsError
from broker.sts.principals import WebIdentityProvider
from broker.sts.web_identity import WebIdentityVerifier
from providers.embedded.issuer import EmbeddedIssuer
from providers.embedded.provider import EmbeddedProvider
from providers.embedded.public_jwks import MAX_KEYS, jwks_path, publish_public_key
from providers.embedded.signing_key import load_or_create_key
from providers.embedded.users import ISSUER
from providers.registry import local_key_sets, local_keys

EMBEDDED = WebIdentityProvider(
    "arn:aws:iam::666666666666:oidc-provider/development-only.embedded-idp.invalid",
    ISSUER,
    ("access-broker",),
    "",
    ("ES256",),
)


def id_token(key: ECKey, iss: str = ISSUER, kid: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": iss, "aud": "access-broker", "sub": "alice", "iat": now, "exp": now + 600}
    return jwt.encode({"alg": "ES256", "kid": kid or key.kid}, claims, key)


def no_network(asked: list[str]) -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        raise httpx.ConnectError("no route", request=request)

    return httpx.Client(transport=httpx.MockTransport(refuse))


def test_issuer_publishes_only_the_public_half_in_a_private_file(context) -> None:
    EmbeddedIssuer(context).close()
    path = jwks_path(context.data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    [entry] = json.loads(path.read_text())["keys"]
    key = load_or_create_key(context.secrets)
    assert entry["kid"] == key.kid and entry["alg"] == "ES256"
    assert "d" not in entry and key.as_dict(private=True)["d"] not in path.read_text()
    EmbeddedIssuer(context).close()  # loading the same key again adds nothing
    assert len(json.loads(path.read_text())["keys"]) == 1


def test_new_keys_are_added_and_the_set_is_bounded(tmp_path) -> None:
    keys = [ECKey.generate_key("P-256", auto_kid=True) for _ in range(MAX_KEYS + 2)]
    for key in keys:
        publish_public_key(tmp_path, key)
    kids = [k["kid"] for k in json.loads(jwks_path(tmp_path).read_text())["keys"]]
    assert kids == [k.kid for k in keys[-MAX_KEYS:]]


def published(context):
    """The local key sets as the front ends hand them to the verifier."""
    return local_keys(context.data_dir)


def test_the_registry_offers_exactly_the_development_issuers_published_set(context) -> None:
    sets = local_key_sets(context.data_dir)
    assert list(sets) == [ISSUER]
    assert sets[ISSUER].path == jwks_path(context.data_dir)  # type: ignore[attr-defined]
    assert list(EmbeddedProvider.local_key_sets(context.data_dir)) == [ISSUER]


def test_serve_verifies_embedded_tokens_from_the_published_keys(context) -> None:
    EmbeddedIssuer(context).close()
    key = load_or_create_key(context.secrets)
    asked: list[str] = []
    verifier = WebIdentityVerifier(no_network(asked), local_keys=published(context))
    claims = verifier.verify(EMBEDDED, "access-broker", id_token(key))
    assert claims["sub"] == "alice" and asked == []
    # Another key claiming the published kid, or a kid nobody published: refused.
    other = ECKey.generate_key("P-256", auto_kid=True)
    for forged in (id_token(other, kid=key.kid), id_token(other)):
        with pytest.raises(StsError) as err:
            verifier.verify(EMBEDDED, "access-broker", forged)
        assert err.value.code == "InvalidIdentityToken"


def test_published_keys_never_vouch_for_another_issuer(context) -> None:
    EmbeddedIssuer(context).close()
    key = load_or_create_key(context.secrets)
    other_issuer = "https://idp.example.com"
    entry = WebIdentityProvider(
        "arn:aws:iam::666666666666:oidc-provider/idp.example.com",
        other_issuer,
        ("access-broker",),
        "",
        ("ES256",),
    )
    asked: list[str] = []
    verifier = WebIdentityVerifier(no_network(asked), local_keys=published(context))
    with pytest.raises(StsError) as err:
        verifier.verify(entry, "access-broker", id_token(key, iss=other_issuer))
    assert err.value.code == "IDPCommunicationError"
    assert asked == [f"{other_issuer}/.well-known/openid-configuration"]
    # An entry naming its own jwks_uri for the development issuer gets its keys from there.
    pinned = WebIdentityProvider(EMBEDDED.arn, ISSUER, ("access-broker",), "https://keys.test/j")
    with pytest.raises(StsError):
        verifier.verify(pinned, "access-broker", id_token(key))
    assert asked[-1] == "https://keys.test/j"


def test_without_local_key_sets_the_development_issuer_is_unreachable(context) -> None:
    EmbeddedIssuer(context).close()
    asked: list[str] = []
    with pytest.raises(StsError) as err:
        WebIdentityVerifier(no_network(asked)).verify(
            EMBEDDED, "access-broker", id_token(load_or_create_key(context.secrets))
        )
    assert err.value.code == "IDPCommunicationError"


@pytest.mark.parametrize("target", ["file", "dir"])
def test_a_set_others_could_write_is_not_trusted(context, target) -> None:
    """Whoever can add a key here could sign in as anyone at roles trusting the issuer."""
    EmbeddedIssuer(context).close()
    path = jwks_path(context.data_dir)
    where = path if target == "file" else path.parent
    os.chmod(where, stat.S_IMODE(where.stat().st_mode) | 0o020)
    with pytest.raises(ProviderUnavailableError, match="writable by another user"):
        local_key_sets(context.data_dir)[ISSUER].key_for(None, "ES256")
    verifier = WebIdentityVerifier(no_network([]), local_keys=published(context))
    with pytest.raises(StsError) as err:
        verifier.verify(EMBEDDED, "access-broker", id_token(load_or_create_key(context.secrets)))
    assert err.value.code == "IDPCommunicationError"


def test_missing_set_says_to_sign_in_first(tmp_path) -> None:
    with pytest.raises(ProviderUnavailableError, match="broker login"):
        local_key_sets(tmp_path)[ISSUER].key_for(None, "ES256")
