"""RFC 7517 JSON Web Key Sets: the issuer's signing keys, cached, re-fetched once on rotation.

OIDC Core §10.1.1: a signer may add keys at any time; a verifier that meets an unknown ``kid``
re-fetches the set. We re-fetch at most once per lookup, so a token naming a made-up ``kid``
costs one request, never a loop; and at most once per ``refetch_cooldown`` seconds, because
AssumeRoleWithWebIdentity is unauthenticated: without the pause, anyone could make the broker
fetch the IdP's JWKS once per request by sending tokens with made-up ``kid`` values.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, RSAKey

from broker.errors import AuthenticationError, ProviderUnavailableError
from broker.tokens.oidc.http import OAuthErrorResponse, read_json, send

__all__ = ["ALGORITHM_KEY_TYPES", "MIN_RSA_BITS", "FileJWKS", "JWKSCache", "read_key_set_file"]

MIN_RSA_BITS = 2048
"""Smaller RSA keys in a JWKS are ignored (NIST SP 800-131A: 2048 bits minimum)."""

ALGORITHM_KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
}
"""Every asymmetric algorithm the broker accepts, bound to the key type (and curve) it needs.

Binding the algorithm to the key type is what stops algorithm confusion: an RSA public key
can never be used as an HMAC secret, because no HS* algorithm is listed at all.
"""


class JWKSCache:
    """The signing keys of one issuer, fetched lazily from ``jwks_uri``."""

    refetch_cooldown = 30.0
    """Seconds after a re-fetch for an unknown ``kid`` before another may happen."""

    def __init__(
        self, client: httpx.Client, jwks_uri: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._uri = jwks_uri
        self._clock = clock
        self._keys: list[Key] | None = None
        self._last_refetch: float | None = None
        self._refetch_lock = threading.Lock()
        self.fetches = 0

    def _document(self) -> dict[str, Any]:
        """The JWK Set document, fetched from ``jwks_uri`` (a subclass may read it elsewhere)."""
        response = send(self._client, self._client.build_request("GET", self._uri), "JWKS")
        try:
            return read_json(response, "JWKS")
        except OAuthErrorResponse:
            raise ProviderUnavailableError("JWKS: the identity provider refused") from None

    def _fetch(self) -> list[Key]:
        document = self._document()
        self.fetches += 1
        keys: list[Key] = []
        for entry in document.get("keys", []) if isinstance(document.get("keys"), list) else []:
            if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC"):
                continue
            if entry.get("use", "sig") != "sig" or _weak_rsa(entry):
                continue
            try:
                keys.append(KeySet.import_key_set({"keys": [_public(entry)]}).keys[0])
            except (JoseError, ValueError, TypeError):
                continue  # one malformed key must not hide the others
        self._keys = keys
        return keys

    def key_for(self, kid: str | None, alg: str) -> Key:
        """The key that may verify a token with header ``kid`` and ``alg``.

        Raises:
            AuthenticationError: no key of the right type matches, even after one re-fetch.
        """
        fresh = self._keys is None
        keys = self._fetch() if self._keys is None else self._keys
        found = _pick(keys, kid, alg)
        if found is None and not fresh and self._may_refetch():
            found = _pick(self._fetch(), kid, alg)
        if found is None:
            raise AuthenticationError(
                "the ID token is signed with a key the identity provider does not publish",
                code="unknown_key",
            )
        return found

    def _may_refetch(self) -> bool:
        """True (and the pause starts now) unless a re-fetch happened within the cooldown."""
        with self._refetch_lock:
            now = self._clock()
            if self._last_refetch is not None and now - self._last_refetch < self.refetch_cooldown:
                return False
            self._last_refetch = now
            return True


class FileJWKS(JWKSCache):
    """``JWKSCache`` over a JWK Set file on this machine instead of a URL.

    For an issuer whose keys cannot be fetched (an IdP running inside the broker's own processes
    publishes its public keys to a file). The file is re-read on an unknown ``kid`` with no
    pause, since a local read costs no network call; it is never fetched over the network, and
    one another user owns or could write is refused (``read_key_set_file``).
    """

    refetch_cooldown = 0.0

    def __init__(self, path: Path, *, missing: str) -> None:
        self.path = path
        self._missing = missing
        super().__init__(httpx.Client(transport=_NoNetwork()), f"file://{path}")

    def _document(self) -> dict[str, Any]:
        return read_key_set_file(self.path, missing=self._missing)


class _NoNetwork(httpx.BaseTransport):
    """A file's keys never come from the network."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise ProviderUnavailableError("these keys are read from a file, never fetched")


def read_key_set_file(path: Path, *, missing: str) -> dict[str, Any]:
    """The JWK Set document at ``path``; refuses one another user could have written, since
    whoever can add a key there can sign tokens for the issuer it stands for.

    Args:
        missing: the message when the file does not exist (what to do to create it).

    Raises:
        ProviderUnavailableError: absent, owned or writable by another user, or not a JWK Set.
    """
    try:
        info = path.stat()
        parent = path.parent.stat()
    except FileNotFoundError:
        raise ProviderUnavailableError(missing) from None
    uid = os.getuid()
    for where, what in ((path, info), (path.parent, parent)):
        if what.st_uid != uid or stat.S_IMODE(what.st_mode) & 0o022:
            raise ProviderUnavailableError(
                f"{where} is owned or writable by another user; its keys are not trusted "
                f"(chown it to yourself and chmod go-w it)"
            )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ProviderUnavailableError(
            f"{path} is not a JSON Web Key Set; delete it and sign in again"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ProviderUnavailableError(f"{path} is not a JSON Web Key Set; delete it")
    return document


def _weak_rsa(entry: dict[str, Any]) -> bool:
    """True for an RSA JWK under ``MIN_RSA_BITS`` (checked before import, which would warn)."""
    if entry.get("kty") != "RSA":
        return False
    modulus = entry.get("n")
    if not isinstance(modulus, str):
        return True
    try:
        raw = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    except ValueError:
        return True
    return int.from_bytes(raw, "big").bit_length() < MIN_RSA_BITS


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    """Drop private members: a JWKS that leaks a private key still only gives us the public one."""
    private = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
    return {k: v for k, v in entry.items() if k not in private}


def _pick(keys: list[Key], kid: str | None, alg: str) -> Key | None:
    kty, curve = ALGORITHM_KEY_TYPES[alg]
    fitting = []
    for key in keys:
        if key.key_type != kty:
            continue
        if kty == "EC" and (not isinstance(key, ECKey) or key.curve_name != curve):
            continue
        if kty == "RSA" and not isinstance(key, RSAKey):
            continue
        declared = key.get("alg")
        if declared is not None and declared != alg:
            continue
        fitting.append(key)
    if kid is not None:
        return next((key for key in fitting if key.kid == kid), None)
    # OIDC Core §10.1: without a kid there must be exactly one candidate key.
    return fitting[0] if len(fitting) == 1 else None
