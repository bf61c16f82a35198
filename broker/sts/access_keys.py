"""Long-term access keys for directory service users, as IAM users have them.

At most two per user (IAM's limit). The secret is shown once at creation and never stored in
any form: it is re-derived on each request as an HMAC, under the key ring's user-key secret,
of the access key id. The records (``broker.storage.access_key_records`` in the state
database) hold only ids, owners, status and dates, so reading them reveals nothing that signs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from broker.errors import DirectoryError, StsError, UsageError
from broker.storage.access_key_records import AccessKeyRecord, SqlAccessKeyRecords
from broker.sts.credential_format import USER_KEY_PREFIX, derive_secret, new_access_key_id
from broker.sts.signing_keys import KeyRing

__all__ = [
    "MAX_KEYS_PER_USER",
    "AccessKey",
    "AccessKeyStore",
    "check_user_and_account",
]

MAX_KEYS_PER_USER = 2
_USER_RE = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_ACCOUNT_RE = re.compile(r"^\d{12}$")
Status = Literal["Active", "Inactive"]


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


def limit_exceeded(user: str) -> StsError:
    return StsError(
        f"{user} already has {MAX_KEYS_PER_USER} access keys (IAM's limit); delete "
        "one with `broker access-keys delete KEY_ID` first",
        code="LimitExceeded",
    )


def _key(record: AccessKeyRecord) -> AccessKey:
    return AccessKey(
        record.access_key_id, record.user, record.account, record.status, record.created
    )


class AccessKeyStore:
    """The records in the state database plus the key ring the secrets derive from.

    A key created through one replica signs requests to every other, a deactivation binds all
    at once, and IAM's two-keys-per-user limit holds even when replicas create keys at once.
    """

    def __init__(self, ring: KeyRing, records: SqlAccessKeyRecords) -> None:
        self.ring = ring
        self._records = records

    def secret_of(self, key: AccessKey) -> str:
        """The key's secret, re-derived (shown to the user once, at creation)."""
        return derive_secret(self.ring.user_key_secret, "user-key", key.access_key_id)

    def create(self, user: str, account: str) -> tuple[AccessKey, str]:
        """A new Active key for ``user`` in ``account``, and its secret (shown once).

        Raises:
            StsError: ``LimitExceeded`` past IAM's two keys per user.
        """
        key = self.new_key(user, account)
        return key, self.add(key)

    def new_key(self, user: str, account: str) -> AccessKey:
        """A new Active key's record, not yet stored: its id can be audited before ``add``."""
        check_user_and_account(user, account)
        return AccessKey(
            new_access_key_id(USER_KEY_PREFIX),
            user,
            account,
            "Active",
            datetime.now(UTC).replace(microsecond=0),
        )

    def add(self, key: AccessKey) -> str:
        """Store ``key`` (from ``new_key``); its secret, shown once.

        Raises:
            StsError: ``LimitExceeded`` past IAM's two keys per user.
        """
        record = AccessKeyRecord(key.access_key_id, key.user, key.account, key.status, key.created)
        self._records.create(record)  # counts and inserts under one lock across replicas
        return self.secret_of(key)

    def list(self, user: str | None = None) -> list[AccessKey]:
        return [
            _key(record) for record in self._records.all() if user is None or record.user == user
        ]

    def get(self, access_key_id: str) -> AccessKey | None:
        record = self._records.get(access_key_id)
        return _key(record) if record is not None else None

    def _change(self, access_key_id: str, status: Status | None) -> AccessKey:
        found = self.get(access_key_id)
        done = (
            self._records.set_status(access_key_id, status)
            if status
            else self._records.delete(access_key_id)
        )
        if found is None or not done:
            raise DirectoryError(f"no access key {access_key_id}; see `broker access-keys list`")
        return replace(found, status=status) if status else found

    def set_status(self, access_key_id: str, status: Status) -> AccessKey:
        return self._change(access_key_id, status)

    def delete(self, access_key_id: str) -> AccessKey:
        return self._change(access_key_id, None)
