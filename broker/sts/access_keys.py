"""Long-term access keys for directory service users, as IAM users have them.

At most two per user (IAM's limit). The secret is shown once at creation and never stored in
any form: it is re-derived on each request as an HMAC, under the key ring's user-key secret,
of the access key id. The record file (``<data>/sts/access-keys.json``, 0600) holds only ids,
owners, status and dates, so reading it reveals nothing that signs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from broker.errors import ConfigError, DirectoryError, StsError, UsageError
from broker.private_files import PrivateFiles
from broker.sts.credential_format import USER_KEY_PREFIX, derive_secret, new_access_key_id
from broker.sts.signing_keys import KeyRing

__all__ = [
    "MAX_KEYS_PER_USER",
    "AccessKey",
    "AccessKeyStore",
    "check_user_and_account",
    "default_access_key_file",
    "read_access_keys",
]

_files = PrivateFiles(ConfigError)

MAX_KEYS_PER_USER = 2
_USER_RE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_ACCOUNT_RE = re.compile(r"^\d{12}$")
Status = Literal["Active", "Inactive"]


def default_access_key_file() -> Path:
    """``<data>/sts/access-keys.json``."""
    from broker.config.loader import data_dir

    return data_dir() / "sts" / "access-keys.json"


@dataclass(frozen=True)
class AccessKey:
    """One key's record (no secret)."""

    access_key_id: str
    user: str
    account: str
    status: Status
    created: datetime

    @property
    def user_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user/{self.user}"

    def to_json(self) -> dict[str, Any]:
        return {
            "AccessKeyId": self.access_key_id,
            "UserName": self.user,
            "Account": self.account,
            "Status": self.status,
            "CreateDate": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessKey:
        status = data["Status"]
        if status not in ("Active", "Inactive"):
            raise ValueError("bad status")
        return cls(
            access_key_id=data["AccessKeyId"],
            user=data["UserName"],
            account=data["Account"],
            status=status,
            created=datetime.fromisoformat(data["CreateDate"].replace("Z", "+00:00")),
        )


def check_user_and_account(user: str, account: str) -> None:
    """``UsageError`` unless ``user`` is an IAM user name and ``account`` a 12-digit id."""
    if not _USER_RE.fullmatch(user):
        raise UsageError(f"{user!r} is not a valid user name (IAM: 1-64 of [\\w+=,.@-])")
    if not _ACCOUNT_RE.match(account):
        raise UsageError(f"{account!r} is not a 12-digit account id")


def read_access_keys(path: Path | None = None) -> list[AccessKey]:
    """Every key's record (no secrets, no key ring needed), e.g. for the credential report."""
    return [
        AccessKey.from_json(item)
        for item in _files.read_json(path or default_access_key_file(), [])
    ]


def limit_exceeded(user: str) -> StsError:
    return StsError(
        f"{user} already has {MAX_KEYS_PER_USER} access keys (IAM's limit); delete "
        "one with `broker access-keys delete KEY_ID` first",
        code="LimitExceeded",
    )


_RELOAD_SECONDS = 1.0


class AccessKeyStore:
    """The record file plus the key ring the secrets derive from."""

    def __init__(self, ring: KeyRing, path: Path | None = None) -> None:
        self.ring = ring
        self.path = path or default_access_key_file()
        self._cached: tuple[tuple[int, int, int, int], float, list[AccessKey]] | None = None

    def _load(self) -> list[AccessKey]:
        """The records, re-read when the file changes (one ``stat`` per call otherwise).

        Every write replaces the file, so its inode, times or size change; a re-read at least
        once a second also covers two writes within one timestamp tick that reuse an inode
        and keep the size, so a deactivated key stops working within a second at worst.
        """
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._cached = None
            return []
        stamp = (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)
        cached, now = self._cached, time.monotonic()
        if cached is not None and cached[0] == stamp and now - cached[1] < _RELOAD_SECONDS:
            return list(cached[2])
        keys = read_access_keys(self.path)
        self._cached = (stamp, now, keys)
        return list(keys)

    def _save(self, keys: list[AccessKey]) -> None:
        _files.write_json(self.path, [key.to_json() for key in keys])

    def secret_of(self, key: AccessKey) -> str:
        """The key's secret, re-derived (shown to the user once, at creation)."""
        return derive_secret(self.ring.user_key_secret, "user-key", key.access_key_id)

    def create(self, user: str, account: str) -> tuple[AccessKey, str]:
        """A new Active key for ``user`` in ``account``, and its secret (shown once)."""
        check_user_and_account(user, account)
        key = AccessKey(
            new_access_key_id(USER_KEY_PREFIX),
            user,
            account,
            "Active",
            datetime.now(UTC).replace(microsecond=0),
        )
        self._add(key)
        return key, self.secret_of(key)

    def _add(self, key: AccessKey) -> None:
        """Record ``key``; ``StsError(LimitExceeded)`` past IAM's two keys per user."""
        with _files.locked(self.path):
            keys = self._load()
            if sum(1 for k in keys if (k.user, k.account) == (key.user, key.account)) >= (
                MAX_KEYS_PER_USER
            ):
                raise limit_exceeded(key.user)
            self._save([*keys, key])

    def list(self, user: str | None = None) -> list[AccessKey]:
        return [key for key in self._load() if user is None or key.user == user]

    def get(self, access_key_id: str) -> AccessKey | None:
        for key in self._load():
            if key.access_key_id == access_key_id:
                return key
        return None

    def _change(self, access_key_id: str, status: Status | None) -> AccessKey:
        with _files.locked(self.path):
            keys = self._load()
            found = next((k for k in keys if k.access_key_id == access_key_id), None)
            if found is None:
                raise DirectoryError(
                    f"no access key {access_key_id}; see `broker access-keys list`"
                )
            rest = [k for k in keys if k is not found]
            changed = replace(found, status=status) if status else found
            self._save([*rest, changed] if status else rest)
        return changed

    def set_status(self, access_key_id: str, status: Status) -> AccessKey:
        return self._change(access_key_id, status)

    def delete(self, access_key_id: str) -> AccessKey:
        return self._change(access_key_id, None)
