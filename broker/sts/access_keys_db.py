"""Long-term access key records in the shared database, for replicas on several hosts.

The same ``AccessKeyStore`` (secrets re-derived from the ring, never stored) with its records
in ``broker.storage.SqlAccessKeyRecords``: a key created through one replica signs requests to
every other, a deactivation binds all at once, and IAM's two-keys-per-user limit holds even
when replicas create keys at the same moment.
"""

from __future__ import annotations

from dataclasses import replace

from broker.errors import DirectoryError
from broker.storage.access_key_records import AccessKeyRecord, SqlAccessKeyRecords
from broker.sts.access_keys import AccessKey, AccessKeyStore, Status
from broker.sts.signing_keys import KeyRing

__all__ = ["DatabaseAccessKeyStore"]


def _key(record: AccessKeyRecord) -> AccessKey:
    return AccessKey(
        record.access_key_id, record.user, record.account, record.status, record.created
    )


class DatabaseAccessKeyStore(AccessKeyStore):
    """``AccessKeyStore`` whose records live in the shared-state database."""

    def __init__(self, ring: KeyRing, records: SqlAccessKeyRecords) -> None:
        super().__init__(ring)
        self._records = records

    def _add(self, key: AccessKey) -> None:
        record = AccessKeyRecord(key.access_key_id, key.user, key.account, key.status, key.created)
        self._records.create(record)  # counts and inserts under one lock across replicas

    def _load(self) -> list[AccessKey]:
        return [_key(record) for record in self._records.all()]

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
