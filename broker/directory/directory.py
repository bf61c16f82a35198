"""The loaded directory (``load_directory`` opens one): people and identity mapping here,
the organization in ``organization.py``, permission sets and roles in ``access.py``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from broker.directory.access import AccessQueries
from broker.directory.federation import FederationQueries
from broker.directory.handle import held_by, tags_of
from broker.directory.identity import IdentityMapping, claim_value
from broker.directory.organization import OrganizationQueries
from broker.directory.runtime import RuntimeState
from broker.directory.source import Source
from broker.directory.values import Assignment, Group, User
from broker.errors import DirectoryError
from providers.base import Claims

__all__ = ["Directory"]


class Directory(OrganizationQueries, AccessQueries, FederationQueries):
    """Read access to one directory snapshot (thread-safe; writes only runtime state).

    A ``Directory`` is a snapshot of the configuration it was loaded from: call
    ``load_directory`` again to see later changes. Runtime state (MFA devices, JIT users) goes
    through ``runtime``, the state database's tables every replica shares.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        source: Source,
        runtime: RuntimeState,
    ) -> None:
        super().__init__(connection, source)
        self.runtime = runtime
        self._on_close: list[Callable[[], None]] = []

    def add_on_close(self, release: Callable[[], None]) -> None:
        """Have ``close`` also call ``release`` (a state opened only for this directory)."""
        self._on_close.append(release)

    def close(self) -> None:
        super().close()
        for release in self._on_close:
            release()

    # -- users and groups -----------------------------------------------------------------

    def _groups_of(self, name: str) -> tuple[str, ...]:
        rows = self._rows(
            "SELECT group_name FROM memberships WHERE user_name = ? ORDER BY group_name", (name,)
        )
        return tuple(r[0] for r in rows)

    def _user_from_row(self, row: tuple[Any, ...]) -> User:
        name, email, display_name, tags, service = row
        return User(name, email, display_name, tags_of(tags), self._groups_of(name), bool(service))

    def user(self, name: str) -> User:
        """The directory user ``name``; DirectoryError if there is none."""
        rows = self._rows("SELECT * FROM users WHERE name = ?", (name,))
        if not rows:
            raise DirectoryError(f"no user {name!r} in the directory; see `broker directory users`")
        return self._user_from_row(rows[0])

    def users(self) -> list[User]:
        return [self._user_from_row(r) for r in self._rows("SELECT * FROM users ORDER BY name")]

    def groups(self) -> list[Group]:
        members: dict[str, list[str]] = {}
        for user, group in self._rows("SELECT user_name, group_name FROM memberships"):
            members.setdefault(group, []).append(user)
        return [
            Group(name, description, tuple(sorted(members.get(name, []))))
            for name, description in self._rows("SELECT * FROM groups ORDER BY name")
        ]

    def identity_mapping(self, provider: str) -> IdentityMapping:
        rows = self._rows("SELECT mapping FROM identity_mappings WHERE provider = ?", (provider,))
        if not rows:
            raise DirectoryError(
                f"no identity mapping for provider {provider!r}; add [identity.{provider}] "
                "to directory/identity.toml"
            )
        return IdentityMapping.from_json(provider, json.loads(rows[0][0]))

    def resolve_user(self, claims: Claims) -> User:
        """The user ``claims`` stand for, with mapped IdP groups and principal tags merged in.

        Raises:
            DirectoryError: no mapping for the provider, the identifying claim is missing,
                or the person is unknown and the mapping refuses unknown users.
        """
        mapping = self.identity_mapping(claims.provider)
        value = claim_value(claims, mapping.user_claim)
        if not value:
            raise DirectoryError(
                f"the sign-in from {claims.provider!r} carries no {mapping.user_claim!r} claim; "
                f"fix user_claim in [identity.{claims.provider}]"
            )
        if mapping.user_claim == "email" and claims.attributes.get("email_verified") == ("false",):
            raise DirectoryError(
                f"{claims.provider!r} says {value!r} is not verified; verify it at the identity "
                "provider, or map users by sub"
            )
        column = "email" if mapping.match_on == "email" else "name"
        rows = self._rows(f"SELECT * FROM users WHERE {column} = ?", (value,))  # noqa: S608
        idp_groups = mapping.directory_groups(claims)
        claim_tags = mapping.claim_tags(claims)
        if rows:
            user = self._user_from_row(rows[0])
            groups = tuple(sorted({*user.groups, *idp_groups}))
            return User(
                user.name,
                user.email,
                user.display_name,
                {**user.tags, **claim_tags},
                groups,
                user.service,
            )
        if mapping.unknown_users != "jit":
            raise DirectoryError(
                f"{value!r} from provider {claims.provider!r} is not in the directory; "
                "ask an administrator to add them to directory/users.toml"
            )
        self.runtime.record_jit_user(claims.provider, claims.subject, value, claims.email or "")
        return User(value, claims.email or "", claims.name or "", claim_tags, idp_groups, jit=True)

    def identity_policies(self, user: User) -> list[dict[str, Any]]:
        """Identity policies ``user`` holds as an IAM user: its own, then each group's.

        Used for requests signed with a service user's long-term keys (``broker access-keys``);
        people use roles from their assignments instead.
        """
        where, params = held_by(user, "pp")  # placeholders only: values stay parameters
        sql = (
            "SELECT p.document FROM principal_policies pp JOIN policies p ON p.name = pp.policy "  # noqa: S608
            f"WHERE {where} ORDER BY pp.principal_type DESC, pp.principal, pp.position"
        )
        return [json.loads(r[0]) for r in self._rows(sql, params)]

    def principal_tags(self, user: User) -> Mapping[str, str]:
        """The tags a session of ``user`` carries as ``aws:PrincipalTag/...``."""
        return dict(user.tags)

    def assignments_for(self, claims: Claims) -> list[Assignment]:
        """What the person behind ``claims`` may use (each path listed: direct, per group)."""
        return self.assignments_of(self.resolve_user(claims))

    # -- runtime state: MFA devices --------------------------------------------------------

    def mfa_devices(self, user: str) -> list[str]:
        return self.runtime.mfa_devices(user)

    def add_mfa_device(self, user: str, device: str) -> None:
        self.user(user)
        self.runtime.add_mfa_device(user, device)

    def mfa_last_step(self, user: str, device: str) -> int | None:
        return self.runtime.mfa_last_step(user, device)

    def set_mfa_last_step(self, user: str, device: str, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later one) already was (atomic)."""
        return self.runtime.set_mfa_last_step(user, device, step)

    def remove_mfa_device(self, user: str, device: str) -> None:
        self.runtime.remove_mfa_device(user, device)

    def counts(self) -> dict[str, int]:
        """How many of each thing the directory holds (``broker directory show``)."""
        tables = ("accounts", "ous", "scps", "users", "groups", "permission_sets", "assignments")
        return {t: self._rows(f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables}  # noqa: S608
