"""What the loaded directory hands out: frozen values, JSON-ready, no secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Account", "Assignment", "Group", "PermissionSet", "Role", "User"]


@dataclass(frozen=True)
class User:
    """A directory user (or one provisioned just in time from an IdP's claims)."""

    name: str
    email: str
    display_name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    service: bool = False
    jit: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "tags": dict(self.tags), "groups": list(self.groups)}


@dataclass(frozen=True)
class Group:
    name: str
    description: str
    members: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "members": list(self.members)}


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    email: str
    ou_path: tuple[str, ...]
    tags: Mapping[str, str]
    management: bool
    root_mfa: bool
    root_access_keys: bool

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ou_path": list(self.ou_path), "tags": dict(self.tags)}


@dataclass(frozen=True)
class PermissionSet:
    name: str
    description: str
    managed_policies: tuple[str, ...]
    customer_policies: tuple[str, ...]
    has_inline_policy: bool
    permissions_boundary: str | None
    session_duration: int
    relay_state: str
    tags: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            managed_policies=list(self.managed_policies),
            customer_policies=list(self.customer_policies),
            tags=dict(self.tags),
        )
        return data


@dataclass(frozen=True, order=True)
class Assignment:
    """One role a person may use, and why: directly, or through ``via_group``."""

    account_id: str
    account_name: str
    permission_set: str
    role_name: str
    role_arn: str
    max_session_duration: int
    via_group: str | None = None

    @property
    def via(self) -> str:
        """``direct``, or ``group NAME``."""
        return "direct" if self.via_group is None else f"group {self.via_group}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "via": self.via}


@dataclass(frozen=True)
class Role:
    """A role in an account: materialised from a permission set, or configured plainly.

    Policy documents are parsed JSON (``dict``), ready for ``broker.policy``.
    """

    account_id: str
    name: str
    path: str
    arn: str
    trust_policy: Mapping[str, Any]
    permission_policies: tuple[Mapping[str, Any], ...]
    permissions_boundary: Mapping[str, Any] | None
    max_session_duration: int
    tags: Mapping[str, str]
    permission_set: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "path": self.path,
            "arn": self.arn,
            "trust_policy": dict(self.trust_policy),
            "permission_policies": [dict(p) for p in self.permission_policies],
            "permissions_boundary": (
                dict(self.permissions_boundary) if self.permissions_boundary else None
            ),
            "max_session_duration": self.max_session_duration,
            "tags": dict(self.tags),
            "permission_set": self.permission_set,
        }
