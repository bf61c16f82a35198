"""Values the screens show, converted from the core's types by ``services`` (no Textual here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations: the portal's first paint need not import the minters
    from broker.minters.base import Credentials

__all__ = [
    "DirectoryTables",
    "MintChoice",
    "MintOutcome",
    "PortalRole",
    "SessionRow",
    "format_account_id",
]


def format_account_id(account_id: str) -> str:
    """``1111 2222 3333``: a 12-digit id in groups of four, as the AWS console shows it."""
    if len(account_id) == 12 and account_id.isdigit():
        return f"{account_id[:4]} {account_id[4:8]} {account_id[8:]}"
    return account_id


@dataclass(frozen=True)
class PortalRole:
    """One role (or permission set) on one account, as the access portal lists it.

    Args:
        account_id: the 12-digit account id.
        account_name: the account's name.
        role_name: the IAM role to assume (``AWSReservedSSO_…`` for permission sets).
        permission_set: the permission set name when the role comes from one.
        role_arn: the role's ARN.
        max_session_seconds: the role's MaxSessionDuration.
        email: the account's root email or alias, searchable.
        tags: the account's tags, matched by ``key=value`` terms.
        via: why the person has it (``user`` or ``group:<name>``).
        fixed_session: the upstream decides the session's length and takes no session policy
            (IAM Identity Center's GetRoleCredentials): the mint dialog asks for neither.
        profile: the ``[profiles.NAME]`` that mints it, when the configuration rather than a
            directory lists the role (an OIDC ``aws_federation`` sign-in's web identity roles).
    """

    account_id: str
    account_name: str
    role_name: str
    permission_set: str | None = None
    role_arn: str = ""
    max_session_seconds: int = 3600
    email: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    via: str = ""
    fixed_session: bool = False
    profile: str | None = None

    @property
    def key(self) -> str:
        """Stable identity for favourites and recent: ``account_id/role_name``."""
        return f"{self.account_id}/{self.role_name}"

    @property
    def label(self) -> str:
        """What the person recognises: the permission set, else the role name."""
        return self.permission_set or self.role_name


@dataclass(frozen=True)
class SessionRow:
    """A cached profile in the store (no secrets: what is cached and until when)."""

    profile: str
    account_id: str
    account_name: str
    role_name: str
    expiration: datetime
    refreshable: bool = False


@dataclass(frozen=True)
class MintChoice:
    """What the mint dialog returns: duration, reason (audited), optional session policy.
    ``seconds`` is None for a role whose upstream sets the length (``fixed_session``)."""

    seconds: int | None
    reason: str | None = None
    session_policy: str | None = None


@dataclass(frozen=True)
class MintOutcome:
    """Minted credentials and the profile name the store keeps them under."""

    profile: str
    credentials: Credentials


@dataclass(frozen=True)
class DirectoryTables:
    """The directory as rows of text for the admin view (no secrets)."""

    users: tuple[tuple[str, ...], ...]
    groups: tuple[tuple[str, ...], ...]
    accounts: tuple[tuple[str, ...], ...]
    permission_sets: tuple[tuple[str, ...], ...]
