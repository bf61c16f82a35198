"""The directory's keyring seam goes through the one keyring gate: the same allow-list, the
same lock check and retries, and entries scoped to the data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.directory.keyring_store import KeyringSecrets
from broker.errors import KeyringUnavailableError
from broker.keyring_gate import gate
from broker.keyring_gate.home_id import home_id, scoped_key
from tests.unit.store.test_keyring_allowlist import (  # the same fresh backend choice
    _fresh_keyring_choice,  # noqa: F401 (an autouse fixture)
    collection_failing_with,
    patch_secret_service,
)


@pytest.mark.parametrize(
    "backend", ["keyring.backends.null.Keyring", "keyring.backends.fail.Keyring"]
)
def test_non_os_keyrings_are_refused(tmp_path, monkeypatch, backend: str) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    secrets = KeyringSecrets(tmp_path)
    with pytest.raises(KeyringUnavailableError, match="no secure OS keyring") as caught:
        secrets.set_secret("mfa/alice/totp", "JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in str(caught.value)
    with pytest.raises(KeyringUnavailableError):
        secrets.get_secret("mfa/alice/totp")


class _Backend:
    """A Secret Service client as the gate sees it: a dict of ``(service, key) -> value``."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, key: str) -> str | None:
        return self.items.get((service, key))

    def set_password(self, service: str, key: str, value: str) -> None:
        self.items[(service, key)] = value

    def delete_password(self, service: str, key: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.items.pop((service, key), None) is None:
            raise PasswordDeleteError(key)


def _secrets_over(monkeypatch, data_dir: Path, collection: type) -> tuple[KeyringSecrets, _Backend]:
    """Directory secrets whose Secret Service collection look-ups go to ``collection``."""
    backend = _Backend()
    patch_secret_service(monkeypatch, collection, backend)
    secrets = KeyringSecrets(data_dir)
    secrets.gate._backend = backend
    return secrets, backend


def test_a_locked_keyring_is_refused_before_the_backend_is_asked(tmp_path, monkeypatch) -> None:
    locked = collection_failing_with([], locked=True)
    secrets, backend = _secrets_over(monkeypatch, tmp_path, locked)
    with pytest.raises(KeyringUnavailableError, match="the OS keyring is locked"):
        secrets.set_secret("mfa/alice/totp", "JBSWY3DPEHPK3PXP")
    assert backend.items == {}


def test_a_busy_secret_service_is_retried(tmp_path, monkeypatch) -> None:
    from secretstorage.exceptions import SecretServiceNotAvailableException

    failures: list[Exception] = [SecretServiceNotAvailableException("no reply")] * 2
    secrets, _backend = _secrets_over(monkeypatch, tmp_path, collection_failing_with(failures))
    secrets.set_secret("mfa/alice/totp", "JBSWY3DPEHPK3PXP")
    assert failures == []
    assert secrets.get_secret("mfa/alice/totp") == "JBSWY3DPEHPK3PXP"


def test_entries_are_scoped_to_the_data_directory(tmp_path, monkeypatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    secrets, backend = _secrets_over(monkeypatch, first, collection_failing_with([]))
    other = KeyringSecrets(second, gate=secrets.gate)
    secrets.set_secret("mfa/alice/totp", "JBSWY3DPEHPK3PXP")
    other.set_secret("mfa/alice/totp", "KRSXG5CTMVRXEZLU")
    assert secrets.get_secret("mfa/alice/totp") == "JBSWY3DPEHPK3PXP"
    assert other.get_secret("mfa/alice/totp") == "KRSXG5CTMVRXEZLU"
    assert set(backend.items) == {
        (gate.SERVICE, scoped_key(home_id(first), "mfa/alice/totp")),
        (gate.SERVICE, scoped_key(home_id(second), "mfa/alice/totp")),
    }
    other.delete_secret("mfa/alice/totp")
    assert other.get_secret("mfa/alice/totp") is None
    assert secrets.get_secret("mfa/alice/totp") == "JBSWY3DPEHPK3PXP"


def test_a_seed_written_before_scoping_is_adopted(tmp_path, monkeypatch) -> None:
    secrets, backend = _secrets_over(monkeypatch, tmp_path, collection_failing_with([]))
    backend.items[(gate.SERVICE, "mfa/alice/totp")] = "JBSWY3DPEHPK3PXP"
    assert secrets.get_secret("mfa/alice/totp") == "JBSWY3DPEHPK3PXP"
    scoped = (gate.SERVICE, scoped_key(home_id(tmp_path), "mfa/alice/totp"))
    assert backend.items[scoped] == "JBSWY3DPEHPK3PXP"
