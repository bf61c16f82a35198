"""Profiles per account assignment, as the IAM Identity Center portal lists them.

``broker configure aws`` asks the directory which assignments the person signed in to each
provider holds (``Directory.assignments_of(resolve_user(claims))``) and names one profile per
assignment from a template. What each name stands for is recorded in the store's secret-free
index, so a later cache miss resolves the name by one index read (the cache-hit path of
``credential-process`` is untouched: it never looks here). On every miss the directory is asked
again, so an assignment removed by an administrator stops being served at the next mint.

Template placeholders (``NAME_PLACEHOLDERS``): ``{account_name}``, ``{account_id}``,
``{permission_set}``, ``{role_name}``, ``{provider}``, ``{user}`` (the directory user name).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from broker.client.profiles import Profile, load_profiles
from broker.config.toml_names import toml_key
from broker.errors import ConfigError, DirectoryError, ProviderError, UsageError
from broker.store.index import AssignmentRow, Index
from providers.base import Claims

if TYPE_CHECKING:
    from broker.config import BrokerConfig
    from broker.directory import Directory
    from broker.store.credential_store import CredentialStore
    from broker.sts.state_handle import StateHandle
    from providers.identity_center.portal import HeldRole

__all__ = [
    "DEFAULT_TEMPLATE",
    "NAME_PLACEHOLDERS",
    "AssignmentProfiles",
    "all_profiles",
    "assignment_row",
    "assignment_rows",
    "profile_name",
    "resolve_profile",
    "state_directory",
    "to_profile",
]

DEFAULT_TEMPLATE = "{account_name}.{permission_set}"
NAME_PLACEHOLDERS = (
    "account_name",
    "account_id",
    "permission_set",
    "role_name",
    "provider",
    "user",
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+){1,3}$")

DirectoryLoader = Callable[[], "Directory"]
# The roles an ``aws-identity-center`` provider's person holds (None: not such a provider).
PortalLister = Callable[[str], "Sequence[HeldRole] | None"]
IDENTITY_CENTER_MINTER = "aws-identity-center"


@dataclass(frozen=True)
class AssignmentProfiles:
    """What ``configure aws`` found: rows to record, and lines to tell the user."""

    rows: tuple[AssignmentRow, ...]
    notes: tuple[str, ...]


def _render(template: str, values: dict[str, str]) -> str:
    try:
        name = template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        known = " ".join("{" + p + "}" for p in NAME_PLACEHOLDERS)
        raise UsageError(f"bad name template {template!r} ({exc}); placeholders: {known}") from None
    if not _NAME.match(name):
        raise UsageError(
            f"name template {template!r} gives {name!r}, not a profile name (1-64 of "
            "A-Z a-z 0-9 _ . @ + -, starting with a letter or digit)"
        )
    return name


def profile_name(
    template: str,
    *,
    account_name: str,
    account_id: str,
    permission_set: str,
    role_name: str,
    provider: str,
    user: str,
) -> str:
    """The profile name ``template`` gives one assignment: the one naming rule shared by
    ``configure aws`` and credentials minted from the TUI.

    Raises:
        UsageError: the template is malformed or does not give a valid profile name.
    """
    return _render(
        template,
        {
            "account_name": account_name,
            "account_id": account_id,
            "permission_set": permission_set,
            "role_name": role_name,
            "provider": provider,
            "user": user,
        },
    )


def assignment_row(
    template: str,
    *,
    provider: str,
    user: str,
    account_id: str,
    account_name: str,
    permission_set: str,
    role_name: str,
    duration: int,
    region: str | None = None,
    minter: str | None = None,
) -> AssignmentRow:
    """One assignment as the row recorded for it, named by ``template`` (``profile_name``): the
    one builder for ``configure aws`` (directory, assertion and Identity Center rows) and for
    credentials minted from the TUI. An account listed without a name is named by its id.

    Raises:
        UsageError: the template is malformed or does not give a valid profile name.
    """
    name = profile_name(
        template,
        account_name=account_name or account_id,
        account_id=account_id,
        permission_set=permission_set,
        role_name=role_name,
        provider=provider,
        user=user,
    )
    return AssignmentRow(
        profile=name,
        provider=provider,
        account=account_id,
        account_name=account_name,
        permission_set=permission_set,
        role=role_name,
        duration=duration,
        region=region,
        minter=minter,
    )


def assignment_rows(
    index: Index,
    directory: Directory | None,
    template: str = DEFAULT_TEMPLATE,
    region: str | None = None,
    federated: frozenset[str] = frozenset(),
    names: Mapping[str, str] | None = None,
    portal: PortalLister | None = None,
) -> AssignmentProfiles:
    """One row per assignment held by each person signed in (per provider in ``index``),
    each with ``region`` (written to the AWS config and exported by ``exec``/``env``).
    For an ``aws-identity-center`` provider, ``portal`` lists what the person holds there
    (Identity Center, not the directory, is the authority; its rows mint with that minter).

    For a provider in ``federated`` (``aws_federation`` SAML) the rows are the roles its
    assertion grants, minted by ``aws-saml``; ``names`` names their accounts (else the id).

    Raises:
        UsageError: the template is malformed or gives two assignments the same name.
    """
    if region is not None and not _REGION.match(region):
        raise UsageError(f"{region!r} is not a region name (like eu-west-1)")
    if not index.sessions:
        note = "not signed in, so no assignment profiles: run `broker login`, then this again"
        return AssignmentProfiles((), (note,))
    if directory is None and portal is None and not federated.intersection(index.sessions):
        return AssignmentProfiles((), ("no directory is configured, so no assignment profiles",))
    rows: dict[str, AssignmentRow] = {}
    notes: list[str] = []
    for provider, session in sorted(index.sessions.items()):
        if provider in federated:
            _add_rows(rows, _assertion_rows(session.claims, provider, template, region, names))
            continue
        try:
            listed = portal(provider) if portal is not None else None
        except ProviderError as exc:
            notes.append(f"{provider}: {exc}")
            continue
        if listed is not None:
            _portal_rows(rows, listed, template, provider, session.claims.subject, region)
            if not listed:
                notes.append(f"{provider}: you hold no account assignments there")
            continue
        if directory is None:
            notes.append(f"{provider}: no directory is configured, so no assignment profiles")
            continue
        try:
            user = directory.resolve_user(session.claims)
        except DirectoryError as exc:
            notes.append(f"{provider}: {exc}")
            continue
        held = directory.assignments_of(user)
        if not held:
            notes.append(f"{provider}: {user.name} has no account assignments")
        for a in held:
            row = assignment_row(
                template,
                provider=provider,
                user=user.name,
                account_id=a.account_id,
                account_name=a.account_name,
                permission_set=a.permission_set,
                role_name=a.role_name,
                duration=a.max_session_duration,
                region=region,
            )
            _add_rows(rows, [row], template)
    return AssignmentProfiles(tuple(rows[n] for n in sorted(rows)), tuple(notes))


def _add_rows(
    rows: dict[str, AssignmentRow], new: Iterable[AssignmentRow], template: str = ""
) -> None:
    for row in new:
        other = rows.get(row.profile)
        if other is not None and other != row:  # the same role through two groups is fine
            raise UsageError(
                f"name template {template!r} gives two assignments the name {row.profile!r}; "
                "add {account_id} or {provider} to it"
            )
        rows[row.profile] = row


def _assertion_rows(
    claims: Claims,
    provider: str,
    template: str,
    region: str | None,
    names: Mapping[str, str] | None,
) -> list[AssignmentRow]:
    """Rows for the roles an ``aws_federation`` SAML assertion grants (minted by aws-saml)."""
    from broker.client.assertion_roles import assertion_roles

    user = claims.email or claims.subject
    return [
        assignment_row(
            template,
            provider=provider,
            user=user,
            account_id=role.account_id,
            account_name=role.account_name,
            permission_set=role.role_name,
            role_name=role.role_name,
            duration=role.max_session_seconds,
            region=region,
            minter="aws-saml",
        )
        for role in assertion_roles(claims, names or {})
    ]


def _portal_rows(
    rows: dict[str, AssignmentRow],
    held: Sequence[HeldRole],
    template: str,
    provider: str,
    user: str,
    region: str | None,
) -> None:
    """Rows for what Identity Center lists; the permission set is the role's name there."""
    for h in held:
        row = assignment_row(
            template,
            provider=provider,
            user=user,
            account_id=h.account_id,
            account_name=h.account_name,
            permission_set=h.role_name,
            role_name=h.role_name,
            duration=3600,  # not used: Identity Center sets the session length
            region=region,
            minter=IDENTITY_CENTER_MINTER,
        )
        _add_rows(rows, [row], template)


def to_profile(row: AssignmentRow) -> Profile:
    return Profile(
        name=row.profile,
        provider=row.provider,
        account=row.account,
        role=row.role,
        minter=row.minter or "local",
        duration=row.duration,
        region=row.region,
    )


def _check_held(row: AssignmentRow, index: Index, directory: DirectoryLoader) -> None:
    """Raise unless the person signed in to ``row.provider`` still holds the assignment (for
    an ``aws-saml`` row: unless the stored assertion still grants the role).

    Without a session there is nothing to check: the chain asks for ``broker login``. (An
    Identity Center assignment is not checked here but where it is minted: GetRoleCredentials
    refuses a role the person no longer holds.)
    """
    session = index.sessions.get(row.provider)
    if session is None:
        return
    if row.minter == "aws-saml":
        from broker.minters.aws_saml import role_pairs

        granted = {(p.account_id, p.role_name) for p in role_pairs(session.claims)}
        if (row.account, row.role) not in granted:
            raise ConfigError(
                f"profile {row.profile!r}: the {row.provider} sign-in no longer grants "
                f"{row.role} in {row.account}; run `broker configure aws --prune`"
            )
        return
    loaded = directory()
    user = loaded.resolve_user(session.claims)
    held = loaded.assignments_of(user)
    if any((a.account_id, a.role_name) == (row.account, row.role) for a in held):
        return
    raise ConfigError(
        f"profile {row.profile!r}: {user.name} no longer holds {row.permission_set} in "
        f"{row.account_name} ({row.account}); run `broker configure aws --prune`"
    )


def state_directory(config: BrokerConfig, state: StateHandle) -> DirectoryLoader:
    """The configuration's directory over the front end's state, loaded (and the state opened)
    only when a check needs it."""

    def load() -> Directory:
        from broker.directory import load_directory

        return load_directory(config.directory, state.state().shared.database)

    return load


def resolve_profile(
    config: BrokerConfig,
    store: CredentialStore,
    name: str,
    directory: DirectoryLoader,
) -> Profile:
    """The profile called ``name``: a ``[profiles.NAME]`` table (which wins), else a recorded
    assignment the signed-in person still holds (asked of ``directory``, loaded only then;
    a front end passes ``state_directory`` of its state).

    Raises:
        ConfigError: no such profile, or its assignment was removed.
        ConfigIssues: ``broker.toml`` profiles are invalid.
        DirectoryError: the signed-in person is no longer in the directory.
    """
    explicit = load_profiles(config)
    if name in explicit:
        return _with_source_provider(explicit[name], config, store, directory)
    index = store.read_index()
    row = index.assignments.get(name)
    if row is None:
        known = ", ".join(sorted({*explicit, *index.assignments})) or "none"
        raise ConfigError(
            f"no profile {name!r} (known: {known}); add a [profiles.{toml_key(name)}] table to "
            f"{config.file} or run `broker configure aws` after `broker login`"
        )
    if row.minter != IDENTITY_CENTER_MINTER:  # Identity Center checks at GetRoleCredentials
        _check_held(row, index, directory)
    return to_profile(row)


def _with_source_provider(
    profile: Profile,
    config: BrokerConfig,
    store: CredentialStore,
    directory: DirectoryLoader,
) -> Profile:
    """A chained profile signs in where its source does (``load_profiles`` refuses loops)."""
    if profile.source_profile is None:
        return profile
    try:
        source = resolve_profile(config, store, profile.source_profile, directory)
    except ConfigError as exc:
        raise ConfigError(
            f"profile {profile.name!r}: its source_profile {profile.source_profile!r} is not "
            f"usable: {exc}"
        ) from None
    return dataclasses.replace(profile, provider=source.provider)


def all_profiles(
    config: BrokerConfig,
    store: CredentialStore,
    directory: DirectoryLoader,
    *,
    on_dropped: Callable[[str], None] | None = None,
) -> dict[str, Profile]:
    """Every usable profile: explicit tables, plus recorded assignments still held (those no
    longer held are left out, each reported to ``on_dropped``)."""
    explicit = load_profiles(config)
    index = store.read_index()
    rows: Iterable[AssignmentRow] = [r for n, r in index.assignments.items() if n not in explicit]
    out: dict[str, Profile] = {}
    load = directory
    loaded: list[Directory] = []

    def once() -> Directory:
        if not loaded:
            loaded.append(load())
        return loaded[0]

    for row in rows:
        if row.minter == IDENTITY_CENTER_MINTER:  # checked at GetRoleCredentials
            out[row.profile] = to_profile(row)
            continue
        try:
            _check_held(row, index, once)
        except (ConfigError, DirectoryError) as exc:
            if on_dropped is not None:
                on_dropped(str(exc))
            continue
        out[row.profile] = to_profile(row)
    merged = {**out, **explicit}
    for name, profile in explicit.items():
        if profile.source_profile is None:
            continue
        root: Profile | None = profile
        while root is not None and root.source_profile is not None:
            root = merged.get(root.source_profile)  # load_profiles refused loops
        if root is None:
            if on_dropped is not None:
                on_dropped(f"{name}: its source_profile {profile.source_profile!r} is not usable")
            del merged[name]
            continue
        merged[name] = dataclasses.replace(profile, provider=root.provider)
    return merged
