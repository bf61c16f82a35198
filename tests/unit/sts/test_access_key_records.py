"""Access key records in the state database: no secrets stored, changes seen at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import StsError
from tests.state_support import embedded_state


def test_records_hold_no_secret(tmp_path: Path) -> None:
    state = embedded_state(tmp_path)
    store = state.access_keys()
    assert store.list() == []
    first, secret = store.create("svc-app", "111122223333")
    second, _ = store.create("svc-other", "111122223333")
    store.set_status(second.access_key_id, "Inactive")
    records = state.shared.access_keys.all()
    assert {(k.access_key_id, k.user, k.status) for k in records} == {
        (first.access_key_id, "svc-app", "Active"),
        (second.access_key_id, "svc-other", "Inactive"),
    }
    assert secret.encode() not in (tmp_path / "broker.db").read_bytes()


def test_a_running_store_sees_another_process_deactivate_or_delete_at_once(tmp_path: Path) -> None:
    """The service keeps its store between requests; a change made by ``broker access-keys``
    (another store on the same database) must count at the very next request."""
    from broker.sts.state import open_sts_state

    service = embedded_state(tmp_path).access_keys()
    other = open_sts_state(None, tmp_path, pool_size=1)
    try:
        cli = other.access_keys()
        key, _ = cli.create("svc-app", "111122223333")
        found = service.get(key.access_key_id)
        assert found is not None and found.status == "Active"
        for _ in range(3):
            cli.set_status(key.access_key_id, "Inactive")
            found = service.get(key.access_key_id)
            assert found is not None and found.status == "Inactive"
            cli.set_status(key.access_key_id, "Active")
            found = service.get(key.access_key_id)
            assert found is not None and found.status == "Active"
        cli.delete(key.access_key_id)
        assert service.get(key.access_key_id) is None
        assert service.list() == []
    finally:
        other.close()


def test_two_keys_per_user_count_within_one_account(tmp_path: Path) -> None:
    """IAM's limit is per user, and a user belongs to one account: a same-named user in
    another account has two keys of its own, and a third in the first account is refused."""
    store = embedded_state(tmp_path).access_keys()
    store.create("svc-app", "111122223333")
    store.create("svc-app", "111122223333")
    store.create("svc-app", "444455556666")
    store.create("svc-app", "444455556666")
    with pytest.raises(StsError) as refused:
        store.create("svc-app", "111122223333")
    assert refused.value.code == "LimitExceeded"
    assert len(store.list("svc-app")) == 4
