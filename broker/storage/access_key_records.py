"""Service users' long-term access key records in the shared database (no secrets).

IAM's limit of two keys per user holds across replicas: ``create`` counts and inserts under the
``access-keys`` section, so two replicas creating at once cannot both pass the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from broker.errors import StsError
from broker.storage.clock import from_micros, micros
from broker.storage.corrupt_rows import ROW_ERRORS, corrupt_row
from broker.storage.database import Database
from broker.storage.state_cache import StateCache

__all__ = ["MAX_KEYS_PER_USER", "AccessKeyRecord", "SqlAccessKeyRecords"]

MAX_KEYS_PER_USER = 2
Status = Literal["Active", "Inactive"]


@dataclass(frozen=True)
class AccessKeyRecord:
    access_key_id: str
    user: str
    account: str
    status: Status
    created: datetime


def _record(database: Database, row: tuple[Any, ...]) -> AccessKeyRecord:
    key_id, user, account, status, created = row
    if status not in ("Active", "Inactive"):
        raise corrupt_row(database, "access_keys", "status")
    state: Status = "Active" if status == "Active" else "Inactive"
    try:
        when = from_micros(int(created))
    except ROW_ERRORS:
        raise corrupt_row(database, "access_keys", "created_us") from None
    return AccessKeyRecord(str(key_id), str(user), str(account), state, when)


class SqlAccessKeyRecords:
    """Access key records over a ``Database``."""

    def __init__(self, database: Database) -> None:
        self._db = database
        # Looked up on every request signed with a long-term key; kept while the database's
        # change counter stands still (any create, status change or delete moves it).
        self._by_id: StateCache[str, AccessKeyRecord | None] = StateCache(database)

    def create(self, record: AccessKeyRecord) -> None:
        """Insert ``record``; ``StsError(LimitExceeded)`` past two keys for the user.

        A user is one account's principal: a same-named user elsewhere has its own two.
        """
        with self._db.transaction(serialize="access-keys") as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM access_keys WHERE user_name = ? AND account = ?",
                (record.user, record.account),
            )
            row = cursor.fetchone()
            if row is not None and int(row[0]) >= MAX_KEYS_PER_USER:
                raise StsError(
                    f"{record.user} already has {MAX_KEYS_PER_USER} access keys (IAM's limit); "
                    "delete one with `broker access-keys delete KEY_ID` first",
                    code="LimitExceeded",
                )
            cursor.execute(
                "INSERT INTO access_keys (access_key_id, user_name, account, status, created_us) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    record.access_key_id,
                    record.user,
                    record.account,
                    record.status,
                    micros(record.created),
                ),
            )

    def get(self, access_key_id: str) -> AccessKeyRecord | None:
        return self._by_id.get(access_key_id, lambda: self._read(access_key_id))

    def _read(self, access_key_id: str) -> AccessKeyRecord | None:
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT access_key_id, user_name, account, status, created_us FROM access_keys "
                "WHERE access_key_id = ?",
                (access_key_id,),
            )
            row = cursor.fetchone()
            return _record(self._db, row) if row else None

    def all(self) -> list[AccessKeyRecord]:
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT access_key_id, user_name, account, status, created_us FROM access_keys "
                "ORDER BY created_us, access_key_id"
            )
            return [_record(self._db, row) for row in cursor.fetchall()]

    def for_user(self, user: str) -> list[AccessKeyRecord]:
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT access_key_id, user_name, account, status, created_us FROM access_keys "
                "WHERE user_name = ? ORDER BY created_us",
                (user,),
            )
            return [_record(self._db, row) for row in cursor.fetchall()]

    def set_status(self, access_key_id: str, status: Status) -> bool:
        with self._db.transaction() as cursor:
            cursor.execute(
                "UPDATE access_keys SET status = ? WHERE access_key_id = ?", (status, access_key_id)
            )
            return cursor.rowcount == 1

    def delete(self, access_key_id: str) -> bool:
        with self._db.transaction() as cursor:
            cursor.execute("DELETE FROM access_keys WHERE access_key_id = ?", (access_key_id,))
            return cursor.rowcount == 1
