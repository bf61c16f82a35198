"""The client-side credential store: OS keyring entries, a secret-free index, locking.

``CredentialStore`` is the one object front ends use: profile credentials and IdP sessions
in the keyring (one entry each), their secret-free rows in the index, and per-name
cross-process locks. ``SqliteReplayCache`` and ``KeyringSecretStore`` implement the provider
seam's ``ReplayCache`` and ``SecretStore``.

Names are imported lazily so ``credential-process``'s hot path can use
``broker.store.secret_service`` without loading the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from broker.store.credential_store import CredentialStore
    from broker.store.index import Index, ProfileRow, SessionRow
    from broker.store.keyring_store import KeyringSecretStore, KeyringStore
    from broker.store.replay import SqliteReplayCache

__all__ = [
    "CredentialStore",
    "Index",
    "KeyringSecretStore",
    "KeyringStore",
    "ProfileRow",
    "SessionRow",
    "SqliteReplayCache",
]

_HOMES = {
    "CredentialStore": "credential_store",
    "Index": "index",
    "KeyringSecretStore": "keyring_store",
    "KeyringStore": "keyring_store",
    "ProfileRow": "index",
    "SessionRow": "index",
    "SqliteReplayCache": "replay",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'broker.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"broker.store.{home}"), name)
