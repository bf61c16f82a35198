"""Minting, refreshing and revoking for the TUI, through the same core paths as the CLI.

Minting names the profile by the assignment-profile rule (``profile_name`` with the default
template, as ``broker configure aws`` does) and records the assignment in the store's index, so
``broker credential-process --profile NAME`` serves the TUI's credentials from the cache and
re-mints them through the chain when they run low. Minting and refreshing are the chain's
forced mint under the profile's lock (``Chain.credentials``, the step ``credential-process``
takes); revoke is ``broker sts revoke --session``'s core function for the session the cached
credentials belong to. No Textual here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from broker.config.toml_names import toml_key
from broker.errors import ConfigError, StsError
from broker.tui.model import MintChoice, MintOutcome, PortalRole
from providers.base import SignInResult

if TYPE_CHECKING:
    from broker.client.chain import Chain
    from broker.client.profiles import Profile
    from broker.config import BrokerConfig
    from broker.minters.base import Credentials
    from broker.sts.state import StsState
    from broker.sts.state_handle import StateHandle

__all__ = ["mint_profile", "refresh_profiles", "revoke_profile"]


def mint_profile(
    config_dir: Path,
    state: StateHandle,
    identity: SignInResult,
    role: PortalRole,
    choice: MintChoice,
    read_code: Callable[[Profile], str] | None = None,
) -> MintOutcome:
    """Mint ``role`` for the person signed in as ``identity`` and keep the credentials under
    the role's assignment-profile name. ``read_code`` asks the person for the TOTP code of an
    ``mfa_serial`` profile (without it such a profile is refused).

    Raises:
        ReauthenticationRequired: the sign-in has ended; StsError: the minter refused;
        AuditError: the mint could not be audited (nothing issued); ConfigError: a
        ``[profiles.NAME]`` table with the same name stands for another role.
    """
    from broker.client.assertion_roles import federated_saml_providers
    from broker.client.assignment_profiles import (
        DEFAULT_TEMPLATE,
        IDENTITY_CENTER_MINTER,
        assignment_row,
        to_profile,
    )
    from broker.client.profiles import load_profiles
    from broker.client.wiring import close_chain, open_chain
    from broker.directory import load_directory
    from broker.minters.aws_identity_center import identity_center_providers

    config, chain = open_chain(config_dir=config_dir, state=state, read_code=read_code)
    try:
        if role.profile is not None:  # the configuration lists it: its own profile mints it
            return _mint_configured(config, chain, role.profile, choice)
        provider = identity.claims.provider
        # An aws_federation SAML sign-in's roles come from its assertion (aws-saml mints them),
        # and the person need not be in the directory; named as `configure aws` names them.
        from_assertion = provider in federated_saml_providers(config)
        # Identity Center, not the directory, knows an aws-identity-center sign-in's roles.
        upstream = provider in identity_center_providers(config)
        if from_assertion:
            user = identity.claims.email or identity.claims.subject
        elif upstream:
            user = identity.claims.subject
        else:
            directory = load_directory(config.directory, state.state().shared.database)
            try:
                user = directory.resolve_user(identity.claims).name
            finally:
                directory.close()
        row = assignment_row(
            DEFAULT_TEMPLATE,
            provider=provider,
            user=user,
            account_id=role.account_id,
            account_name=role.account_name,
            permission_set=role.label,
            role_name=role.role_name,
            duration=choice.seconds or 3600,  # unused where the upstream sets the length
            minter="aws-saml" if from_assertion else IDENTITY_CENTER_MINTER if upstream else None,
        )
        name = row.profile
        explicit = load_profiles(config).get(name)
        if explicit is not None and (explicit.account, explicit.role) != (
            role.account_id,
            role.role_name,
        ):
            raise ConfigError(
                f"[profiles.{toml_key(name)}] in {config.file} is another role; rename that "
                "table to mint this one from the TUI"
            )
        # A [profiles.NAME] table for this role picks the minter (``aws`` for real AWS); the
        # person signed in here is who the credentials are for.
        chosen = dataclasses.replace(explicit or to_profile(row), provider=provider)
        # The CLI's own locked mint step (``Chain.credentials``): same lock, same store path.
        # The lock is taken here first (a nested take in this thread goes straight in) so the
        # assignment row is recorded under it with the credentials it names.
        with chain.store.lock("profile", name):
            credentials = _forced_mint(chain, chosen, choice)
            if explicit is None:
                chain.store.record_assignments([row], replace=False)
        return MintOutcome(profile=name, credentials=credentials)
    finally:
        close_chain(chain)


def _mint_configured(
    config: BrokerConfig, chain: Chain, name: str, choice: MintChoice
) -> MintOutcome:
    """``[profiles.NAME]`` minted as ``credential-process --profile NAME`` would, forced."""
    from broker.client.profiles import load_profiles

    profile = load_profiles(config).get(name)
    if profile is None:
        raise ConfigError(f"[profiles.{toml_key(name)}] is gone from {config.file}; press r")
    return MintOutcome(profile=name, credentials=_forced_mint(chain, profile, choice))


def _forced_mint(chain: Chain, profile: Profile, choice: MintChoice) -> Credentials:
    """The chain's forced mint with the dialog's choices (``seconds`` is None where the
    upstream sets the length: GetRoleCredentials takes none)."""
    return chain.credentials(
        profile,
        force=True,
        duration=choice.seconds,
        session_policy=choice.session_policy,
        reason=choice.reason,
    )


def refresh_profiles(
    config_dir: Path,
    state: StateHandle,
    profiles: Sequence[str],
    read_code: Callable[[Profile], str] | None = None,
) -> list[str]:
    """Re-mint each of ``profiles`` now (the chain's forced path, under the profile's lock);
    returns those refreshed, stopping at the first failure. ``read_code`` asks the person for
    the TOTP code of an ``mfa_serial`` profile (without it such a profile is refused).

    Raises:
        ConfigError: a name is no longer a profile (its assignment was removed).
        ReauthenticationRequired, StsError, StoreError: as ``credential-process`` raises them.
    """
    from broker.client.assignment_profiles import resolve_profile, state_directory
    from broker.client.wiring import close_chain, open_chain

    config, chain = open_chain(config_dir=config_dir, state=state, read_code=read_code)
    directory = state_directory(config, state)
    done: list[str] = []
    try:
        for name in profiles:
            chain.credentials(resolve_profile(config, chain.store, name, directory), force=True)
            done.append(name)
    finally:
        close_chain(chain)
    return done


def revoke_profile(state: StateHandle, profile: str, now: datetime | None = None) -> bool:
    """Revoke the local STS session behind ``profile``'s cached credentials and forget them.

    Returns whether a live session was revoked (an expired one is only forgotten).

    Raises:
        StsError: the cached credentials are not a session this broker's STS issued (an
            ``aws`` minter's); nothing is forgotten, revoke them upstream.
        AuditError: the revocation could not be audited; nothing was revoked.
    """
    from broker.store.credential_store import CredentialStore

    now = now or datetime.now(UTC)
    store = CredentialStore(state.data_dir)
    credentials = store.credentials(profile)
    revoked = False
    if credentials is not None and credentials.expiration > now:
        revoked = _revoke_session(state.state(), state.data_dir, profile, credentials, now)
    store.forget_profile(profile)
    return revoked


def _revoke_session(
    state: StsState, data_dir: Path, profile: str, credentials: Credentials, now: datetime
) -> bool:
    """Revoke the live session of ``credentials`` in ``state``; False when it has expired."""
    from broker.store.revocation_stamp import touch_revocation_stamp
    from broker.sts.revocation import Revocation, revoke
    from broker.sts.session_token import verify_session

    try:
        claims, _secret = verify_session(
            state.ring, credentials.session_token, credentials.access_key_id, now=now
        )
    except StsError as exc:
        if exc.code != "ExpiredToken":
            raise StsError(
                f"{profile}: these credentials are not a session of this broker's STS, so "
                "it cannot revoke them; revoke them where they were issued",
                code="InvalidClientTokenId",
            ) from None
        return False
    local = state.shared.database.dialect == "sqlite"  # the stamp is the embedded state's
    revoke(
        Revocation("session", claims.session_id, now),
        state,
        recorded=(lambda: touch_revocation_stamp(data_dir)) if local else None,
    )
    return True
