"""Building the real chain for the command line: config, store, minters, providers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from broker.client.chain import Chain
from broker.client.minting import load_minter
from broker.client.profiles import Profile
from broker.config import BrokerConfig, load_config
from broker.minters.base import Credentials, Minter
from broker.store.credential_store import CredentialStore

__all__ = ["close_chain", "open_chain", "stderr_log"]


def stderr_log(verbose: bool) -> Callable[[str], None]:
    """A decision logger: lines on stderr when ``verbose``, else silent."""

    def log(line: str) -> None:
        if verbose:
            print(f"broker: {line}", file=sys.stderr, flush=True)

    return log


def open_chain(
    *,
    verbose: bool = False,
    config_dir: Path | None = None,
    data_dir: Path | None = None,
) -> tuple[BrokerConfig, Chain]:
    """The configuration and a chain wired to the real store, minters and providers (the
    command line's directories unless given, as the TUI does)."""
    from broker.config import data_dir as default_data_dir
    from broker.signin import provider_builder

    config = load_config(config_dir)
    store = CredentialStore(data_dir or default_data_dir())
    minters: dict[str, Minter] = {}

    def minter(profile: Profile) -> Minter:
        if profile.minter not in minters:
            minters[profile.minter] = load_minter(profile.minter, config)
        return minters[profile.minter]

    from broker.client.revocation import revocation_check

    own_sts_revoked = revocation_check(store.data_dir)

    def revoked(profile: Profile, credentials: Credentials) -> bool:
        return profile.minter == "local" and own_sts_revoked(credentials)

    chain = Chain(
        store=store,
        minter=minter,
        provider=provider_builder(config, store),
        log=stderr_log(verbose),
        warn=stderr_log(True),
        revoked=revoked,
    )
    return config, chain


def close_chain(chain: Chain) -> None:
    """Close the providers the chain built (an embedded issuer, HTTP clients)."""
    close = getattr(chain.provider, "close", None)
    if callable(close):
        close()
