"""The embedded issuer's public keys, published in the data directory for ``broker serve``.

Why a file: the issuer's identifier is under ``.invalid`` and its back channel is in-process,
so no JWKS URL can be fetched, while ``broker serve`` and the local minter (same user, same data
directory) must verify its ID tokens. Whenever the issuer loads or creates its key it adds the
*public* half (private members never written) to ``<data_dir>/embedded-idp/public-jwks.json``:
0700 directory, 0600 file, temporary file + fsync + rename under ``flock``. The reader refuses
a file or directory another user owns or could write, since whoever can add a key here can sign
in as anyone at roles trusting the development issuer. Only the web-identity verifier reads it,
and only for the exact development issuer (``users.ISSUER``) — never for any other issuer.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import ECKey

from broker.errors import ProviderUnavailableError
from broker.tokens.oidc.jwks import JWKSCache
from providers.embedded.refresh_store import PROVIDER_FILES
from providers.embedded.users import ISSUER

__all__ = ["MAX_KEYS", "PublishedJWKS", "jwks_path", "publish_public_key"]

MAX_KEYS = 8
"""Keys kept (newest last): one per embedded provider name, plus ones replaced recently."""

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def jwks_path(data_dir: Path) -> Path:
    """Where the development issuer's public JWKS lives under the data directory."""
    return data_dir / "embedded-idp" / "public-jwks.json"


def _public_entry(key: ECKey) -> dict[str, Any]:
    public = key.as_dict(private=False)
    entry = {k: v for k, v in public.items() if k not in _PRIVATE_MEMBERS}
    return {**entry, "use": "sig", "alg": "ES256"}


def _read(path: Path) -> dict[str, Any]:
    """The published document; refuses one another user could have written."""
    try:
        info = path.stat()
        parent = path.parent.stat()
    except FileNotFoundError:
        raise ProviderUnavailableError(
            "the embedded IdP has not published its keys in this data directory; "
            "run `broker login` with the embedded provider as this user first"
        ) from None
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


def publish_public_key(data_dir: Path, key: ECKey) -> Path:
    """Add ``key``'s public half to the published set (idempotent); returns the file's path."""
    path = jwks_path(data_dir)
    with PROVIDER_FILES.locked(path):
        try:
            keys = [k for k in _read(path)["keys"] if isinstance(k, dict)]
        except ProviderUnavailableError:
            keys = []  # absent or unusable: rewritten from our own key
        entry = _public_entry(key)
        if entry in keys:
            return path
        others = [k for k in keys if k.get("kid") != entry["kid"]]
        keys = [*others[-(MAX_KEYS - 1) :], entry]
        PROVIDER_FILES.write_json(path, {"keys": keys})
        return path


class PublishedJWKS(JWKSCache):
    """``JWKSCache`` over the published file instead of a URL (re-read on an unknown ``kid``).

    Development only: constructing one for any issuer but the embedded one is refused. No
    re-read pause: the keys come from a local file, so an unknown ``kid`` costs no network call.
    """

    refetch_cooldown = 0.0

    def __init__(self, data_dir: Path, issuer: str) -> None:
        if issuer != ISSUER:
            raise ValueError(f"published keys are only for the embedded issuer {ISSUER}")
        self.path = jwks_path(data_dir)
        super().__init__(httpx.Client(transport=_NoNetwork()), f"file://{self.path}")

    def _document(self) -> dict[str, Any]:
        return _read(self.path)


class _NoNetwork(httpx.BaseTransport):
    """The published keys never come from the network."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise ProviderUnavailableError("the embedded issuer's keys are read from a file")
