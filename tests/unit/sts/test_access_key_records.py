"""``read_access_keys``: the records without the key ring, for reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import StsError
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


def test_a_running_store_sees_another_process_deactivate_or_delete_at_once(tmp_path: Path) -> None:
    """The service keeps the records between requests; a change made by ``broker access-keys``
    (another store on the same file) must count at the very next request."""
    path = tmp_path / "sts" / "access-keys.json"
    ring = KeyRing.load(tmp_path / "keys.json")
    service, cli = AccessKeyStore(ring, path), AccessKeyStore(ring, path)
    key, _ = cli.create("svc-app", "111122223333")
    found = service.get(key.access_key_id)
    assert found is not None and found.status == "Active"
    for _ in range(3):  # same size, back and forth, within one timestamp tick
        cli.set_status(key.access_key_id, "Inactive")
        found = service.get(key.access_key_id)
        assert found is not None and found.status == "Inactive"
        cli.set_status(key.access_key_id, "Active")
        found = service.get(key.access_key_id)
        assert found is not None and found.status == "Active"
    cli.delete(key.access_key_id)
    assert service.get(key.access_key_id) is None
    path.unlink()
    assert service.list() == []


def test_two_keys_per_user_count_within_one_account(tmp_path: Path) -> None:
    """IAM's limit is per user, and a user belongs to one account: a same-named user in
    another account has two keys of its own, and a third in the first account is refused."""
    store = AccessKeyStore(KeyRing.load(tmp_path / "keys.json"), tmp_path / "access-keys.json")
    store.create("svc-app", "111122223333")
    store.create("svc-app", "111122223333")
    store.create("svc-app", "444455556666")
    store.create("svc-app", "444455556666")
    with pytest.raises(StsError) as refused:
        store.create("svc-app", "111122223333")
    assert refused.value.code == "LimitExceeded"
    assert len(store.list("svc-app")) == 4
