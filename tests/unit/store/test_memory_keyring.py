"""``MemoryKeyring`` refuses as the real store does, and no production path uses it."""

from __future__ import annotations

import re

import pytest

from broker.errors import KeyringUnavailableError
from broker.store.memory_keyring import LOCKED_MESSAGE, KeyringState, MemoryKeyring
from tests.conftest import REPO


def test_entries_are_kept_listed_and_removed() -> None:
    keyring = MemoryKeyring()
    keyring.set("h/profile:dev", "one")
    keyring.set("h/profile:dev", "two")
    keyring.set("h/session:corp", "three")
    keyring.set("other/profile:dev", "four")
    assert keyring.get("h/profile:dev") == "two"
    assert keyring.keys_with_prefix("h/") == ["h/profile:dev", "h/session:corp"]
    assert keyring.delete("h/profile:dev") is True
    assert keyring.delete("h/profile:dev") is False
    assert keyring.get("h/profile:dev") is None


def test_a_keyring_that_cannot_list_says_so() -> None:
    keyring = MemoryKeyring(listable=False)
    keyring.set("h/profile:dev", "one")
    assert keyring.keys_with_prefix("h/") is None


@pytest.mark.parametrize("operation", ["get", "set", "delete", "keys_with_prefix"])
def test_locked_refuses_every_call_with_the_real_wording_and_writes_nothing(
    operation: str,
) -> None:
    keyring = MemoryKeyring()
    keyring.set("k", "before")
    keyring.state = KeyringState.LOCKED
    with pytest.raises(KeyringUnavailableError) as refused:
        getattr(keyring, operation)(*(("k", "after") if operation == "set" else ("k",)))
    assert str(refused.value) == LOCKED_MESSAGE
    keyring.state = KeyringState.OPEN
    assert keyring.snapshot() == {"k": "before"}


def test_absent_refuses_naming_what_to_install() -> None:
    keyring = MemoryKeyring()
    keyring.state = KeyringState.ABSENT
    with pytest.raises(KeyringUnavailableError, match="no secure OS keyring"):
        keyring.get("k")


def test_failures_on_demand_hit_only_the_next_calls_of_that_operation() -> None:
    keyring = MemoryKeyring()
    keyring.fail_next("set", times=2)
    for _ in range(2):
        with pytest.raises(KeyringUnavailableError, match="after 4 attempts"):
            keyring.set("k", "v")
    assert keyring.get("k") is None
    keyring.set("k", "v")
    assert keyring.get("k") == "v"
    assert keyring.calls["set"] == 1
    with pytest.raises(ValueError):
        keyring.fail_next("unlock")


def test_only_text_is_stored() -> None:
    with pytest.raises(TypeError):
        MemoryKeyring().set("k", b"bytes")  # type: ignore[arg-type]


def test_no_production_module_imports_the_memory_keyring() -> None:
    importing = re.compile(r"^\s*(from|import)\s+broker\.store(\.memory_keyring|\s+import.*memory)")
    users = [
        path.relative_to(REPO).as_posix()
        for package in ("broker", "providers")
        for path in (REPO / package).rglob("*.py")
        if any(importing.match(line) for line in path.read_text().splitlines())
    ]
    assert users == []
