"""The loaded directory: queries over its SQLite database (``load_directory`` opens one)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from broker.directory.database import exclusive_lock, open_database
from broker.directory.identity import IdentityMapping, claim_value
from broker.directory.naming import (
    FULL_AWS_ACCESS,
    SSO_ROLE_PATH,
    role_arn,
    sso_role_name,
    sso_trust_policy,
)
from broker.directory.runtime import EmbeddedRuntime, RuntimeState
from broker.directory.source import Source
from broker.directory.values import Account, Assignment, Group, PermissionSet, Role, User
from broker.errors import DirectoryError
from providers.base import Claims

__all__ = ["Directory"]


def _tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = json.loads(text)
    return tags


def _held_by(user: User, alias: str) -> tuple[str, list[Any]]:
    """SQL matching rows (``principal_type``, ``principal``) of ``user`` or one of its groups.

    A JIT user is not a directory user: it never matches a directory user's own rows, even if
    a user of that name exists.
    """
    where = f"(({alias}.principal_type = 'user' AND {alias}.principal = ? AND NOT ?)"
    if user.groups:
        marks = ",".join("?" * len(user.groups))
        where += f" OR ({alias}.principal_type = 'group' AND {alias}.principal IN ({marks}))"
    return where + ")", [user.name, user.jit, *user.groups]


class Directory:
    """Read access to one built directory database (thread-safe; writes only runtime state).

    A ``Directory`` is a snapshot of the configuration it was loaded from: call
    ``load_directory`` again to see later changes.
    """

    def __init__(self, path: Path, source: Source, runtime: RuntimeState | None = None) -> None:
        self.path = path
        self.source = source
        self._lock = threading.Lock()
        self._conn = open_database(path)
        self._inode = path.stat().st_ino
        self.runtime: RuntimeState = runtime or EmbeddedRuntime(self._rows, self._write)

    def close(self) -> None:
        self._conn.close()
        self.runtime.close()

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def _write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Change runtime state under the rebuild lock, in the database that is current now.

        A rebuild copies runtime tables under the same lock, so no write is lost between its
        copy and its rename; a connection to a database replaced since is reopened first.
        """
        with self._lock, exclusive_lock(self.path.parent):
            if self.path.stat().st_ino != self._inode:
                self._conn.close()
                self._conn = open_database(self.path)
                self._inode = self.path.stat().st_ino
            return self._conn.execute(sql, tuple(params)).rowcount

    # -- users and groups -----------------------------------------------------------------

    def _groups_of(self, name: str) -> tuple[str, ...]:
        rows = self._rows(
            "SELECT group_name FROM memberships WHERE user_name = ? ORDER BY group_name", (name,)
        )
        return tuple(r[0] for r in rows)

    def _user_from_row(self, row: tuple[Any, ...]) -> User:
        name, email, display_name, tags, service = row
        return User(name, email, display_name, _tags(tags), self._groups_of(name), bool(service))

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

        Used for requests signed with a service user's long-term keys (issue 5); people use
        roles from their assignments instead.
        """
        where, params = _held_by(user, "pp")  # placeholders only: values stay parameters
        sql = (
            "SELECT p.document FROM principal_policies pp JOIN policies p ON p.name = pp.policy "  # noqa: S608
            f"WHERE {where} ORDER BY pp.principal_type DESC, pp.principal, pp.position"
        )
        return [json.loads(r[0]) for r in self._rows(sql, params)]

    def principal_tags(self, user: User) -> Mapping[str, str]:
        """The tags a session of ``user`` carries as ``aws:PrincipalTag/...``."""
        return dict(user.tags)

    # -- organization ---------------------------------------------------------------------

    def _account_from_row(self, row: tuple[Any, ...]) -> Account:
        account_id, name, email, ou, tags, management, root_mfa, root_keys = row
        return Account(
            account_id,
            name,
            email,
            tuple(self._ou_path(ou)),
            _tags(tags),
            bool(management),
            bool(root_mfa),
            bool(root_keys),
        )

    def _ou_path(self, ou: str) -> list[str]:
        """OU names from the root down to ``ou`` (empty for an account under the root)."""
        path: list[str] = []
        while ou != "root" and ou not in path:
            path.insert(0, ou)
            rows = self._rows("SELECT parent FROM ous WHERE name = ?", (ou,))
            ou = rows[0][0] if rows else "root"
        return path

    def accounts(self) -> list[Account]:
        return [
            self._account_from_row(r) for r in self._rows("SELECT * FROM accounts ORDER BY name")
        ]

    def account(self, ref: str) -> Account:
        """The account with id or name ``ref``."""
        rows = self._rows("SELECT * FROM accounts WHERE id = ? OR name = ?", (ref, ref))
        if not rows:
            raise DirectoryError(
                f"no account {ref!r} in the organization; see `broker directory accounts`"
            )
        return self._account_from_row(rows[0])

    def is_management_account(self, account_id: str) -> bool:
        rows = self._rows("SELECT management FROM accounts WHERE id = ?", (account_id,))
        return bool(rows and rows[0][0])

    def ous(self) -> list[tuple[str, str]]:
        """(OU, parent) pairs."""
        return [(r[0], r[1]) for r in self._rows("SELECT name, parent FROM ous ORDER BY name")]

    def _scp_docs(self, target_type: str, target: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT p.document FROM scp_attachments a JOIN scps s ON s.name = a.scp "
            "JOIN policies p ON p.name = s.policy "
            "WHERE a.target_type = ? AND a.target = ? ORDER BY a.position",
            (target_type, target),
        )
        if not rows:  # nothing attached: AWS's default FullAWSAccess applies
            return [dict(FULL_AWS_ACCESS)]
        return [json.loads(r[0]) for r in rows]

    def scp_hierarchy(self, account_id: str) -> list[list[dict[str, Any]]]:
        """SCP documents per level, root first, then each OU down, then the account itself.

        A level with nothing attached holds AWS's default ``FullAWSAccess``.
        Every level must allow an action for it to be allowed (AWS's SCP rule). The management
        account is never limited by SCPs: callers check ``is_management_account`` first.
        """
        account = self.account(account_id)
        levels = [self._scp_docs("root", "root")]
        levels += [self._scp_docs("ou", ou) for ou in account.ou_path]
        levels.append(self._scp_docs("account", account.id))
        return levels

    # -- permission sets, assignments, roles ----------------------------------------------

    def permission_sets(self) -> list[PermissionSet]:
        out = []
        for row in self._rows("SELECT * FROM permission_sets ORDER BY name"):
            name, description, managed, customer, inline, boundary, duration, relay, tags = row
            out.append(
                PermissionSet(
                    name,
                    description,
                    tuple(json.loads(managed)),
                    tuple(json.loads(customer)),
                    inline is not None,
                    boundary,
                    duration,
                    relay,
                    _tags(tags),
                )
            )
        return out

    def assignments_for(self, claims: Claims) -> list[Assignment]:
        """What the person behind ``claims`` may use (each path listed: direct, per group)."""
        return self.assignments_of(self.resolve_user(claims))

    def assignments_of(self, user: User) -> list[Assignment]:
        """``user``'s assignments: direct ones plus those of each of ``user.groups``."""
        where, params = _held_by(user, "a")  # placeholders only: values stay parameters
        sql = (
            "SELECT a.account_id, acc.name, a.permission_set, ps.session_duration, "  # noqa: S608
            "a.principal_type, a.principal FROM assignments a "
            "JOIN accounts acc ON acc.id = a.account_id "
            "JOIN permission_sets ps ON ps.name = a.permission_set WHERE " + where
        )
        out = []
        for account_id, account_name, ps, duration, kind, principal in self._rows(sql, params):
            name = sso_role_name(ps, account_id)
            out.append(
                Assignment(
                    account_id,
                    account_name,
                    ps,
                    name,
                    role_arn(account_id, name, SSO_ROLE_PATH),
                    duration,
                    principal if kind == "group" else None,
                )
            )
        return sorted(out, key=lambda a: (a.account_name, a.permission_set, a.via_group or ""))

    def _policy(self, name: str) -> dict[str, Any]:
        rows = self._rows("SELECT document FROM policies WHERE name = ?", (name,))
        doc: dict[str, Any] = json.loads(rows[0][0])
        return doc

    def role(self, account_id: str, role_name: str) -> Role:
        """The role ``role_name`` in ``account_id``: a configured one, or a permission set's."""
        rows = self._rows(
            "SELECT * FROM roles WHERE account_id = ? AND name = ?", (account_id, role_name)
        )
        if rows:
            _acc, name, path, _desc, trust, policies, boundary, max_duration, tags = rows[0]
            return Role(
                account_id,
                name,
                path,
                role_arn(account_id, name, path),
                self._policy(trust),
                tuple(self._policy(p) for p in json.loads(policies)),
                self._policy(boundary) if boundary else None,
                max_duration,
                _tags(tags),
            )
        return self._sso_role(account_id, role_name)

    def _sso_role(self, account_id: str, role_name: str) -> Role:
        ps_name = role_name.removeprefix("AWSReservedSSO_").rpartition("_")[0]
        rows = self._rows(
            "SELECT ps.* FROM permission_sets ps WHERE ps.name = ? AND EXISTS "
            "(SELECT 1 FROM assignments a WHERE a.permission_set = ps.name AND a.account_id = ?)",
            (ps_name, account_id),
        )
        if not rows or sso_role_name(ps_name, account_id) != role_name:
            raise DirectoryError(
                f"no role {role_name!r} in account {account_id}; see `broker assignments`"
            )
        _n, _d, managed, customer, inline, boundary, duration, _relay, tags = rows[0]
        docs = [self._policy(p) for p in [*json.loads(managed), *json.loads(customer)]]
        if inline is not None:
            docs.append(json.loads(inline))
        return Role(
            account_id,
            role_name,
            SSO_ROLE_PATH,
            role_arn(account_id, role_name, SSO_ROLE_PATH),
            sso_trust_policy(account_id),
            tuple(docs),
            self._policy(boundary) if boundary else None,
            duration,
            _tags(tags),
            ps_name,
        )

    # -- runtime state: MFA devices (``broker.directory.runtime``) --------------------------

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
