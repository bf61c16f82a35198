"""``read_access_keys``: the records without the key ring, for reports."""

from __future__ import annotations

from pathlib import Path

from broker.sts.access_keys import AccessKeyStore, read_access_keys
from broker.sts.signing_keys import KeyRing


def test_read_access_keys_returns_every_record_without_secrets(tmp_path: Path) -> None:
    path = tmp_path / "sts" / "access-keys.json"
    assert read_access_keys(path) == []
    store = AccessKeyStore(KeyRing.load(tmp_path / "keys.json"), path)
    first, secret = store.create("svc-app", "111122223333")
    second, _ = store.create("svc-other", "111122223333")
    store.set_status(second.access_key_id, "Inactive")
    records = read_access_keys(path)
    assert {(k.access_key_id, k.user, k.status) for k in records} == {
        (first.access_key_id, "svc-app", "Active"),
        (second.access_key_id, "svc-other", "Inactive"),
    }
    assert secret not in path.read_text(encoding="utf-8")
