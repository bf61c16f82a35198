"""Building the real chain for the command line: config, store, minters, providers."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

from broker.client.chain import Chain
from broker.client.minting import load_minter
from broker.client.profiles import FEDERATED_MINTERS, Profile
from broker.config import BrokerConfig, load_config
from broker.minters.base import Credentials, Minter
from broker.store.credential_store import CredentialStore
from broker.sts.state_handle import StateHandle

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
    state: StateHandle,
    config_dir: Path | None = None,
    ask_mfa: bool = False,
    read_code: Callable[[Profile], str] | None = None,
) -> tuple[BrokerConfig, Chain]:
    """The configuration and a chain wired to the real store, minters and providers.

    ``state``: the front end's data directory and state, opened only if a minter needs it;
    ``config_dir``: the command line's configuration unless given (as the TUI does).

    ``ask_mfa``: an ``mfa_serial`` profile may ask for its code on the terminal (``exec``,
    ``env``, ``credential-process``); elsewhere (the terminal app, ``refresh``, endpoints)
    such a profile is refused in one line naming the command that asks. ``read_code``: how a
    front end with its own way of asking (the terminal app's dialog) gets the code instead.
    """
    from broker.login_advice import login_advice_for
    from broker.signin import provider_builder

    config = load_config(config_dir)
    store = CredentialStore(state.data_dir)
    minters = _MinterCache(config, state)
    built: list[Chain] = []

    def minter(profile: Profile) -> Minter:
        if profile.source_profile is not None:
            return _chained(profile, config, built[0], state, ask_mfa=ask_mfa, read_code=read_code)
        built_minter = minters.get(profile.minter)
        if profile.minter in FEDERATED_MINTERS:
            return _aimed(built_minter, profile)
        return built_minter

    from broker.client.revocation import revocation_check

    own_sts_revoked = revocation_check(state)

    def revoked(profile: Profile, credentials: Credentials) -> bool:
        return profile.minter == "local" and own_sts_revoked(credentials)

    chain = Chain(
        store=store,
        minter=minter,
        provider=provider_builder(config, store),
        log=stderr_log(verbose),
        warn=stderr_log(True),
        revoked=revoked,
        login=login_advice_for(config),
    )
    built.append(chain)
    return config, chain


class _MinterCache:
    """Each minter built once per opening of the front end's state.

    A minter holds the stores of the state it was built over (the local minter's key ring
    and audit chain, an upstream minter's audit chain). A front end working in rounds
    (``StateHandle.round``) closes that state between rounds, so a minter of an earlier
    generation is dropped and built again over the newly opened state. Served requests run
    in threads: one lock keeps two of them from building at once.
    """

    def __init__(self, config: BrokerConfig, state: StateHandle) -> None:
        self._config = config
        self._state = state
        self._built: dict[str, Minter] = {}
        self._generation = state.generation
        self._lock = threading.Lock()

    def get(self, name: str) -> Minter:
        with self._lock:
            if self._generation != self._state.generation:
                self._built.clear()
                self._generation = self._state.generation
            if name not in self._built:
                self._built[name] = load_minter(name, self._config, self._state)
            return self._built[name]


def _chained(
    profile: Profile,
    config: BrokerConfig,
    chain: Chain,
    state: StateHandle,
    *,
    ask_mfa: bool,
    read_code: Callable[[Profile], str] | None,
) -> Minter:
    """The minter of a chained profile: AssumeRole with its source profile's credentials,
    taken through the same chain (cache, refresh, mint; its own lock inside this one's)."""
    from broker.client.assignment_profiles import resolve_profile, state_directory
    from broker.client.chained import ChainedMinter
    from broker.client.mfa_prompt import no_mfa_prompt, terminal_mfa_code

    source_name = profile.source_profile
    assert source_name is not None

    directory = state_directory(config, state)

    def source() -> Credentials:
        return chain.credentials(resolve_profile(config, chain.store, source_name, directory))

    if read_code is None:
        read_code = terminal_mfa_code if ask_mfa else no_mfa_prompt
    return ChainedMinter(profile, source, read_code)


def _aimed(minter: Minter, profile: Profile) -> Minter:
    """A federated minter aimed at the profile's own role and STS (region, endpoint)."""
    from broker.minters.aws_federation import FederatedTarget, FederationMinter

    assert isinstance(minter, FederationMinter)  # FEDERATED_MINTERS are built as such
    return minter.aimed_at(
        FederatedTarget(
            role_arn=profile.role_arn,
            principal_arn=profile.principal_arn,
            region=profile.region,
            endpoint_url=profile.endpoint_url,
        )
    )


def close_chain(chain: Chain) -> None:
    """Close the providers the chain built (an embedded issuer, HTTP clients)."""
    close = getattr(chain.provider, "close", None)
    if callable(close):
        close()
