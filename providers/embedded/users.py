"""The demo users of the embedded IdP, read from ``idp/demo-users.toml`` in the config directory."""

from __future__ import annotations

import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path

from broker.config.schema import ConfigIssues, from_table
from broker.errors import ConfigError

__all__ = ["ISSUER", "DemoUser", "load_users", "subject_for"]

ISSUER = "https://development-only.embedded-idp.invalid"
"""The embedded issuer's identifier: the same in every process (so tokens stay verifiable),
marked development-only, and under ``.invalid`` (RFC 2606) so it can never resolve to a real
host: the broker reaches this issuer in-process only."""

_SUBJECTS = uuid.uuid5(uuid.NAMESPACE_URL, ISSUER)


def subject_for(username: str) -> str:
    """The stable OIDC subject of a demo user: a UUIDv5 of the user name under the issuer."""
    return str(uuid.uuid5(_SUBJECTS, username))


@dataclass(frozen=True)
class DemoUser:
    """One demo user. ``mfa`` says whether the ID token's ``amr`` carries ``mfa``."""

    username: str
    email: str
    name: str
    groups: tuple[str, ...] = ()
    mfa: bool = False

    @property
    def subject(self) -> str:
        return subject_for(self.username)


@dataclass(frozen=True)
class _UsersFile:
    users: tuple[DemoUser, ...]


def load_users(config_dir: Path) -> dict[str, DemoUser]:
    """The demo users by user name.

    Raises:
        ConfigError: the file is missing, not TOML, or breaks the schema.
    """
    path = config_dir / "idp" / "demo-users.toml"
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except OSError:
        raise ConfigError(
            f"{path}: cannot read the embedded IdP's demo users; restore the file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    loaded, issues = from_table(_UsersFile, table, file=str(path))
    if loaded is None:
        raise ConfigIssues(issues)
    users: dict[str, DemoUser] = {}
    for user in loaded.users:
        if user.username in users:
            raise ConfigError(f"{path}: user {user.username!r} is listed twice")
        users[user.username] = user
    if not users:
        raise ConfigError(f"{path}: no demo users; add at least one [[users]] table")
    return users
