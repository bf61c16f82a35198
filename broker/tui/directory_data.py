"""What the portal, the directory view, the simulator and the welcome read from the directory.

Each function opens the directory for one question and closes it; values come back as the
TUI's own (``broker.tui.model``) or plain tuples. No Textual here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broker.directory import load_directory
from broker.errors import BrokerError
from broker.tui.model import DirectoryTables, PortalRole, format_account_id
from providers.base import Claims, SignInResult

if TYPE_CHECKING:
    from broker.sts.state_handle import StateHandle

__all__ = [
    "demo_users",
    "directory_tables",
    "effective_access",
    "portal_roles",
    "simulation_form",
    "simulation_principals",
    "web_identity_roles",
]


def portal_roles(config_dir: Path, state: StateHandle, identity: SignInResult) -> list[PortalRole]:
    """The roles ``identity`` may use, from the directory's assignments.

    The directory lists each path to a role (direct, and once per group); the portal shows
    the role once, with every path in ``via``.

    For a sign-in at an ``aws-identity-center`` provider, IAM Identity Center lists them
    (``identity_center_roles``) instead of the directory.

    Raises:
        DirectoryError: the person is not in the directory (and JIT is off).
        ConfigError: the directory configuration is invalid.
        ReauthenticationRequired, ProviderUnavailableError: Identity Center's session has
            ended, or it cannot be reached.
    """
    federated = _assertion_portal_roles(config_dir, state, identity)
    if federated is not None:
        return federated
    configured = web_identity_roles(config_dir, state, identity)
    if configured:
        return configured
    held = identity_center_roles(config_dir, state, identity)
    if held is not None:
        return held
    directory = load_directory(config_dir, state.state().shared.database)
    try:
        accounts = {account.id: account for account in directory.accounts()}
        assignments = directory.assignments_for(identity.claims)
    finally:
        directory.close()
    by_key: dict[tuple[str, str], PortalRole] = {}
    for a in assignments:
        key = (a.account_id, a.role_name)
        seen = by_key.get(key)
        if seen is not None:
            by_key[key] = dataclasses.replace(seen, via=f"{seen.via}, {a.via}")
            continue
        account = accounts.get(a.account_id)
        by_key[key] = PortalRole(
            account_id=a.account_id,
            account_name=a.account_name,
            role_name=a.role_name,
            permission_set=a.permission_set,
            role_arn=a.role_arn,
            max_session_seconds=a.max_session_duration,
            email=account.email if account else "",
            tags=dict(account.tags) if account else {},
            via=a.via,
        )
    return list(by_key.values())


def _assertion_portal_roles(
    config_dir: Path, state: StateHandle, identity: SignInResult
) -> list[PortalRole] | None:
    """For an ``aws_federation`` SAML sign-in, the roles its assertion grants (the IdP decides,
    not the directory; see ``broker.client.assertion_roles``); ``None`` for any other."""
    from broker.client.assertion_roles import (
        account_names,
        assertion_roles,
        federated_saml_providers,
    )
    from broker.config import load_config

    config = load_config(config_dir)
    provider = identity.claims.provider
    if provider not in federated_saml_providers(config):
        return None
    return [
        PortalRole(
            account_id=role.account_id,
            account_name=role.account_name,
            role_name=role.role_name,
            role_arn=role.role_arn,
            max_session_seconds=role.max_session_seconds,
            via=f"assertion:{provider}",
        )
        for role in assertion_roles(identity.claims, account_names(config, state))
    ]


def web_identity_roles(
    config_dir: Path, state: StateHandle, identity: SignInResult
) -> list[PortalRole]:
    """For an OIDC sign-in at an ``aws_federation`` provider, the ``[profiles.NAME]`` with
    ``minter = "aws-web-identity"`` for that provider: AWS lists no roles for an ID token, so
    the configuration is the portal (empty for any other sign-in, which the directory serves).
    Accounts are named from the directory where it knows them, else by id.

    Raises:
        ConfigError: there is no such profile, and no directory to list roles instead.
    """
    from broker.client.assertion_roles import account_names
    from broker.client.profiles import load_profiles
    from broker.config import load_config
    from broker.errors import ConfigError
    from broker.minters.aws_federation import API_MAX_DURATION, federated_providers

    config = load_config(config_dir)
    provider = identity.claims.provider
    if identity.saml_response or provider not in federated_providers(config):
        return []
    profiles = [
        profile
        for profile in load_profiles(config).values()
        if profile.minter == "aws-web-identity" and profile.provider == provider
    ]
    if not profiles and not (config.directory / "directory").is_dir():
        raise ConfigError(
            f"no role to list for {provider}: add a [profiles.NAME] with minter = "
            f'"aws-web-identity" and role_arn to {config.file} (README: OIDC straight into AWS)'
        )
    names = account_names(config, state)
    return [
        PortalRole(
            account_id=profile.account,
            account_name=names.get(profile.account, profile.account),
            role_name=profile.role,
            role_arn=profile.role_arn or "",
            max_session_seconds=API_MAX_DURATION,  # the role's own maximum is AWS's to check
            via=f"profile:{profile.name}",
            profile=profile.name,
        )
        for profile in profiles
    ]


def identity_center_roles(
    config_dir: Path, state: StateHandle, identity: SignInResult
) -> list[PortalRole] | None:
    """The roles IAM Identity Center lists for ``identity``; None when its provider is not
    an ``aws-identity-center`` provider."""
    from broker.client.identity_center_portal import portal_roles as held_roles
    from broker.client.wiring import close_chain, open_chain
    from broker.config import load_config
    from broker.minters.aws_identity_center import identity_center_providers

    provider = identity.claims.provider
    if provider not in identity_center_providers(load_config(config_dir)):
        return None
    config, chain = open_chain(config_dir=config_dir, state=state)
    try:
        held = held_roles(config, chain, provider)
    finally:
        close_chain(chain)
    return [
        PortalRole(
            account_id=h.account_id,
            account_name=h.account_name or h.account_id,
            role_name=h.role_name,
            permission_set=h.role_name,
            email=h.email,
            via="IAM Identity Center",
            fixed_session=True,
        )
        for h in held
    ]


def directory_tables(config_dir: Path, state: StateHandle) -> DirectoryTables:
    """Users, groups, accounts and permission sets, for the admin view."""
    from broker.tui.durations import format_duration

    directory = load_directory(config_dir, state.state().shared.database)
    try:
        return DirectoryTables(
            users=tuple(
                (u.name, u.email, ", ".join(u.groups), "service" if u.service else "person")
                for u in directory.users()
            ),
            groups=tuple((g.name, str(len(g.members)), g.description) for g in directory.groups()),
            accounts=tuple(
                (a.name, format_account_id(a.id), " / ".join(a.ou_path), a.email)
                for a in directory.accounts()
            ),
            permission_sets=tuple(
                (p.name, format_duration(p.session_duration), p.description)
                for p in directory.permission_sets()
            ),
        )
    finally:
        directory.close()


def effective_access(
    config_dir: Path, state: StateHandle, user_name: str
) -> list[tuple[str, str, str]]:
    """``(account, permission set, via)`` for everything ``user_name`` may use."""
    directory = load_directory(config_dir, state.state().shared.database)
    try:
        held = directory.assignments_of(directory.user(user_name))
    finally:
        directory.close()
    return [
        (f"{a.account_name} ({format_account_id(a.account_id)})", a.permission_set, a.via)
        for a in held
    ]


def simulation_principals(config_dir: Path, state: StateHandle) -> list[tuple[str, str]]:
    """Every person's role on every account, as ``(label, key)`` for the simulator."""
    directory = load_directory(config_dir, state.state().shared.database)
    try:
        out: dict[str, str] = {}
        for user in directory.users():
            for a in directory.assignments_of(user):
                key = f"{user.name}|{a.account_id}|{a.role_name}"
                label = f"{user.name} · {a.permission_set} @ {a.account_name}"
                out.setdefault(key, label)
    finally:
        directory.close()
    return sorted(((label, key) for key, label in out.items()), key=lambda item: item[0])


def simulation_form(config_dir: Path, state: StateHandle, key: str) -> dict[str, Any]:
    """The simulator's fields for a person's session in a role: the session ARN, the role's
    permission policies, its boundary, the account's SCPs, and context keys AWS sets."""
    from broker.tui.simulation import merge_documents

    user_name, account_id, role_name = key.split("|", 2)
    directory = load_directory(config_dir, state.state().shared.database)
    try:
        user = directory.user(user_name)
        role = directory.role(account_id, role_name)
        levels = directory.scp_hierarchy(account_id)
        management = directory.is_management_account(account_id)
        tags = directory.principal_tags(user)
    finally:
        directory.close()
    context = [f"aws:PrincipalArn={role.arn}"]
    context += [f"aws:PrincipalTag/{k}={v}" for k, v in sorted(tags.items())]
    return {
        "principal_arn": f"arn:aws:sts::{account_id}:assumed-role/{role.name}/{user.name}",
        "identity": merge_documents(list(role.permission_policies)),
        "boundary": merge_documents([role.permissions_boundary])
        if role.permissions_boundary
        else "",
        "scp": "\n---\n".join(merge_documents(list(level)) for level in levels),
        "context": "\n".join(context),
        "management_account": management,
    }


def demo_users(
    config_dir: Path, state: StateHandle, embedded: Sequence[str]
) -> list[tuple[str, str]]:
    """The embedded IdP's demo users, for the first-run welcome: ``(user, what they get)``.

    Each user's roles are what the directory assigns to the claims the embedded IdP would
    issue for them.
    ``embedded``: the configured embedded providers' names (the first one signs them in).
    """
    if not embedded:
        return []
    from providers.embedded.users import ISSUER, load_users

    users = sorted(load_users(config_dir).items())
    # The IdP's ``amr`` claim at sign-in, not the directory's TOTP device (Reports shows that).
    mfa_word = {True: "IdP MFA", False: "no IdP MFA"}
    directory = load_directory(config_dir, state.state().shared.database)
    out = []
    try:
        for name, user in users:
            claims = Claims(
                provider=embedded[0],
                issuer=ISSUER,
                subject=user.subject,
                email=user.email,
                name=user.name,
                groups=user.groups,
                mfa=user.mfa,
            )
            try:
                held = directory.assignments_for(claims)
            except BrokerError as exc:
                out.append((name, f"{user.email} · {exc}"))
                continue
            sets = sorted({a.permission_set for a in held})
            accounts = len({a.account_id for a in held})
            what = ", ".join(sets) if sets else "nothing assigned"
            noun = "account" if accounts == 1 else "accounts"
            out.append((name, f"{accounts} {noun}: {what} · {mfa_word[user.mfa]}"))
    finally:
        directory.close()
    return out
