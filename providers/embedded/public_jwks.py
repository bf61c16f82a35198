"""The embedded issuer's public keys, published in the data directory for ``broker serve``.

Why a file: the issuer's identifier is under ``.invalid`` and its back channel is in-process,
so no JWKS URL can be fetched, while ``broker serve`` and the local minter (same user, same data
directory) must verify its ID tokens. Whenever the issuer loads or creates its key it adds the
*public* half (private members never written) to ``<data_dir>/embedded-idp/public-jwks.json``:
0700 directory, 0600 file, temporary file + fsync + rename under ``flock``. The reader
(``broker.tokens.oidc.jwks.read_key_set_file``) refuses a file or directory another user owns
or could write, since whoever can add a key here can sign in as anyone at roles trusting the
development issuer. The provider offers the file to the front ends as this one issuer's local
key set (``EmbeddedProvider.local_key_sets``); the web-identity verifier uses it for that
exact issuer only, and only when its directory entry names no ``jwks_uri``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey

from broker.errors import ProviderUnavailableError
from broker.tokens.oidc.jwks import FileJWKS, read_key_set_file
from providers.embedded.refresh_store import PROVIDER_FILES
from providers.embedded.users import ISSUER

__all__ = [
    "MAX_KEYS",
    "jwks_path",
    "publish_public_key",
    "published_key_sets",
]

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


_MISSING = (
    "the embedded IdP has not published its keys in this data directory; "
    "run `broker login` with the embedded provider as this user first"
)


def _read(path: Path) -> dict[str, Any]:
    """The published document; refuses one another user could have written."""
    return read_key_set_file(path, missing=_MISSING)


def published_key_sets(data_dir: Path) -> dict[str, FileJWKS]:
    """The development issuer's published keys, by issuer, for the web-identity verifier."""
    return {ISSUER: FileJWKS(jwks_path(data_dir), missing=_MISSING)}


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
