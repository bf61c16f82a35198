"""The sign-in the app starts with: one kept in the store by an earlier ``broker login``.

Why: the CLI and the app share the store, so a person who signed in with ``broker login``
(or in an earlier run of the app) is signed in when the app opens — as ``broker whoami`` says —
instead of being asked again. Only a session that has not ended is taken; the default provider
wins when several are signed in.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from providers.base import SignInResult

__all__ = ["stored_identity"]


def stored_identity(
    config_dir: Path, data_dir: Path, now: datetime
) -> tuple[str, SignInResult] | None:
    """``(provider, sign-in)`` of the live session to start with, or None.

    Raises:
        StoreError: the keyring or the index cannot be read.
    """
    from broker.config import load_config
    from broker.config.providers import default_provider, provider_tables
    from broker.store import CredentialStore

    config = load_config(config_dir)
    store = CredentialStore(data_dir)
    signed_in = sorted(store.read_index().sessions)
    default = default_provider(config)
    order = sorted(signed_in, key=lambda name: name != default)
    configured = provider_tables(config)
    for provider in order:
        if provider not in configured:
            continue  # a session of a provider since removed from broker.toml
        session = store.session(provider)
        if session is not None and session.expires_at > now:
            return provider, session
    return None
